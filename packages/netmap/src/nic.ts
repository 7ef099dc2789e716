// nic.ts: NIC ports without the netmap module (`netmap:eth0`, `netmap:eth0-N`, `/R`, `/T`, and host rings `^`, `^0`
// on TAP devices; `*` on a TAP is refused): rings of the kernel's layout in a private region.
//
// NIC rings: one ring pair per queue of the interface (/sys/class/net/IF/queues/{rx,tx}-*), each pair fed by its own
// AF_PACKET socket (copying, batched: sendmmsg/recvmmsg from @x/native). With more than one queue each socket carries
// an eBPF socket filter on skb->queue_mapping (qfilter.ts), so RX ring N sees exactly the frames of RX queue N.
// txsync transmits [hwcur, head) (a NS_MOREFRAG chain as one datagram) and frees the slots the kernel took; under
// load (EAGAIN/ENOBUFS) the rest keep their slots and the ring waits; a frame refused for good is dropped, counted
// and thrown as Io once. rxsync returns [hwcur, head) and copies waiting frames into the free slots (frames longer
// than a buffer as NS_MOREFRAG chains). TX queue selection stays the kernel's (XPS / flow hash): AF_PACKET has no
// per-socket TX queue.
//
// Host rings: on a TAP device the tap fd is the stack side of the interface. Host TX ring → write(2) on the tap fd
// (the kernel receives the frame on tapX, as if from the wire); host RX ring ← read(2) from the tap fd (what the
// stack transmits out of tapX). One syscall per packet: a tap fd has no batch call. Other interfaces: Unsupported.
import { readFileSync } from 'node:fs'
import { constants as osConstants } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { getSystemErrorName } from 'node:util'
import {
  bind,
  binding,
  FdWatcher,
  ifNameToIndex,
  ifQueues,
  K as NK,
  type OwnedFd,
  openTun,
  packetSocket,
  setsockoptInt,
  sockaddrLl,
} from '@x/native'
import { NS_MOREFRAG, RingView } from '@x/ring'
import { NetmapError } from './errors.js'
import { type NicGeometry, nicGeometry, nicRingSlot } from './layout.js'
import { loadQueueFilter, queueBase, SO_ATTACH_BPF } from './qfilter.js'
import { formatNicRegion } from './region.js'
import { RESOLVED, type RingDriver } from './ring.js'
import {
  NR_REG_ALL_NIC,
  NR_REG_NIC_SW,
  NR_REG_ONE_NIC,
  NR_REG_ONE_SW,
  NR_REG_SW,
  NR_RX_RINGS_ONLY,
  NR_TX_RINGS_ONLY,
  type PortSpec,
} from './spec.js'

const { EAGAIN, ENOBUFS, EIO, EINVAL, ENOMEM, EMSGSIZE } = osConstants.errno
/** NETMAP_MAX_FRAGS: the most slots one packet may take. */
const MAX_FRAGS = 64
/**
 * ENOBUFS from AF_PACKET is NET_XMIT_DROP: the qdisc (or driver) refused the frame. Usually a full queue that drains;
 * a frame still refused after NOBUFS_GIVE_UP_TRIES retries spread over NOBUFS_GIVE_UP_MS (a policy drop: `pfifo
 * limit 0`, a tbf burst smaller than the frame, a NIC without carrier) is dropped alone and reported, so it cannot
 * hold the ring for ever; until a frame goes out again, later ENOBUFS frames are dropped at once.
 */
const NOBUFS_GIVE_UP_MS = 50
const NOBUFS_GIVE_UP_TRIES = 20

/**
 * A slot's buf_idx is the user's to change (zero-copy swaps); as the kernel does, one outside [2, buffers) is never
 * dereferenced: TX drops that packet (EINVAL, counted and thrown once), RX stops and throws SyncError after
 * publishing what it received.
 */
/** RX slots the kernel side may fill: from hwtail up to the one before head (one slot stays empty). */
function rxRoom(head: number, hwtail: number, n: number): number {
  const r = head - 1 - hwtail
  return r < 0 ? r + n : r
}

/** Slots a frame of len bytes takes (a NS_MOREFRAG chain when it is longer than a buffer). */
function fragments(len: number, bufSize: number): number {
  return len <= bufSize ? 1 : Math.ceil(len / bufSize)
}

function bufferCount(g: NicGeometry): number {
  return Math.floor(g.bufTotal / g.bufSize)
}

function badBuffer(ring: string, slot: number, idx: number): NetmapError {
  return new NetmapError('SyncError', `${ring}: slot ${slot} has buf_idx ${idx}, not a buffer of this port`)
}
/** RingDriver.wait's "already ready" (RxRing/TxRing compare it by identity and sync again without waiting). */
const RESOLVED_WAIT = RESOLVED

function roundUp(v: number, a: number): number {
  return Math.ceil(v / a) * a
}

/** Scratch of a TX ring: 64 one-slot packets, or one chain of NETMAP_MAX_FRAGS fragments, gathered. */
function gatherBytes(bs: number): number {
  return MAX_FRAGS * bs
}
/** RX receives straight into slot buffers when a frame of the MTU (+ Ethernet and VLAN headers) fits a buffer. */
function rxDirect(bs: number, mtu: number): boolean {
  return mtu + 22 <= bs
}
function rxSlotSize(bs: number, mtu: number): number {
  return Math.max(bs, roundUp(mtu + 22, 64))
}
/** Scratch of an RX ring: none when it receives into its slots, else a batch of 64 MTU-sized slots. */
function rxBatchBytes(bs: number, mtu: number): number {
  return rxDirect(bs, mtu) ? 0 : 64 * rxSlotSize(bs, mtu)
}
/** What one read(2) of a tap without IFF_VNET_HDR can return: an MTU of at most 65535, plus headers. */
const TAP_READ_BYTES = 65536 + 64

function errnoName(e: number): string {
  try {
    return getSystemErrorName(-e)
  } catch {
    return 'unknown'
  }
}

/** The interface's MTU (sysfs), or 1500 when sysfs does not show it. */
export function interfaceMtu(ifname: string): number {
  try {
    const v = Number.parseInt(readFileSync(`/sys/class/net/${ifname}/mtu`, 'utf8').trim(), 10)
    return Number.isInteger(v) && v > 0 ? v : 1500
  } catch {
    return 1500
  }
}

/** Writes the ring's `ts` (struct timeval, wall clock, as the kernel's microtime() at every RX sync). */
function tsWriter(ring: RingView): () => void {
  const dv = new DataView(ring.buffer, ring.byteOffset + ring.layout.ts, 16)
  const origin = performance.timeOrigin
  return () => {
    const ms = origin + performance.now()
    const sec = Math.floor(ms / 1000)
    dv.setBigInt64(0, BigInt(sec), true)
    dv.setBigInt64(8, BigInt(Math.floor((ms - sec * 1000) * 1000)), true)
  }
}

/** Counters of a NIC port (the kernel keeps them per driver; here per port). */
export interface NicStats {
  /** TX frames the kernel refused for good (EMSGSIZE, ENETDOWN, …; tap write errors): dropped, ring moved on. */
  txErrors: number
  /** errno of the last such refusal (0: none). */
  txLastErrno: number
  /** RX frames longer than a receive slot (MSG_TRUNC) or than the whole ring: dropped. */
  rxTruncated: number
}

/** Queues of an interface: max(rx, tx) as sysfs counts them (1 if sysfs does not show it). */
export function queueCount(ifname: string): number {
  const q = ifQueues(ifname)
  return Math.max(q.rx, q.tx)
}

/** tun_flags of a TUN/TAP interface (IFF_TAP 0x2, IFF_MULTI_QUEUE 0x100, …), or null for any other interface. */
export function tunFlags(ifname: string): number | null {
  try {
    return Number.parseInt(readFileSync(`/sys/class/net/${ifname}/tun_flags`, 'utf8').trim(), 16)
  } catch {
    return null
  }
}

interface Closable {
  close(): void
}

/** One fd with a lazily made uv_poll watcher: readiness for the rings it feeds. */
class Pollable {
  readonly fd: OwnedFd
  #watcher: FdWatcher | null = null

  constructor(fd: OwnedFd) {
    this.fd = fd
  }

  wait(ev: 'readable' | 'writable', signal?: AbortSignal): Promise<void> {
    this.#watcher ??= new FdWatcher(this.fd)
    return this.#watcher.wait(ev, signal)
  }

  close(): void {
    this.#watcher?.close()
    this.#watcher = null
    this.fd.close()
  }
}

export class NicPort {
  /** The pollable fd: the socket of the first bound NIC ring (host-only ports: the tap fd). */
  readonly fd: number
  readonly memId = 0
  readonly nifOff = 0
  readonly buffer: ArrayBuffer
  readonly niTxRings: number
  readonly niRxRings: number
  readonly niHostTxRings = 1
  readonly niHostRxRings = 1
  readonly geometry: NicGeometry
  /** The fds per NIC ring pair (index = ring) and the tap fd ('host'), for tests and diagnostics. */
  readonly fds: ReadonlyMap<number | 'host', number>
  /** TX errors and RX truncations (see NicStats). */
  readonly stats: NicStats = { txErrors: 0, txLastErrno: 0, rxTruncated: 0 }
  readonly #flags: number
  readonly #drivers = new Map<number, RingDriver>()
  readonly #owned: Closable[] = []
  #scratch = 0
  #closed = false

  constructor(spec: PortSpec, flags: number, slots: number) {
    const mode = spec.mode
    const host = mode === NR_REG_SW || mode === NR_REG_ONE_SW || mode === NR_REG_NIC_SW
    const nic = mode === NR_REG_ALL_NIC || mode === NR_REG_ONE_NIC || mode === NR_REG_NIC_SW
    if (!host && !nic)
      throw new NetmapError('UnsupportedPlatform', `${spec.spec}: this port mode needs the netmap kernel module`)
    let ifindex: number
    try {
      ifindex = ifNameToIndex(spec.port)
    } catch (e) {
      throw new NetmapError('BindFail', `${spec.spec}: no interface '${spec.port}' (${(e as Error).message})`, {
        cause: e,
      })
    }
    let tun: number | null = null
    if (host) {
      tun = tunFlags(spec.port)
      if (tun === null || (tun & NK('IFF_TAP')) === 0)
        throw new NetmapError(
          'UnsupportedPlatform',
          `${spec.spec}: host rings need the netmap kernel module ('${spec.port}' is ${tun === null ? 'not a TUN/TAP device' : 'a TUN device, not a TAP'}); without it host rings work on TAP devices only (the tap fd is the stack side)`,
        )
      if (mode === NR_REG_NIC_SW)
        throw new NetmapError(
          'UnsupportedPlatform',
          `${spec.spec}: NIC + host rings ('*') on a TAP need the netmap kernel module: without it the NIC rings (AF_PACKET on '${spec.port}') and the host rings (the tap fd) see the same frames — the NIC RX ring a copy of every host TX frame, the host RX ring every NIC TX frame — where the kernel keeps those sets disjoint, so a NIC↔host forwarder would loop frames; open '^' (host rings) and the NIC rings separately if that is what you mean`,
        )
      const FEATURES = NK('IFF_VNET_HDR') | NK('IFF_NO_PI')
      if ((tun & FEATURES) !== NK('IFF_NO_PI'))
        throw new NetmapError(
          'BindFail',
          `${spec.spec}: TAP '${spec.port}' has tun_flags 0x${tun.toString(16)} (${(tun & NK('IFF_VNET_HDR')) !== 0 ? 'IFF_VNET_HDR: its frames carry virtio-net headers, as a VM backend uses' : 'no IFF_NO_PI: its frames carry a packet-information header'}); host rings attach only to taps with IFF_NO_PI and without IFF_VNET_HDR (attaching with other flags would change the tap's flags for its other users too)`,
        )
      if (mode === NR_REG_ONE_SW && spec.ringid !== 0)
        throw new NetmapError('BindFail', `${spec.spec}: no such host ring ${spec.ringid} ('${spec.port}' has 1)`)
    }
    const n = queueCount(spec.port)
    if (mode === NR_REG_ONE_NIC && spec.ringid >= n)
      throw new NetmapError(
        'BindFail',
        `${spec.spec}: no such ring ${spec.ringid} ('${spec.port}' has ${n} ring pair${n === 1 ? '' : 's'})`,
      )
    this.niTxRings = n
    this.niRxRings = n
    this.#flags = spec.flags | flags
    const wantTx = (this.#flags & NR_RX_RINGS_ONLY) === 0
    const wantRx = (this.#flags & NR_TX_RINGS_ONLY) === 0
    const rings = !nic ? [] : mode === NR_REG_ONE_NIC ? [spec.ringid] : Array.from({ length: n }, (_, i) => i)
    const bound = new Set<number>()
    for (const i of host ? [...rings, n] : rings) {
      if (wantTx) bound.add(nicRingSlot({ nRings: n }, true, i))
      if (wantRx) bound.add(nicRingSlot({ nRings: n }, false, i))
    }
    // buffers for the bound rings only (the kernel makes rings only for krings in use); ring_ofs stays the kernel's
    const g = nicGeometry(n, host ? 1 : 0, slots, undefined, bound.size)
    this.geometry = g
    // past memsize (nr_memsize stays the kernel's): per-ring scratch, so every copy is a copyWithin in one buffer
    const mtu = interfaceMtu(spec.port)
    const nicRings = rings.length
    const scratch =
      (wantTx ? (nicRings + (host ? 1 : 0)) * gatherBytes(g.bufSize) : 0) +
      (wantRx ? nicRings * rxBatchBytes(g.bufSize, mtu) + (host ? TAP_READ_BYTES : 0) : 0)
    this.buffer = new ArrayBuffer(g.memsize + scratch)
    this.#scratch = g.memsize
    formatNicRegion(this.buffer, g, spec.port, bound)
    const fds = new Map<number | 'host', number>()
    try {
      const base = n > 1 ? queueBase(spec.port) : 0
      for (const i of rings) {
        const p = this.#own(new Pollable(openQueueSocket(spec, ifindex, i, n, base, wantRx)))
        fds.set(i, p.fd.fd)
        this.#nicRing(p, i, mtu)
      }
      if (host) {
        let dev: { fd: OwnedFd }
        try {
          dev = openTun({ name: spec.port, mode: 'tap', multiQueue: (tun! & NK('IFF_MULTI_QUEUE')) !== 0 })
        } catch (e) {
          throw new NetmapError(
            'BindFail',
            `${spec.spec}: cannot attach to TAP '${spec.port}' (${(e as Error).message}; a tap held by another process must be multi-queue to share it)`,
            { cause: e },
          )
        }
        const p = this.#own(new Pollable(dev.fd))
        fds.set('host', p.fd.fd)
        this.#hostRing(p)
      }
    } catch (e) {
      this.close()
      throw e
    }
    this.fds = fds
    this.fd = rings.length > 0 ? fds.get(rings[0]!)! : fds.get('host')!
  }

  /** `bytes` of scratch past memsize (sized in the constructor). */
  #take(bytes: number): number {
    const o = this.#scratch
    this.#scratch += bytes
    if (this.#scratch > this.buffer.byteLength) throw new RangeError('NicPort: scratch area overrun')
    return o
  }

  #own<T extends Closable>(c: T): T {
    this.#owned.push(c)
    return c
  }

  /** A view of ring_ofs position k, or null when this fd did not bind it. */
  #view(k: number): RingView | null {
    const ofs = Number(new DataView(this.buffer).getBigInt64(56 + 8 * k, true))
    return ofs === 0 ? null : new RingView(this.buffer, ofs, { atomic: false })
  }

  /**
   * NIC ring pair i over its AF_PACKET socket. No allocation per packet: TX gathers packets (a NS_MOREFRAG chain into
   * one datagram) with copyWithin into a scratch batch in the region and sendmmsg's it from there; RX with an MTU
   * that fits a buffer receives with recvmmsg straight into runs of consecutive slot buffers, otherwise into a
   * scratch batch of MTU-sized slots, copied into the ring (long frames as NS_MOREFRAG chains).
   */
  #nicRing(p: Pollable, i: number, mtu: number): void {
    const g = this.geometry
    const nbufs = bufferCount(g)
    const fd = p.fd.fd
    const tx = this.#view(nicRingSlot(g, true, i))
    const rx = this.#view(nicRingSlot(g, false, i))
    const u8 = new Uint8Array(this.buffer)
    const stats = this.stats
    const n = g.numSlots
    const lim = n - 1
    const bs = g.bufSize
    if (tx) {
      const batchOff = this.#take(gatherBytes(bs))
      const batchCap = gatherBytes(bs)
      /** Per batch entry: datagram length, and the slot after the packet's last fragment. */
      const lens = new Int32Array(64)
      const ends = new Int32Array(64)
      let count = 0
      let used = 0
      const bufBase = tx.byteOffset + tx.bufOfs
      let hwcur = 0
      /** First slot not handled yet (sent, or dropped for good) in the running sync. */
      let done = 0
      /** What stopped the last sync: EAGAIN / ENOBUFS (the slots from hwcur wait), or 0. */
      let stall = 0
      let errs = 0
      let lastErr = 0
      /** The slot whose packet the qdisc keeps refusing (ENOBUFS), since when, and how often. */
      let nobufsAt = -1
      let nobufsSince = 0
      let nobufsTries = 0
      /** A frame was given up on and nothing has gone out since: the qdisc refuses for good. */
      let refusing = false
      /** Sends the batch: false when the socket is full (the rest stays in the ring). */
      const flush = (): boolean => {
        let off = 0
        while (count > 0) {
          const r = binding.sendmmsg(fd, u8, batchOff + off, used - off, lens, count, null, null, 0)
          let k = 1
          if (r > 0) {
            k = r
            done = ends[r - 1]!
            nobufsAt = -1
            refusing = false
          } else if (r === -EAGAIN || (r === -ENOBUFS && !nobufsForGood())) {
            stall = -r
            break
          } else {
            // a hard error (EMSGSIZE, ENETDOWN, …) for the first datagram: drop that one, send the rest
            errs++
            lastErr = -r
            done = ends[0]!
          }
          for (let j = 0; j < k; j++) off += lens[j]!
          lens.copyWithin(0, k, count)
          ends.copyWithin(0, k, count)
          count -= k
        }
        const ok = count === 0
        count = 0
        used = 0
        return ok
      }
      /** ENOBUFS for the packet at `done`: true once it has been refused for NOBUFS_GIVE_UP_MS (then: drop it). */
      const nobufsForGood = (): boolean => {
        if (refusing) return true
        const now = performance.now()
        if (nobufsAt !== done) {
          nobufsAt = done
          nobufsSince = now
          nobufsTries = 1
          return false
        }
        if (++nobufsTries < NOBUFS_GIVE_UP_TRIES || now - nobufsSince < NOBUFS_GIVE_UP_MS) return false
        nobufsAt = -1
        refusing = true
        return true
      }
      this.#drivers.set(nicRingSlot(g, true, i), {
        sync: () => {
          const head = tx.head
          if (head > lim) throw new NetmapError('SyncError', `txsync prologue: head ${head} out of range`)
          let k = hwcur
          done = hwcur
          stall = 0
          errs = 0
          outer: while (k !== head) {
            // one packet: the slots from k through the first one without NS_MOREFRAG, gathered into one datagram
            let e = k
            let total = 0
            let frags = 0
            let bad = 0
            for (;;) {
              const l = tx.len(e)
              const bi = tx.bufIdx(e)
              if (bi < 2 || bi >= nbufs) bad = EINVAL
              else if (l > bs) bad ||= EMSGSIZE
              total += l
              frags++
              const more = (tx.slotFlags(e) & NS_MOREFRAG) !== 0
              e = e === lim ? 0 : e + 1
              if (!more) break
              if (e === head) break outer // an unfinished chain waits for its last fragment
            }
            if (bad !== 0 || frags > MAX_FRAGS) {
              if (!flush()) break
              // a bad buf_idx, a slot longer than its buffer, or more than NETMAP_MAX_FRAGS fragments: dropped
              errs++
              lastErr = bad || EMSGSIZE
              done = e
              k = e
              continue
            }
            if ((count === 64 || used + total > batchCap) && !flush()) break
            let o = batchOff + used
            for (let f = k; f !== e; f = f === lim ? 0 : f + 1) {
              const src = bufBase + tx.bufIdx(f) * bs
              const l = tx.len(f)
              u8.copyWithin(o, src, src + l)
              o += l
            }
            lens[count] = total
            ends[count] = e
            count++
            used += total
            k = e
          }
          if (stall === 0) flush()
          // sent (or dropped for good) up to done; under load the rest keeps its slots and tail stops there
          hwcur = done
          tx.tail = done === 0 ? lim : done - 1
          if (errs > 0) {
            stats.txErrors += errs
            stats.txLastErrno = lastErr
            throw new NetmapError(
              'Io',
              `sendmmsg dropped ${errs} frame${errs === 1 ? '' : 's'}: errno ${lastErr} (${errnoName(lastErr)}); the ring moved past ${errs === 1 ? 'it' : 'them'}`,
            )
          }
        },
        // a full socket buffer: wait for POLLOUT; a full qdisc (ENOBUFS) shows no readiness, so back off 1 ms
        wait: (signal) => (stall === EAGAIN ? p.wait('writable', signal) : sleep(1, undefined, { signal })),
        ready: () => false,
      })
    }
    if (rx) {
      const bufBase = rx.byteOffset + rx.bufOfs
      const truncBit = NK('MSG_TRUNC')
      const stamp = tsWriter(rx)
      const meta = new Int32Array(64 * 3)
      const direct = rxDirect(bs, mtu)
      // batch mode: slots of the MTU (+ Ethernet and VLAN headers); longer frames (GRO on a real NIC, an MTU raised
      // after the open) are cut by the kernel (MSG_TRUNC): counted in rxTruncated and dropped (direct mode too)
      const slotSize = rxSlotSize(bs, mtu)
      const batchOff = direct ? 0 : this.#take(rxBatchBytes(bs, mtu))
      let hwtail = 0
      let room = 0
      /** Batch mode: the datagrams of the batch not yet in the ring, pj … pn-1 (a chain needed more free slots). */
      let pj = 0
      let pn = 0
      /** A free slot with a bad buf_idx found by this sync (-1: none). */
      let badSlot = -1
      /** Copies pending datagrams into the ring, a frame longer than a buffer as a NS_MOREFRAG chain. */
      const deliver = (): boolean => {
        for (; pj < pn; pj++) {
          if ((meta[pj * 3 + 1]! & truncBit) !== 0) {
            stats.rxTruncated++
            continue
          }
          const len = meta[pj * 3]!
          const frags = fragments(len, bs)
          if (frags > lim) {
            stats.rxTruncated++ // longer than the whole ring could hold
            continue
          }
          if (frags > room) return false
          for (let f = 0, t = hwtail; f < frags; f++, t = t === lim ? 0 : t + 1) {
            const bi = rx.bufIdx(t)
            if (bi < 2 || bi >= nbufs) {
              badSlot = t
              return false
            }
          }
          let o = batchOff + pj * slotSize
          const endo = o + len
          for (let f = 0; f < frags; f++) {
            const m = Math.min(bs, endo - o)
            u8.copyWithin(bufBase + rx.bufIdx(hwtail) * bs, o, o + m)
            rx.setLen(hwtail, m)
            rx.setSlotFlags(hwtail, f < frags - 1 ? NS_MOREFRAG : 0)
            o += m
            hwtail = hwtail === lim ? 0 : hwtail + 1
          }
          room -= frags
        }
        return true
      }
      /** Direct mode: recvmmsg into the run of consecutive buffers from hwtail (up to the wrap point). */
      const recvDirect = (): boolean => {
        const b0 = rx.bufIdx(hwtail)
        if (b0 < 2 || b0 >= nbufs) {
          badSlot = hwtail
          return false
        }
        let m = 1
        const most = Math.min(room, 64, n - hwtail, nbufs - b0)
        while (m < most && rx.bufIdx(hwtail + m) === b0 + m) m++
        const got = binding.recvmmsg(fd, u8, bufBase + b0 * bs, m * bs, bs, meta, null, 0, 0)
        if (got <= 0) return false
        let w = 0 // slots kept: a cut frame is dropped and the ones after it move down
        for (let j = 0; j < got; j++) {
          if ((meta[j * 3 + 1]! & truncBit) !== 0) {
            stats.rxTruncated++
            continue
          }
          const len = meta[j * 3]!
          if (w !== j) u8.copyWithin(bufBase + (b0 + w) * bs, bufBase + (b0 + j) * bs, bufBase + (b0 + j) * bs + len)
          rx.setLen(hwtail + w, len)
          rx.setSlotFlags(hwtail + w, 0)
          w++
        }
        hwtail += w
        if (hwtail === n) hwtail = 0
        room -= w
        return got === m // a full run: there may be more
      }
      /** Would the first pending datagram fit the slots the application has given back? */
      const pendingFits = (): boolean => {
        return fragments(meta[pj * 3]!, bs) <= rxRoom(rx.head, hwtail, n)
      }
      this.#drivers.set(nicRingSlot(g, false, i), {
        sync: () => {
          const head = rx.head
          if (head > lim) throw new NetmapError('SyncError', `rxsync prologue: head ${head} out of range`)
          room = rxRoom(head, hwtail, n)
          if (direct) {
            while (room > 0 && recvDirect()) {}
          } else {
            let drained = false
            for (;;) {
              if (pj < pn && !deliver()) break // the ring is full; the rest waits in the batch
              if (room === 0 || drained) break
              const max = Math.min(room, 64)
              // never more datagrams than the ring has slots for
              const got = binding.recvmmsg(fd, u8, batchOff, max * slotSize, slotSize, meta, null, 0, 0)
              if (got <= 0) break
              pj = 0
              pn = got
              drained = got < max
            }
          }
          rx.tail = hwtail
          stamp()
          if (badSlot >= 0) {
            const t = badSlot
            badSlot = -1
            throw badBuffer('rxsync', t, rx.bufIdx(t))
          }
        },
        // a chain waiting for free slots: ready at once only if the ring has room for it now (else the application
        // holds slots, and waiting on the socket at least goes through the event loop)
        wait: (signal) => (pj < pn && pendingFits() ? RESOLVED_WAIT : p.wait('readable', signal)),
        ready: () => false,
      })
    }
  }

  /** The host ring pair over the tap fd: TX = write(2) per frame into the stack, RX = read(2) per frame from it. */
  #hostRing(p: Pollable): void {
    const g = this.geometry
    const nbufs = bufferCount(g)
    const valid = (b: number): boolean => b >= 2 && b < nbufs
    const fd = p.fd.fd
    const tx = this.#view(nicRingSlot(g, true, g.nRings))
    const rx = this.#view(nicRingSlot(g, false, g.nRings))
    const u8 = new Uint8Array(this.buffer)
    const stats = this.stats
    const n = g.numSlots
    const lim = n - 1
    const bs = g.bufSize
    if (tx) {
      const bufBase = tx.byteOffset + tx.bufOfs
      // a NS_MOREFRAG chain is gathered here and written as one frame
      const gather = this.#take(gatherBytes(bs))
      let hwcur = 0
      this.#drivers.set(nicRingSlot(g, true, g.nRings), {
        sync: () => {
          const head = tx.head
          if (head > lim) throw new NetmapError('SyncError', `txsync prologue: head ${head} out of range`)
          let errs = 0
          let lastErr = 0
          /**
           * Every failed write is counted; a full or down tap or a runt frame is dropped quietly (the stack would drop
           * it too), anything else — and a packet the ring itself made bad — is also thrown once after the sync.
           */
          const countWriteError = (r: number, ours: boolean): void => {
            stats.txErrors++
            stats.txLastErrno = -r
            if (ours || (r !== -EAGAIN && r !== -ENOBUFS && r !== -EIO && r !== -EINVAL && r !== -ENOMEM)) {
              errs++
              lastErr = -r
            }
          }
          let k = hwcur
          outer: while (k !== head) {
            if ((tx.slotFlags(k) & NS_MOREFRAG) === 0) {
              // one slot: written from its buffer
              const len = tx.len(k)
              const bi = tx.bufIdx(k)
              const r = !valid(bi) ? -EINVAL : len > bs ? -EMSGSIZE : binding.write(fd, u8, bufBase + bi * bs, len)
              if (r < 0) countWriteError(r, !valid(bi))
              k = k === lim ? 0 : k + 1
              continue
            }
            let e = k
            let total = 0
            let frags = 0
            let bad = 0
            for (;;) {
              const len = tx.len(e)
              if (!valid(tx.bufIdx(e))) bad = EINVAL
              else if (len > bs || frags >= MAX_FRAGS) bad ||= EMSGSIZE
              else if (bad === 0) {
                const off = bufBase + tx.bufIdx(e) * bs
                u8.copyWithin(gather + total, off, off + len)
              }
              total += len
              frags++
              const more = (tx.slotFlags(e) & NS_MOREFRAG) !== 0
              e = e === lim ? 0 : e + 1
              if (!more) break
              if (e === head) break outer // an unfinished chain waits for its last fragment
            }
            const r = bad !== 0 ? -bad : binding.write(fd, u8, gather, total)
            if (r < 0) countWriteError(r, bad !== 0)
            k = e
          }
          hwcur = k
          tx.tail = k === 0 ? lim : k - 1
          if (errs > 0) {
            throw new NetmapError(
              'Io',
              `write to tap dropped ${errs} frame${errs === 1 ? '' : 's'}: errno ${lastErr} (${errnoName(lastErr)})`,
            )
          }
        },
        wait: (signal) => p.wait('writable', signal),
        ready: () => false,
      })
    }
    if (rx) {
      const bufBase = rx.byteOffset + rx.bufOfs
      // any frame a tap without IFF_VNET_HDR delivers (MTU ≤ 65535, plus headers) fits; longer ones than a buffer
      // become NS_MOREFRAG chains over the ring's buffers
      const scratch = this.#take(TAP_READ_BYTES)
      const stamp = tsWriter(rx)
      let hwtail = 0
      /** Bytes of a frame read but not yet in the ring (it needed more slots than were free), or 0. */
      let pending = 0
      const hostPendingFits = (): boolean => {
        return fragments(pending, bs) <= rxRoom(rx.head, hwtail, n)
      }
      this.#drivers.set(nicRingSlot(g, false, g.nRings), {
        sync: () => {
          const head = rx.head
          if (head > lim) throw new NetmapError('SyncError', `rxsync prologue: head ${head} out of range`)
          let room = rxRoom(head, hwtail, n)
          let err = 0
          while (room > 0) {
            let len = pending
            if (len === 0) {
              const r = binding.read(fd, u8, scratch, TAP_READ_BYTES)
              if (r <= 0) {
                if (r !== 0 && r !== -EAGAIN) err = -r
                break
              }
              len = r
            }
            const frags = fragments(len, bs)
            if (frags > lim) {
              pending = 0
              stats.rxTruncated++ // longer than the whole ring could hold
              continue
            }
            if (frags > room) {
              pending = len
              break
            }
            let bad = -1
            for (let f = 0, t = hwtail; f < frags && bad < 0; f++, t = t === lim ? 0 : t + 1) {
              if (!valid(rx.bufIdx(t))) bad = t
            }
            if (bad >= 0) {
              pending = len
              rx.tail = hwtail
              throw badBuffer('host rxsync', bad, rx.bufIdx(bad))
            }
            pending = 0
            for (let f = 0, o = 0; f < frags; f++) {
              const m = Math.min(bs, len - o)
              u8.copyWithin(bufBase + rx.bufIdx(hwtail) * bs, scratch + o, scratch + o + m)
              rx.setLen(hwtail, m)
              rx.setSlotFlags(hwtail, f < frags - 1 ? NS_MOREFRAG : 0)
              o += m
              hwtail = hwtail === lim ? 0 : hwtail + 1
            }
            room -= frags
          }
          rx.tail = hwtail
          stamp()
          if (err !== 0) throw new NetmapError('Io', `read from tap failed: errno ${err} (${errnoName(err)})`)
        },
        wait: (signal) => (pending > 0 && hostPendingFits() ? RESOLVED_WAIT : p.wait('readable', signal)),
        ready: () => false,
      })
    }
  }

  /** The ring at ring_ofs position k (NIC TX i = i, host TX = n, NIC RX i = n + 1 + i, host RX = 2n + 1). */
  ring(k: number): RingView | null {
    return this.#drivers.has(k) ? this.#view(k) : null
  }

  /** The sync/wait of the ring at ring_ofs position k. */
  driver(k: number): RingDriver {
    const d = this.#drivers.get(k)
    if (!d) throw new NetmapError('InvalidRingIndex', `ring ${k} is not bound to this fd`)
    return d
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const c of this.#owned.splice(0)) c.close()
  }
}

/** An AF_PACKET socket on ifindex for ring pair i of n: the queue filter goes on before bind, so no stray frame. */
function openQueueSocket(spec: PortSpec, ifindex: number, i: number, n: number, base: 0 | 1, rx: boolean): OwnedFd {
  let sock: OwnedFd | null = null
  try {
    sock = packetSocket({ protocol: 0 }) // protocol 0: receives nothing until bind names ETH_P_ALL
    if (n > 1 && rx) {
      let prog: OwnedFd
      try {
        prog = loadQueueFilter(i, n, base)
      } catch (e) {
        throw new NetmapError(
          'BindFail',
          `${spec.spec}: loading the RX queue filter for ring ${i} failed (${(e as Error).message}); multi-queue NIC ports need CAP_BPF (or CAP_SYS_ADMIN)`,
          { cause: e },
        )
      }
      try {
        setsockoptInt(sock, NK('SOL_SOCKET'), SO_ATTACH_BPF, prog.fd)
      } finally {
        prog.close()
      }
    }
    setsockoptInt(sock, NK('SOL_PACKET'), NK('PACKET_IGNORE_OUTGOING'), 1)
    if (rx) {
      try {
        setsockoptInt(sock, NK('SOL_SOCKET'), NK('SO_RCVBUFFORCE'), 8 << 20) // room for bursts between rxsyncs
      } catch {
        setsockoptInt(sock, NK('SOL_SOCKET'), NK('SO_RCVBUF'), 8 << 20) // capped by net.core.rmem_max
      }
    }
    // TX-only (/T) sockets bind protocol 0 and receive nothing
    bind(sock, sockaddrLl({ ifindex, protocol: rx ? NK('ETH_P_ALL') : 0 }))
    return sock
  } catch (e) {
    sock?.close()
    if (e instanceof NetmapError) throw e
    throw new NetmapError('BindFail', `${spec.spec}: AF_PACKET socket: ${(e as Error).message}`, { cause: e })
  }
}
