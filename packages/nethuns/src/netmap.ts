// netmap backend: nethuns sockets on netmap ports (`netmap:…`) over @x/netmap, an optional peer dependency loaded on
// first use: shared-memory pipes (`netmap:NAME{ID` / `netmap:NAME}ID`, between threads or processes), NIC ports
// (`netmap:eth0`, AF_PACKET-fed rings without the kernel module, native netmap with it). No native code of our own:
// the rings are memory JS already sees, so the "native socket" the Socket base drives is a TypeScript engine that
// walks the ring slots itself. Receive syncs once per batch and copies each slot into a buffer of the socket's
// Context (taken from the socket's stash, as af_packet does in C); transmit writes straight into the TX ring's slot
// buffers (send copies there, reserveTx hands out the slot buffer) and publishes the batch with one txsync.
import { createRequire } from 'node:module'
import { setImmediate as yieldTurn } from 'node:timers/promises'
import { getsockopt, K } from '@x/native'
import type * as NetmapModule from '@x/netmap'
import type { Netmap, PortSpec, RxRing, TxRing } from '@x/netmap'
import { NS_MOREFRAG } from '@x/ring'
import { N, type NativeSocket, type PollCallback } from './binding.js'
import { type ChannelOptions, type WithChannel, withChannel } from './channel.js'
import { Context } from './context.js'
import { NethunsError, wrapSystemError } from './errors.js'
import { type NetmapFlags, type ResolvedNetmapFlags, resolveNetmapFlags } from './flags.js'
import { M_RING, type NetmapMeta, readNetmapMeta } from './metadata.js'
import { type PollRelay, pollRelay, Socket } from './socket.js'

type NetmapApi = typeof NetmapModule

const W = N('META_WORDS')
const M_CAPLEN = N('M_CAPLEN')
const M_LEN = N('M_LEN')
const M_SEC = N('M_SEC')
const M_NSEC = N('M_NSEC')
const M_VLAN_TCI = N('M_VLAN_TCI')
const M_VLAN_TPID = N('M_VLAN_TPID')
const M_INFO = N('M_INFO')
const TRUNCATED = N('INFO_TRUNCATED')
const S_STASH = N('S_STASH')
const S_CACHE_EMPTY = N('S_CACHE_EMPTY')
const S_STALLED = N('S_STALLED')
const C_RECEIVED = N('C_RECEIVED')
const C_BYTES = N('C_BYTES')
const C_SENT = N('C_SENT')
const C_TX_BYTES = N('C_TX_BYTES')
const C_KERNEL_DROPS = N('C_KERNEL_DROPS')
const C_KERNEL_SEEN = N('C_KERNEL_SEEN')
const SOL_PACKET = K('SOL_PACKET')
const PACKET_STATISTICS = K('PACKET_STATISTICS')
const READABLE = N('UV_READABLE')
const WRITABLE = N('UV_WRITABLE')
/** nr_mode NR_REG_ALL_NIC (netmap.h). */
const NR_REG_ALL_NIC = 1
/** Frames up to this many bytes are copied word by word (no view allocated); longer ones with one set(). */
const WORD_COPY_MAX = 512

// --- loading the optional peer ---------------------------------------------------------------------------------

const PEER = '@x/netmap'
const require = createRequire(import.meta.url)
let loaded: NetmapApi | null = null

function notInstalled(cause: unknown, specifier: string): NethunsError {
  const c = cause as { code?: unknown; message?: unknown }
  const missing =
    (c?.code === 'MODULE_NOT_FOUND' || c?.code === 'ERR_MODULE_NOT_FOUND') && String(c.message).includes(specifier)
  return new NethunsError(
    'ERR_NETHUNS_NOT_AVAILABLE',
    missing
      ? `the netmap backend needs the optional peer dependency ${PEER}, which is not installed (npm i ${PEER})`
      : `the netmap backend needs ${PEER}, which failed to load: ${String(c?.message ?? cause)}`,
    { cause },
  )
}

/**
 * @x/netmap, loaded on first use (a synchronous require of the ES module, Node ≥ 20.19), so af_packet, af_xdp and
 * pcap users never load it and need not install it. Throws ERR_NETHUNS_NOT_AVAILABLE naming @x/netmap when it is
 * missing. (`specifier` exists for the tests.)
 */
export function loadNetmap(specifier: string = PEER): NetmapApi {
  if (loaded !== null && specifier === PEER) return loaded
  let m: NetmapApi
  try {
    m = require(specifier) as NetmapApi
  } catch (e) {
    throw notInstalled(e, specifier)
  }
  if (typeof m?.NetmapBuilder !== 'function') throw notInstalled(new Error(`${specifier} has no NetmapBuilder`), '')
  if (specifier === PEER) loaded = m
  return m
}

/** The same through a dynamic import(): for bundlers and ESM-only loaders. NetmapSocket.open() uses it. */
export async function importNetmap(specifier: string = PEER): Promise<NetmapApi> {
  if (loaded !== null && specifier === PEER) return loaded
  let m: NetmapApi
  try {
    m = (await import(specifier)) as NetmapApi
  } catch (e) {
    throw notInstalled(e, specifier)
  }
  if (typeof m?.NetmapBuilder !== 'function') throw notInstalled(new Error(`${specifier} has no NetmapBuilder`), '')
  if (specifier === PEER) loaded = m
  return m
}

// --- errors ----------------------------------------------------------------------------------------------------

interface NetmapErrorLike {
  name?: string
  kind?: string
  reason?: string
  message?: string
  cause?: unknown
}

function asNetmapError(e: unknown): NetmapErrorLike | null {
  return e instanceof Error && e.name === 'NetmapError' ? (e as NetmapErrorLike) : null
}

/** A NetmapError of an open (or any) call, as a NethunsError with the portspec. */
function openError(e: unknown, portspec: string): unknown {
  const ne = asNetmapError(e)
  if (ne === null) return e
  switch (ne.kind) {
    case 'BadSpec':
      return new NethunsError('ERR_NETHUNS_PORTSPEC', `bad portspec '${portspec}': ${ne.reason}`, {
        portspec,
        cause: e,
      })
    case 'UnsupportedPlatform':
    case 'FallbackUnsupported':
      return new NethunsError('ERR_NETHUNS_NOT_AVAILABLE', `netmap: '${portspec}' is not available: ${ne.message}`, {
        portspec,
        cause: e,
      })
    case 'InvalidRingIndex':
      return new NethunsError('ERR_NETHUNS_QUEUE', `netmap: '${portspec}': ${ne.message}`, { portspec, cause: e })
  }
  // A system error underneath (no such interface, no privilege): its errno name, with the usual hint.
  for (let c: unknown = ne.cause; c instanceof Error; c = (c as NetmapErrorLike).cause) {
    const w = wrapSystemError(c, portspec, 'netmap: cannot open')
    if (w !== c) return w
  }
  return netmapFailure(e, `netmap: cannot open '${portspec}'`, portspec)
}

function netmapFailure(e: unknown, what: string, portspec: string): NethunsError {
  const ne = asNetmapError(e)
  const kind = ne?.kind ? ` (${ne.kind})` : ''
  return new NethunsError('ERR_NETHUNS_NETMAP', `${what}: ${String((e as Error)?.message ?? e)}${kind}`, {
    portspec,
    cause: e,
  })
}

// --- the engine ------------------------------------------------------------------------------------------------

interface RxSide {
  readonly ring: RxRing
  readonly index: number
  readonly numSlots: number
  readonly bufSize: number
  readonly bufBase: number
  readonly u8: Uint8Array
  /** The region as words, when buffers are 4-byte aligned (word copies without views). */
  readonly u32: Uint32Array | null
  /** Slot words: buf_idx at [4k], len | flags << 16 at [4k + 1]. */
  readonly slots: Uint32Array
}

function rxSide(ring: RxRing): RxSide {
  const aligned = ring.bufBase % 4 === 0 && ring.bufSize % 4 === 0
  const u8 = ring.u8
  return {
    ring,
    index: ring.index,
    numSlots: ring.numSlots,
    bufSize: ring.bufSize,
    bufBase: ring.bufBase,
    u8,
    u32: aligned ? new Uint32Array(u8.buffer, u8.byteOffset, u8.byteLength >>> 2) : null,
    slots: ring.slots,
  }
}

/**
 * What the Socket base calls "native": receive, readiness and close over @x/netmap rings, in TypeScript. One sync
 * per batch, no object and no call per packet (slot words read from typed arrays, payloads copied word by word).
 */
class NetmapEngine implements NativeSocket {
  readonly port: Netmap
  readonly rxSides: readonly RxSide[]
  readonly tx: TxRing | null
  readonly #cb: PollCallback
  readonly #portspec: string
  #pool: Uint8Array | null = null
  #pool32: Uint32Array | null = null
  #bufSize = 0
  #stash: Uint32Array | null = null
  #state: Int32Array | null = null
  #descs: Uint32Array | null = null
  #meta: Uint32Array | null = null
  #counters: Float64Array | null = null
  #next = 0
  #events = 0
  #refd = true
  /** Socket.unref() by the user: keep waiting anyway (the @x/netmap waits hold the loop; see the README). */
  keepWaiting = false
  #loop: AbortController | null = null
  #closed = false
  /** The error that stopped the wait loop (reported through the callback with status -1). */
  failure: Error | null = null

  constructor(port: Netmap, rx: RxRing[], tx: TxRing | null, callback: PollCallback, portspec: string) {
    this.port = port
    this.rxSides = rx.map(rxSide)
    this.tx = tx
    this.#cb = callback
    this.#portspec = portspec
  }

  attach_rx(
    pool: Uint8Array,
    bufSize: number,
    stash: Uint32Array,
    state: Int32Array,
    descs: Uint32Array,
    meta: Uint32Array,
    counters: Float64Array,
  ): void {
    this.#pool = pool
    this.#bufSize = bufSize
    this.#pool32 =
      pool.byteOffset % 4 === 0 && bufSize % 4 === 0
        ? new Uint32Array(pool.buffer, pool.byteOffset, pool.byteLength >>> 2)
        : null
    this.#stash = stash
    this.#state = state
    this.#descs = descs
    this.#meta = meta
    this.#counters = counters
  }

  /** Receives up to `max` packets from the bound RX rings (round robin) into the batch arrays: the count. */
  rx(max: number, descs?: Uint32Array, meta?: Uint32Array): number {
    const state = this.#state
    if (this.#closed || state === null || this.rxSides.length === 0) return 0
    const d = descs ?? this.#descs!
    const m = meta ?? this.#meta!
    const cap = Math.min(max, d.length, Math.floor(m.length / W))
    state[S_STALLED] = 0
    let n = 0
    const rings = this.rxSides
    const nr = rings.length
    try {
      for (let r = 0; r < nr && n < cap && state[S_STALLED] === 0; r++) {
        let i = this.#next + r
        if (i >= nr) i -= nr
        n = this.#drain(rings[i]!, d, m, n, cap)
      }
    } catch (e) {
      throw netmapFailure(e, 'netmap receive', this.#portspec)
    }
    if (nr > 1) this.#next = this.#next + 1 === nr ? 0 : this.#next + 1
    this.#counters![C_RECEIVED] += n
    return n
  }

  #drain(R: RxSide, d: Uint32Array, m: Uint32Array, n: number, cap: number): number {
    const state = this.#state!
    const stash = this.#stash!
    const pool = this.#pool!
    const p32 = this.#pool32
    const r32 = R.u32
    const bs = this.#bufSize
    const slots = R.slots
    const ns = R.numSlots
    const v = R.ring.view
    const counters = this.#counters!
    let bytes = 0
    // rxsync: returns the slots consumed last time, publishes what arrived
    R.ring.sync()
    let h = v.head
    let t = v.tail
    for (;;) {
      while (n < cap && h !== t) {
        const have = state[S_STASH]
        if (have <= 0) {
          state[S_STALLED] = 1
          break
        }
        const desc = stash[have - 1]!
        state[S_STASH] = have - 1
        const dst = desc * bs
        const w = slots[h * 4 + 1]!
        let len = w & 0xffff
        let stored: number
        let info = 0
        if (((w >>> 16) & NS_MOREFRAG) === 0) {
          const src = R.bufBase + slots[h * 4]! * R.bufSize
          stored = Math.min(len, bs)
          if (stored < len) info = TRUNCATED
          if (p32 !== null && r32 !== null && stored <= WORD_COPY_MAX) {
            let o = dst >>> 2
            let s = src >>> 2
            const e = o + ((stored + 3) >>> 2)
            while (o < e) p32[o++] = r32[s++]!
          } else {
            pool.set(R.u8.subarray(src, src + stored), dst)
          }
          h = h + 1 === ns ? 0 : h + 1
        } else {
          // A NS_MOREFRAG chain (the pipe publishes only whole chains): gather it, cut at the Context buffer.
          len = 0
          stored = 0
          for (;;) {
            const fw = slots[h * 4 + 1]!
            const flen = fw & 0xffff
            const src = R.bufBase + slots[h * 4]! * R.bufSize
            const take = Math.min(flen, bs - stored)
            if (take > 0) pool.set(R.u8.subarray(src, src + take), dst + stored)
            stored += take
            len += flen
            h = h + 1 === ns ? 0 : h + 1
            if (((fw >>> 16) & NS_MOREFRAG) === 0 || h === t) break
          }
          if (stored < len) info = TRUNCATED
        }
        const b = n * W
        m[b + M_CAPLEN] = stored
        m[b + M_LEN] = len
        m[b + M_SEC] = 0
        m[b + M_NSEC] = 0
        m[b + M_RING] = R.index
        m[b + M_VLAN_TCI] = 0
        m[b + M_VLAN_TPID] = 0
        m[b + M_INFO] = info
        d[n++] = desc
        bytes += stored
      }
      v.head = h
      v.cur = h
      if (n >= cap || state[S_STALLED] !== 0) break
      // The ring is empty: one more sync hands the slots back at once and picks up what arrived meanwhile.
      R.ring.sync()
      t = v.tail
      if (h === t) break
    }
    counters[C_BYTES] += bytes
    return n
  }

  // --- transmit (NetmapSocket's txAvail/txOffset/txSubmit) ----------------------------------------------------

  txAvail(): number {
    this.#txSync() // txsync: reclaims the slots the peer (or the NIC) is done with
    return this.tx!.view.space()
  }

  /** A frame the NIC port dropped for good in some txsync, thrown once by the next flush (ERR_NETHUNS_NETMAP). */
  #txDropped: NethunsError | null = null

  /**
   * Every txsync goes through here, whoever runs it (flush, txAvail, the wait loop): frames the NIC port drops for
   * good (its txErrors delta) come off `sent`, and its `Io` error is kept for the next flush instead of escaping
   * from send() or stopping the wait loop. Other failures throw.
   */
  #txSync(): void {
    try {
      this.tx!.sync()
    } catch (e) {
      this.#txFailed(e)
    } finally {
      this.#noteTxDrops()
    }
  }

  /** A failed txsync: an `Io` drop is kept for the next flush; anything else throws. */
  #txFailed(e: unknown): void {
    const f = netmapFailure(e, 'netmap send', this.#portspec)
    if (asNetmapError(e)?.kind !== 'Io') throw f
    this.#txDropped ??= f
  }

  /** The port's txErrors counted so far: what grew since comes off `sent` (once, whichever path saw it). */
  #txErrorsSeen = 0

  #noteTxDrops(): void {
    const now = this.port.stats?.txErrors ?? 0
    const dropped = now - this.#txErrorsSeen
    this.#txErrorsSeen = now
    if (dropped > 0 && this.#counters !== null) this.#counters[C_SENT] -= dropped
  }

  /** The wait loop's TX wait: @x/netmap's ready() syncs as it waits, so a drop it meets is recorded, not fatal. */
  #txReady(signal: AbortSignal): Promise<void> {
    return this.tx!.ready(1, signal).then(
      () => this.#noteTxDrops(),
      (e) => {
        this.#noteTxDrops()
        if (signal.aborted) throw e
        this.#txFailed(e)
      },
    )
  }

  /** Byte offset (in the region) of the buffer of the k-th slot after head. */
  txOffset(k: number): number {
    const tx = this.tx!
    let slot = tx.view.head + k
    if (slot >= tx.numSlots) slot -= tx.numSlots
    return tx.slotBufOffset(slot)
  }

  /** Sets the lengths of slots [head, head + n), advances head and cur, and syncs (one txsync per batch). */
  txSubmit(n: number, lens: Uint32Array, kick: boolean): number {
    const tx = this.tx!
    const v = tx.view
    const slots = tx.slots
    const ns = v.numSlots
    let h = v.head
    let bytes = 0
    for (let i = 0; i < n; i++) {
      const len = lens[i]!
      slots[h * 4 + 1] = len & 0xffff // len, flags 0
      bytes += len
      h = h + 1 === ns ? 0 : h + 1
    }
    v.head = h
    v.cur = h
    const c = this.#counters
    if (c !== null) {
      c[C_SENT] += n // less what a NIC port drops for good, whichever sync finds it (#txSync)
      c[C_TX_BYTES] += bytes
    }
    if (kick || n > 0) this.#txSync()
    const dropped = this.#txDropped
    if (dropped !== null) {
      this.#txDropped = null
      throw dropped
    }
    return n
  }

  /** TX counters when the socket receives nothing (tx_only): the Socket base attaches no receive side then. */
  attachCounters(counters: Float64Array): void {
    this.#counters ??= counters
  }

  // --- readiness: a wait loop standing in for uv_poll ---------------------------------------------------------

  poll_start(events: number): number {
    this.#events = events
    this.#restart()
    return 0
  }

  poll_stop(): number {
    this.#events = 0
    this.#stop()
    return 0
  }

  ref(): void {
    this.#refd = true
    if (this.#loop === null) this.#restart()
  }

  unref(): void {
    this.#refd = false
    if (!this.keepWaiting) this.#stop()
  }

  #stop(): void {
    this.#loop?.abort()
    this.#loop = null
  }

  #restart(): void {
    this.#stop()
    if (this.#closed || this.#events === 0 || (!this.#refd && !this.keepWaiting)) return
    const ac = new AbortController()
    this.#loop = ac
    void this.#run(ac.signal, this.#events)
  }

  /** What is ready now (syncing the rings it looks at). */
  #ready(events: number): number {
    let f = 0
    if (events & READABLE) {
      for (const R of this.rxSides) {
        const v = R.ring.view
        R.ring.sync()
        if (v.head !== v.tail) {
          f |= READABLE
          break
        }
      }
    }
    if (events & WRITABLE && this.tx !== null) {
      this.#txSync()
      if (this.tx.view.space() > 0) f |= WRITABLE
    }
    return f
  }

  /** Sleeps (no busy loop: @x/netmap's doorbells, futexes or the socket's readiness) until a ring may be ready. */
  async #sleep(events: number, signal: AbortSignal): Promise<void> {
    const waits: Promise<void>[] = []
    const ac = new AbortController()
    const onAbort = (): void => ac.abort()
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      if (events & READABLE) for (const R of this.rxSides) waits.push(R.ring.ready(ac.signal))
      if (events & WRITABLE && this.tx !== null) waits.push(this.#txReady(ac.signal))
      if (waits.length === 0) return
      for (const w of waits) w.catch(() => {})
      await (waits.length === 1 ? waits[0] : Promise.race(waits))
    } finally {
      signal.removeEventListener('abort', onAbort)
      ac.abort()
    }
  }

  async #run(signal: AbortSignal, events: number): Promise<void> {
    try {
      await undefined // never call back from inside poll_start()/ref() (the Socket re-arms from its callback)
      while (!signal.aborted) {
        const fired = this.#ready(events)
        if (fired === 0) {
          await this.#sleep(events, signal)
          continue
        }
        if (signal.aborted) return
        // As SocketBase::OnPoll: a readable wake-up with an empty JS cache drains into it first.
        let n = 0
        const state = this.#state
        if (fired & READABLE && state !== null && state[S_CACHE_EMPTY] !== 0) {
          n = this.rx(this.#descs!.length)
          if (n > 0) state[S_CACHE_EMPTY] = 0
        }
        this.#cb(0, fired, n)
        await yieldTurn() // level-triggered: let other work run before looking again
      }
    } catch (e) {
      if (signal.aborted || this.#closed) return
      this.failure = asNetmapError(e) ? netmapFailure(e, 'netmap wait', this.#portspec) : (e as Error)
      if (this.#loop?.signal === signal) this.#loop = null
      this.#events = 0
      this.#cb(-1, 0, 0)
    }
  }

  /**
   * NIC ports without the module: the AF_PACKET sockets under the rings (one per ring pair) count what the kernel
   * dropped before an rxsync read it (PACKET_STATISTICS, struct tpacket_stats; it resets on read, and @x/netmap
   * does not read it), summed over every bound ring.
   */
  stats(): void {
    const c = this.#counters
    if (this.#closed || c === null || this.port.backend !== 'nic') return
    for (const [ring, fd] of this.port.ringFds) {
      if (ring === 'host') continue // a tap fd: no packet statistics
      try {
        const st = getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, 8)
        const dv = new DataView(st.buffer, st.byteOffset, st.byteLength)
        c[C_KERNEL_SEEN] += dv.getUint32(0, true)
        c[C_KERNEL_DROPS] += dv.getUint32(4, true)
      } catch {
        // best effort: a ring whose fd is not a packet socket
      }
    }
  }

  fd(): number {
    return this.#closed ? -1 : this.port.fd
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#stop()
    this.port.close()
  }
}

// --- the socket ------------------------------------------------------------------------------------------------

/** Where a nethuns (portspec, queue) lands on @x/netmap: the spec string opened and the ring used. */
export function netmapSpec(api: NetmapApi, portspec: string, queue: number | null): string {
  let spec = portspec
  if (!spec.startsWith('netmap:') && !/^vale[^:]*:/.test(spec)) spec = `netmap:${spec}` // C nethuns: netmap:<dev>
  let parsed: PortSpec
  try {
    parsed = api.parseSpec(spec)
  } catch (e) {
    throw openError(e, portspec)
  }
  if (queue === null || queue === undefined) return spec
  if (!Number.isInteger(queue) || queue < 0) {
    throw new NethunsError('ERR_NETHUNS_QUEUE', `netmap: queue must be null or a ring index >= 0, got ${queue}`, {
      portspec,
    })
  }
  if (parsed.mode !== NR_REG_ALL_NIC) {
    throw new NethunsError(
      'ERR_NETHUNS_QUEUE',
      `netmap: '${portspec}' already selects its rings (-K, ^ or *): queue must be null`,
      { portspec },
    )
  }
  // C nethuns: queue q binds `netmap:<dev>-<q>` (ONE_NIC ring q): insert -q after the name, before /flags, @opts.
  const at = (parsed.subsystem === 'netmap' ? 'netmap:'.length : 0) + parsed.name.length
  return `${spec.slice(0, at)}-${queue}${spec.slice(at)}`
}

export class NetmapSocket extends Socket<NetmapMeta> {
  readonly backend = 'netmap' as const
  readonly flags: Readonly<ResolvedNetmapFlags>
  /** The @x/netmap port underneath (its rings are driven by this socket: do not sync them yourself). */
  readonly port: Netmap
  /** The netmap spec opened (the portspec with `netmap:` and `-queue` applied). */
  readonly netmapSpec: string
  /** The RX rings read (round robin) and the TX ring written. */
  readonly rxRings: readonly number[]
  readonly txRing: number | null
  readonly #eng: NetmapEngine

  private constructor(
    portspec: string,
    queue: number | null,
    spec: string,
    flags: ResolvedNetmapFlags,
    eng: NetmapEngine,
    relay: PollRelay,
    context: Context,
  ) {
    const tx = eng.tx
    super({
      portspec,
      queue,
      context,
      native: eng,
      relay,
      reader: readNetmapMeta,
      batchSize: flags.batchSize,
      stashSize: flags.stashSize,
      coalesceMs: flags.coalesceMs,
      filter: flags.filterFn,
      noRx: eng.rxSides.length === 0,
      tx:
        tx === null
          ? null
          : {
              bytes: new Uint8Array(tx.view.buffer),
              maxLen: tx.view.nrBufSize,
              lens: new Uint32Array(tx.view.numSlots),
            },
    })
    this.flags = flags
    this.port = eng.port
    this.netmapSpec = spec
    this.rxRings = eng.rxSides.map((r) => r.index)
    this.txRing = tx === null ? null : tx.index
    this.#eng = eng
    eng.attachCounters(this.counters)
  }

  /**
   * Opens a netmap port: `netmap:NAME{ID` / `netmap:NAME}ID` (shm pipes), `netmap:eth0` (NIC; a bare `eth0` means
   * `netmap:eth0`, as C nethuns binds it). `queue` null binds every ring of the port (RX reads them round robin, TX
   * writes the first); a number binds ring `queue` only (`netmap:eth0-Q`, C nethuns's mapping). Needs @x/netmap
   * (an optional peer dependency): ERR_NETHUNS_NOT_AVAILABLE naming it when it is not installed.
   */
  static create(portspec: string, queue: number | null = null, flags: NetmapFlags = {}): NetmapSocket {
    return NetmapSocket.#open(loadNetmap(), portspec, queue, flags)
  }

  /** create(), loading @x/netmap with a dynamic import() first. */
  static async open(portspec: string, queue: number | null = null, flags: NetmapFlags = {}): Promise<NetmapSocket> {
    return NetmapSocket.#open(await importNetmap(), portspec, queue, flags)
  }

  static #open(api: NetmapApi, portspec: string, queue: number | null, flags: NetmapFlags): NetmapSocket {
    if (typeof portspec !== 'string' || portspec.length === 0) {
      throw new NethunsError('ERR_NETHUNS_PORTSPEC', `bad portspec '${String(portspec)}': empty or not a string`)
    }
    const f = resolveNetmapFlags(flags)
    const spec = netmapSpec(api, portspec, queue)
    let port: Netmap
    try {
      const slots = f.numSlots ?? 1024
      const b = new api.NetmapBuilder(spec).numSlots(slots).numTxRings(f.numRings).numRxRings(f.numRings)
      if (f.sharedMemory !== null) b.sharedMemory(f.sharedMemory)
      if (f.shmDir !== null) b.shmDir(f.shmDir)
      port = b.build()
    } catch (e) {
      throw openError(e, portspec)
    }
    let eng: NetmapEngine
    try {
      const rx: RxRing[] = []
      let tx: TxRing | null = null
      const ring = <T>(get: () => T): T | null => {
        try {
          return get()
        } catch (e) {
          if (asNetmapError(e)?.kind === 'InvalidRingIndex') return null // /T, /R: not bound here
          throw e
        }
      }
      if (f.mode !== 'tx_only') {
        for (let i = port.firstRing; i <= port.lastRing; i++) {
          const r = ring(() => port.rxRing(i))
          if (r !== null) rx.push(r)
        }
      }
      if (f.mode !== 'rx_only') tx = ring(() => port.txRing(port.firstRing))
      if (rx.length === 0 && tx === null) {
        throw new NethunsError('ERR_NETHUNS_DIRECTION', `netmap: '${portspec}' binds no ring for mode '${f.mode}'`, {
          portspec,
        })
      }
      const relay = pollRelay()
      eng = new NetmapEngine(port, rx, tx, relay.callback, portspec)
      return new NetmapSocket(portspec, queue ?? null, spec, f, eng, relay, Context.create(f.bufferSize, f.bufferCount))
    } catch (e) {
      port.close()
      throw e instanceof NethunsError ? e : openError(e, portspec)
    }
  }

  /** nethuns-rs `create_with_channel`: the socket and a pusher/popper over its Context, for worker threads. */
  static createWithChannel(
    portspec: string,
    queue: number | null = null,
    flags: NetmapFlags = {},
    options: ChannelOptions = {},
  ): WithChannel<NetmapSocket> {
    return withChannel(NetmapSocket.create(portspec, queue, flags), options)
  }

  /** The peer of a shm pipe: 'open', 'closed' or 'dead' (its process died); NIC and native ports: 'open'. */
  peerState(): 'open' | 'closed' | 'dead' {
    return this.port.peerState()
  }

  /**
   * Lets the process exit while this socket waits — not on netmap: @x/netmap's waits (doorbells, futex timers) keep
   * the event loop alive, so the socket keeps its wake-ups and only close() lets go.
   */
  override unref(): this {
    this.#eng.keepWaiting = true
    return super.unref()
  }

  override ref(): this {
    this.#eng.keepWaiting = false
    return super.ref()
  }

  protected override pollFailure(_status: number): Error | null {
    const e = this.#eng.failure
    this.#eng.failure = null
    return e
  }

  protected txAvail(): number {
    return this.#eng.txAvail()
  }

  protected txOffset(k: number): number {
    return this.#eng.txOffset(k)
  }

  protected txSubmit(n: number, kick: boolean): number {
    return this.#eng.txSubmit(n, this.tx!.lens, kick)
  }
}
