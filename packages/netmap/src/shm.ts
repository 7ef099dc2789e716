// shm.ts: a shared-memory pipe endpoint. The region is a /dev/shm file mapped MAP_SHARED (unrelated processes and
// threads meet by name; wake-ups are FIFO doorbells beside it, which are also the pollable fd), or a
// SharedArrayBuffer handed to workers (wake-ups with Atomics.waitAsync/notify). Refcounts and pids live in the
// region's header: a killed peer is detected, a stale region is replaced, the last closer removes the files.
import { closeSync, constants as FS, fstatSync, ftruncateSync, openSync, unlinkSync } from 'node:fs'
import { EventFd, FdWatcher, type MappedRegion, memfdCreate, mmap, type OwnedFd, read, write } from '@x/native'
import { RingView } from '@x/ring'
import { binding } from './binding.js'
import { NetmapError } from './errors.js'
import { PipeKring } from './kring.js'
import {
  SHM_HEADER as H,
  ifOffset,
  KRING_LINE,
  kringIndex,
  NM_PIPE_MAXRINGS,
  NM_PIPE_MAXSLOTS,
  PID_SLOTS,
  type PipeGeometry,
  pipeGeometry,
  ringOffset,
  STATE_READY,
} from './layout.js'
import { formatPipeRegion, readGeometry } from './region.js'
import { RESOLVED } from './ring.js'

export const SHM_DIR = process.env.X_NETMAP_SHM_DIR ?? '/dev/shm'

export function regionPath(parent: string, id: string, dir = SHM_DIR): string {
  return `${dir}/netmap-${parent}-${id}`
}

const noop = (): void => {}
/** Opens of each end per region in this thread (regions by path, SharedArrayBuffer and memfd ones by buffer). */
const localByPath = new Map<string, [number, number]>()
const localByBuffer = new WeakMap<ArrayBuffer | SharedArrayBuffer, [number, number]>()
function localOpens(key: string | ArrayBuffer | SharedArrayBuffer): [number, number] {
  let c = typeof key === 'string' ? localByPath.get(key) : localByBuffer.get(key)
  if (!c) {
    c = [0, 0]
    if (typeof key === 'string') localByPath.set(key, c)
    else localByBuffer.set(key, c)
  }
  return c
}
/** A gap between two clock reads of a spin that means the spinning thread was descheduled (20 µs). */
const PREEMPTED_MS = 0.02
/** ShmEndpoint's spin outcomes. */
const SPIN_READY = 0
const SPIN_GAVE_UP = 1
const SPIN_PEER_WAITS = 2
const sleepCell = new Int32Array(new SharedArrayBuffer(4))
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms)
}

export function pidAlive(pid: number): boolean {
  if (pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A SharedArrayBuffer pipe region for worker threads: pass it in workerData and open with `.sharedMemory(sab)`. */
export function createSharedPipe(
  options: { parent?: string; id?: string; rings?: number; slots?: number; bufSize?: number } = {},
): SharedArrayBuffer {
  const g = checkedGeometry(options.rings ?? 1, options.slots ?? 1024, options.bufSize)
  const sab = new SharedArrayBuffer(g.total)
  formatPipeRegion(sab, g, options.parent ?? 'pipe', options.id ?? '0', process.pid)
  return sab
}

function checkedGeometry(rings: number, slots: number, bufSize?: number): PipeGeometry {
  if (!Number.isInteger(rings) || rings < 1 || rings > NM_PIPE_MAXRINGS)
    throw new NetmapError('BindFail', `pipe rings must be 1..${NM_PIPE_MAXRINGS}, got ${rings}`)
  if (!Number.isInteger(slots) || slots < 2 || slots > NM_PIPE_MAXSLOTS)
    throw new NetmapError('BindFail', `pipe slots must be 2..${NM_PIPE_MAXSLOTS}, got ${slots}`)
  return pipeGeometry(rings, slots, bufSize)
}

export interface ShmOpenOptions {
  parent: string
  id: string
  endpoint: 0 | 1
  /** -1: all ring pairs (ALL_NIC), else ONE_NIC ring pair k. */
  ring: number
  rings: number
  slots: number
  exclusive: boolean
  shared?: SharedArrayBuffer
  /** A region inherited as fds (memfd + two eventfd doorbells), e.g. from createPipeMemfd() via stdio. */
  inherited?: InheritedPipe
  dir?: string
}

export interface InheritedPipe {
  readonly region: number
  readonly bells: readonly [number, number]
}

/** A pipe region in a memfd with eventfd doorbells, to hand to child processes in `stdio` (no name in /dev/shm). */
export class PipeMemfd implements Disposable {
  readonly region: OwnedFd
  readonly bells: readonly [EventFd, EventFd]

  constructor(options: { parent?: string; id?: string; rings?: number; slots?: number } = {}) {
    const g = checkedGeometry(options.rings ?? 1, options.slots ?? 1024)
    this.region = memfdCreate(`netmap-${options.parent ?? 'pipe'}-${options.id ?? '0'}`, { size: g.total })
    this.bells = [new EventFd(0), new EventFd(0)]
    const map = mmap(this.region, g.total)
    try {
      formatPipeRegion(map.buffer, g, options.parent ?? 'pipe', options.id ?? '0', process.pid)
    } finally {
      map.unmap()
    }
  }

  /** The fd numbers, for `.inherited()` in this process. */
  get fds(): InheritedPipe {
    return { region: this.region.fd, bells: [this.bells[0].fd, this.bells[1].fd] }
  }

  /** For spawn's stdio: [..., region, bell0, bell1] land as fds 3, 4, 5 → `.inherited({ region: 3, bells: [4, 5] })`. */
  get stdio(): number[] {
    return [this.region.fd, this.bells[0].fd, this.bells[1].fd]
  }

  close(): void {
    this.region.close()
    this.bells[0].close()
    this.bells[1].close()
  }

  [Symbol.dispose](): void {
    this.close()
  }
}

class EventFdBells implements Doorbells {
  readonly #fds: readonly [number, number]
  readonly #own: number
  #watcher: FdWatcher | null = null
  readonly #one = new Uint8Array(new BigUint64Array([1n]).buffer)
  readonly #scratch = new Uint8Array(8)
  constructor(fds: readonly [number, number], own: number) {
    this.#fds = fds
    this.#own = own
  }
  get fd(): number {
    return this.#fds[this.#own]!
  }
  ring(endpoint: number): void {
    write(this.#fds[endpoint]!, this.#one)
  }
  arm(): number {
    return 0 // an eventfd stays readable until read
  }
  async wait(_token: number, signal?: AbortSignal): Promise<void> {
    this.#watcher ??= new FdWatcher(this.fd)
    await this.#watcher.wait('readable', signal)
    read(this.fd, this.#scratch)
  }
  close(): void {
    this.#watcher?.close()
    this.#watcher = null
  }
}

interface Doorbells {
  readonly fd: number
  ring(endpoint: number): void
  /** A token taken before the readiness re-check, so a ring between the check and the sleep is not lost. */
  arm(): number
  wait(token: number, signal?: AbortSignal): Promise<void>
  close(): void
}

class FifoBells implements Doorbells {
  readonly #fds: number[]
  readonly #own: number
  #watcher: FdWatcher | null = null
  readonly #scratch = new Uint8Array(64)
  constructor(paths: string[], own: number) {
    this.#fds = paths.map((p) => openSync(p, FS.O_RDWR | FS.O_NONBLOCK))
    this.#own = own
  }
  get fd(): number {
    return this.#fds[this.#own]!
  }
  ring(endpoint: number): void {
    write(this.#fds[endpoint]!, this.#scratch.subarray(0, 1)) // EAGAIN: already rung
  }
  arm(): number {
    return 0 // level-triggered: a byte written before the sleep keeps the FIFO readable
  }
  async wait(_token: number, signal?: AbortSignal): Promise<void> {
    this.#watcher ??= new FdWatcher(this.fd)
    await this.#watcher.wait('readable', signal)
    while (read(this.fd, this.#scratch) === this.#scratch.length);
  }
  close(): void {
    this.#watcher?.close()
    this.#watcher = null
    for (const fd of this.#fds) closeSync(fd)
    this.#fds.length = 0
  }
}

type WaitAsync = (
  a: Int32Array,
  i: number,
  v: number,
) => { async: false; value: string } | { async: true; value: Promise<string> }
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync

class AtomicBells implements Doorbells {
  readonly fd = -1
  readonly #h: Int32Array
  readonly #own: number
  constructor(h: Int32Array, own: number) {
    this.#h = h
    this.#own = own
  }
  ring(endpoint: number): void {
    Atomics.add(this.#h, H.bell / 4 + endpoint, 1)
    Atomics.notify(this.#h, H.bell / 4 + endpoint)
  }
  arm(): number {
    return Atomics.load(this.#h, H.bell / 4 + this.#own)
  }
  async wait(token: number, signal?: AbortSignal): Promise<void> {
    const i = H.bell / 4 + this.#own
    const r = waitAsync(this.#h, i, token)
    if (!r.async) return
    if (!signal) {
      await r.value
      return
    }
    signal.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        reject(signal.reason)
        Atomics.notify(this.#h, i) // releases the waiter
      }
      signal.addEventListener('abort', onAbort, { once: true })
      void r.value.then(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      })
    })
  }
  close(): void {}
}

/** One open of one end of a pipe. */
export class ShmEndpoint {
  readonly geometry: PipeGeometry
  readonly buffer: ArrayBuffer | SharedArrayBuffer
  readonly endpoint: 0 | 1
  readonly path: string | null
  /** nr_offset / nr_memsize as NETMAP_REQ_REGISTER reports them; the region base is `ifOff` in `buffer`. */
  readonly nrOffset: number
  readonly memsize: number
  readonly firstRing: number
  readonly lastRing: number
  readonly txKrings: PipeKring[] = []
  /** Most microseconds a wait spins re-checking readiness before it sleeps (0: no spin). See waitFor. */
  spinUs = Number(process.env.X_NETMAP_SPIN_US ?? 200)
  /** The spin stops when the peer has not moved for this many microseconds (it is descheduled, or idle). */
  stallUs = Number(process.env.X_NETMAP_STALL_US ?? 50)
  /**
   * SharedArrayBuffer pipes: most microseconds of a blocking doorbell sleep (Atomics.wait) before the async one.
   * Off by default (0): on a quiet 2-vCPU VM it cost throughput, and it blocks the event loop (see the README).
   */
  blockUs = Number(process.env.X_NETMAP_BLOCK_US ?? 0)
  /** Opens of each end of this region in this thread (shared by the endpoints of one region). */
  readonly #local: [number, number]
  /** The current spin length in µs (adaptive, ≤ spinUs; see #spin). */
  #spinBudget = this.spinUs
  readonly rxKrings: PipeKring[] = []
  readonly #h: Int32Array
  readonly #map: MappedRegion | null
  readonly #bells: Doorbells
  #pidSlot: number
  #closed = false
  #sleepers = 0
  /** Waiters of this open counted in the region's `asleep` word. */
  #asleepHere = 0
  #keepAlive: NodeJS.Timeout | null = null
  /** Threads of one process share a pid: peer death is only detectable across processes. */
  readonly #checkPeer: boolean

  private constructor(
    buffer: ArrayBuffer | SharedArrayBuffer,
    map: MappedRegion | null,
    path: string | null,
    o: ShmOpenOptions,
  ) {
    this.buffer = buffer
    this.#map = map
    this.path = path
    this.endpoint = o.endpoint
    const g = readGeometry(buffer)
    this.geometry = g
    this.#h = new Int32Array(buffer, 0, g.ifOff / 4)
    if (o.ring >= g.nRings)
      throw new NetmapError('BindFail', `ring pair ${o.ring} does not exist (the pipe has ${g.nRings})`)
    this.firstRing = Math.max(o.ring, 0)
    this.lastRing = o.ring < 0 ? g.nRings - 1 : o.ring
    this.nrOffset = ifOffset(g, o.endpoint, o.ring)
    this.memsize = g.memsize
    // register: exclusive bits, refcount, pid slot
    const e = o.endpoint
    const h = this.#h
    if (Atomics.load(h, H.excl / 4 + e) !== 0 && this.#liveOpens(e) > 0)
      throw new NetmapError('BindFail', `${o.parent}${e ? '}' : '{'}${o.id} is open exclusively (EBUSY)`)
    if (o.exclusive) {
      if (this.#liveOpens(e) > 0)
        throw new NetmapError('BindFail', `${o.parent}${e ? '}' : '{'}${o.id} is already open (EBUSY)`)
      Atomics.store(h, H.excl / 4 + e, 1)
    }
    let slot = -1
    for (let i = 0; i < PID_SLOTS && slot < 0; i++) {
      if (Atomics.compareExchange(h, H.pids / 4 + e * PID_SLOTS + i, 0, process.pid) === 0) slot = i
    }
    if (slot < 0) throw new NetmapError('BindFail', `too many opens of one pipe end (max ${PID_SLOTS})`)
    this.#pidSlot = slot
    this.#checkPeer = o.shared === undefined
    // no live open of this end: a count left by a process killed while asleep would stop the peer's spin for good
    if (this.#liveOpens(e) === 0) Atomics.store(h, H.asleep / 4 + e, 0)
    Atomics.add(h, H.refs / 4 + e, 1)
    this.#bells = o.shared
      ? new AtomicBells(h, e)
      : o.inherited
        ? new EventFdBells(o.inherited.bells, e)
        : new FifoBells([`${path}.bell0`, `${path}.bell1`], e)
    const peer = 1 - e
    const base = g.ifOff
    const view = (k: number): RingView =>
      new RingView(buffer, base + ringOffset(g, k), { numSlots: g.numSlots, atomic: false })
    const line = (k: number): Int32Array => new Int32Array(buffer, g.krings + k * KRING_LINE, KRING_LINE / 4)
    const notify = (): void => this.#kick(peer)
    for (let i = 0; i < g.nRings; i++) {
      const tk = kringIndex(g, e, true, i)
      const prk = kringIndex(g, peer, false, i)
      const rk = kringIndex(g, e, false, i)
      const ptk = kringIndex(g, peer, true, i)
      this.txKrings.push(new PipeKring(view(tk), view(prk), line(tk), line(prk), true, notify))
      this.rxKrings.push(new PipeKring(view(rk), view(ptk), line(rk), line(ptk), false, notify))
    }
    this.#local = localOpens(path ?? buffer)
    this.#local[e]++
  }

  static open(o: ShmOpenOptions): ShmEndpoint {
    if (o.shared) return new ShmEndpoint(o.shared, null, null, o)
    if (o.inherited) {
      const map = mmap(o.inherited.region, fstatSync(o.inherited.region).size)
      try {
        return new ShmEndpoint(map.buffer, map, null, o)
      } catch (err) {
        map.unmap()
        throw err
      }
    }
    const path = regionPath(o.parent, o.id, o.dir)
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd: number
      let creator = false
      try {
        fd = openSync(path, FS.O_RDWR | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o600)
        creator = true
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new NetmapError('BindFail', `cannot create ${path}: ${(err as Error).message}`, { cause: err })
        try {
          fd = openSync(path, FS.O_RDWR | FS.O_NOFOLLOW)
        } catch (e2) {
          if ((e2 as NodeJS.ErrnoException).code === 'ENOENT') continue // removed meanwhile
          throw new NetmapError('BindFail', `cannot open ${path}: ${(e2 as Error).message}`, { cause: e2 })
        }
      }
      let map: MappedRegion | null = null
      try {
        if (creator) {
          const g = checkedGeometry(o.rings, o.slots)
          ftruncateSync(fd, g.total)
          for (const b of ['.bell0', '.bell1']) {
            try {
              unlinkSync(path + b)
            } catch {}
            const r = binding.mkfifo(path + b, 0o600)
            if (r < 0) throw new NetmapError('BindFail', `mkfifo ${path}${b} failed (${r})`)
          }
          map = mmap(fd, g.total)
          const h = new Int32Array(map.buffer, 0, 1024)
          h[H.creator / 4] = process.pid
          formatPipeRegion(map.buffer, g, o.parent, o.id, process.pid)
        } else {
          map = joinMap(fd, path)
          if (map === null) {
            removeRegionFiles(path) // stale: every process that had it open is gone
            closeSync(fd)
            continue
          }
        }
        closeSync(fd)
        const ep = new ShmEndpoint(map.buffer, map, path, o)
        return ep
      } catch (err) {
        map?.unmap()
        try {
          closeSync(fd)
        } catch {}
        if (creator) removeRegionFiles(path)
        throw err
      }
    }
    throw new NetmapError('BindFail', `cannot open ${path}: it keeps disappearing`)
  }

  #liveOpens(e: number): number {
    let n = 0
    for (let i = 0; i < PID_SLOTS; i++) if (pidAlive(Atomics.load(this.#h, H.pids / 4 + e * PID_SLOTS + i))) n++
    return n
  }

  /** The peer end: 'open', 'never' (not opened yet, or closed cleanly), or 'dead' (a process died holding it). */
  peerState(): 'open' | 'closed' | 'dead' {
    const p = 1 - this.endpoint
    let dead = false
    for (let i = 0; i < PID_SLOTS; i++) {
      const pid = Atomics.load(this.#h, H.pids / 4 + p * PID_SLOTS + i)
      if (pid === 0) continue
      if (pidAlive(pid)) return 'open'
      dead = true
    }
    return dead ? 'dead' : 'closed'
  }

  get fd(): number {
    return this.#bells.fd
  }

  #kick(endpoint: number): void {
    const i = H.kick / 4 + endpoint
    if (Atomics.load(this.#h, i) !== 0) {
      Atomics.store(this.#h, i, 0)
      this.#bells.ring(endpoint)
    }
  }

  /**
   * Waits until `ready()` holds, in three steps, none of them a busy loop against an idle or dead peer:
   * 1. an adaptive spin: re-checks `ready()` while the peer is making progress (its head moved within the last
   *    `stallUs`, which also covers a kicked peer's wake-up); never while it sleeps waiting for this end, never after
   *    it stopped moving for `stallUs` (descheduled, idle, or slow to wake), never once this thread was preempted,
   *    and never longer than `spinUs` in all (less on a loaded machine: see #spin);
   * 2. SharedArrayBuffer pipes, when `blockUs` > 0 (X_NETMAP_BLOCK_US; off by default): a short blocking sleep on
   *    the doorbell (Atomics.wait, at most `blockUs`), with
   *    need_kick armed: a wake-up there takes a futex hand-off (a few µs) instead of an event-loop turn, and the CPU
   *    goes to the peer meanwhile;
   * 3. the asynchronous sleep: need_kick armed, re-check, doorbell (waitAsync, or the FIFO/eventfd through libuv).
   * When the peer end is open in this same thread, steps 1 and 2 are skipped (it cannot move meanwhile). Steps 1 and
   * 2 block this thread's event loop (at most spinUs + blockUs, 200 µs by default, once per wait), as the 50 µs spin
   * did before them. Rejects with PeerGone when the peer's process died (checked on a 250 ms watchdog while asleep).
   */
  waitFor(ready: () => boolean, signal?: AbortSignal): Promise<void> {
    if (ready()) return RESOLVED
    // the peer open in this thread cannot move while this thread spins or blocks: sleep at once
    if (this.#local[1 - this.endpoint] > 0) return this.#waitSlow(ready, signal)
    const s = this.spinUs > 0 ? this.#spin(ready) : SPIN_GAVE_UP
    if (s === SPIN_READY) return RESOLVED
    if (s === SPIN_GAVE_UP && this.blockUs > 0 && this.#bells instanceof AtomicBells && !signal?.aborted)
      if (this.#block(ready)) return RESOLVED
    return this.#waitSlow(ready, signal)
  }

  /** The sum of the peer's progress words over the bound krings (see PipeKring.peerActivity). */
  #peerActivity(): number {
    let a = 0
    for (let i = this.firstRing; i <= this.lastRing; i++)
      a += this.txKrings[i]!.peerActivity() + this.rxKrings[i]!.peerActivity()
    return a
  }

  /**
   * Step 1 (see waitFor). Allocation-free; the clock is read every 16 polls. Where step 2 follows (thread pipes),
   * the spin's length adapts to contention: it halves (down to 1 µs) each time a spin ends because this thread was
   * preempted or the peer stopped moving (when both ends share one CPU, as on a loaded machine, every µs spun is taken
   * from the peer, and the blocking sleep hands the CPU over instead), and doubles back (up to `spinUs`) each time
   * readiness comes while spinning or the spin ran out while the peer was moving. Process pipes, whose only sleep is
   * the slow one, keep the full `spinUs`.
   */
  #spin(ready: () => boolean): number {
    const h = this.#h
    const peerAsleep = H.asleep / 4 + (1 - this.endpoint)
    const peerKick = H.kick / 4 + (1 - this.endpoint)
    const start = performance.now()
    const adaptive = this.blockUs > 0 && this.#bells instanceof AtomicBells
    const cap = start + (adaptive ? Math.min(this.#spinBudget, this.spinUs) : this.spinUs) / 1000
    const stall = this.stallUs / 1000
    let act = this.#peerActivity()
    let moved = start
    let last = start
    for (let n = 1; ; n++) {
      if (ready()) {
        if (adaptive) this.#spinBudget = Math.min(this.#spinBudget * 2, this.spinUs)
        return SPIN_READY
      }
      // asleep with need_kick armed: it waits for this end, nothing comes (asleep and kicked: it is waking up, and the
      // stall rule below gives it stallUs)
      if (Atomics.load(h, peerAsleep) !== 0 && Atomics.load(h, peerKick) !== 0) return SPIN_PEER_WAITS
      if ((n & 15) === 0) {
        const now = performance.now()
        // 16 polls take well under a µs: a gap of PREEMPTED_MS means this thread was descheduled, i.e. the CPUs are
        // oversubscribed and each µs spun is taken from the peer (or whoever the peer waits for)
        if (now - last >= PREEMPTED_MS) break
        last = now
        const a = this.#peerActivity()
        if (a !== act) {
          act = a // progress: keep spinning
          moved = now
        } else if (now - moved >= stall) break // not moving: descheduled, busy elsewhere, or a wake-up that lags
        if (now >= cap) {
          if (adaptive) this.#spinBudget = Math.min(this.#spinBudget * 2, this.spinUs) // too short for this peer
          return SPIN_GAVE_UP
        }
      }
    }
    if (adaptive && this.#spinBudget > 1) this.#spinBudget /= 2
    return SPIN_GAVE_UP
  }

  /** Step 2 (see waitFor): one bounded Atomics.wait on this end's doorbell, counted as asleep. */
  #block(ready: () => boolean): boolean {
    const h = this.#h
    const own = H.asleep / 4 + this.endpoint
    const token = this.#bells.arm()
    Atomics.store(h, H.kick / 4 + this.endpoint, 1)
    if (ready()) return true
    Atomics.add(h, own, 1)
    Atomics.wait(h, H.bell / 4 + this.endpoint, token, this.blockUs / 1000)
    Atomics.sub(h, own, 1)
    return ready()
  }

  async #waitSlow(ready: () => boolean, signal: AbortSignal | undefined): Promise<void> {
    const h = this.#h
    const i = H.kick / 4 + this.endpoint
    const own = H.asleep / 4 + this.endpoint
    for (;;) {
      if (this.#closed) throw new NetmapError('Closed', 'port is closed')
      const token = this.#bells.arm()
      Atomics.store(h, i, 1)
      if (ready()) return
      if (this.#checkPeer && this.peerState() === 'dead') throw new NetmapError('PeerGone', 'the peer process died')
      Atomics.add(h, own, 1)
      this.#asleepHere++
      try {
        // SharedArrayBuffer pipes: no watchdog to run (threads share a pid), and close() rings this end's doorbell
        if (!signal && !this.#checkPeer) {
          // waitAsync does not keep the event loop alive: one ref'd timer per endpoint does, while anyone sleeps
          if (this.#sleepers++ === 0) {
            this.#keepAlive ??= setInterval(noop, 1e9)
            this.#keepAlive.ref()
          }
          try {
            await this.#bells.wait(token)
          } finally {
            if (--this.#sleepers === 0) this.#dropKeepAlive()
          }
        } else await this.#sleep(token, signal)
      } finally {
        // after close() the region may be unmapped; close() took this end's sleepers off the count
        if (!this.#closed) {
          this.#asleepHere--
          Atomics.sub(h, own, 1)
        }
      }
    }
  }

  #dropKeepAlive(): void {
    if (!this.#closed) this.#keepAlive?.unref()
    else if (this.#keepAlive) {
      clearInterval(this.#keepAlive)
      this.#keepAlive = null
    }
  }

  async #sleep(token: number, signal: AbortSignal | undefined): Promise<void> {
    const ac = new AbortController()
    const onAbort = (): void => ac.abort(signal!.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    const timer = setInterval(() => {
      if (this.#closed || (this.#checkPeer && this.peerState() === 'dead'))
        ac.abort(new NetmapError('PeerGone', 'the peer process died'))
    }, 250)
    try {
      await this.#bells.wait(token, ac.signal)
    } catch (err) {
      if (signal?.aborted) throw signal.reason
      if (this.#closed) throw new NetmapError('Closed', 'port is closed')
      throw err
    } finally {
      clearInterval(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    const e = this.endpoint
    const h = this.#h
    this.#local[e]--
    if (this.path && this.#local[0] + this.#local[1] === 0) localByPath.delete(this.path)
    if (this.#bells instanceof AtomicBells) this.#bells.ring(e) // wakes this end's waiters: they see #closed
    if (this.#sleepers === 0) this.#dropKeepAlive() // else the last sleeper, woken above, drops it
    if (this.#asleepHere > 0) Atomics.sub(h, H.asleep / 4 + e, this.#asleepHere)
    this.#asleepHere = 0
    this.#bells.close()
    Atomics.compareExchange(h, H.pids / 4 + e * PID_SLOTS + this.#pidSlot, process.pid, 0)
    Atomics.store(h, H.excl / 4 + e, 0)
    const left = Atomics.sub(h, H.refs / 4 + e, 1) - 1
    const other = Atomics.load(h, H.refs / 4 + (1 - e))
    const last = left <= 0 && (other <= 0 || this.peerState() !== 'open')
    this.#map?.unmap()
    if (last && this.path) removeRegionFiles(this.path)
  }

  get closed(): boolean {
    return this.#closed
  }
}

function joinMap(fd: number, path: string): MappedRegion | null {
  // wait for the creator's ftruncate and READY (a sleep, not a spin), or find it dead
  for (let t = 0; ; t++) {
    const size = fstatSync(fd).size
    if (size >= 4096) {
      const map = mmap(fd, size)
      const h = new Int32Array(map.buffer, 0, 1024)
      if (Atomics.load(h, H.state / 4) === STATE_READY) {
        if (isStale(h)) {
          map.unmap()
          return null
        }
        return map
      }
      const creator = h[H.creator / 4]!
      map.unmap()
      if (creator !== 0 && !pidAlive(creator)) return null
    }
    if (t > 2000) throw new NetmapError('BindFail', `${path}: the creator never finished initialising it`)
    sleepMs(1)
  }
}

/**
 * Every pid that opened it is gone (a kill -9 leaves pids; a clean close leaves none and removes the files). A
 * creator that is still registering (alive, no refs yet) is not stale.
 */
function isStale(h: Int32Array): boolean {
  for (let i = 0; i < 2 * PID_SLOTS; i++) if (pidAlive(Atomics.load(h, H.pids / 4 + i))) return false
  const refs = Atomics.load(h, H.refs / 4) + Atomics.load(h, H.refs / 4 + 1)
  return refs > 0 || !pidAlive(h[H.creator / 4]!)
}

export function removeRegionFiles(path: string): void {
  for (const p of [path, `${path}.bell0`, `${path}.bell1`]) {
    try {
      unlinkSync(p)
    } catch {}
  }
}
