// nic-shared.ts: what the NIC ring pairs (nic-ring.ts) and the host ring pair (host-ring.ts) of a NIC port without
// the module share with the port (nic.ts): the port's side of a ring (RingHost), the pollable fd, the slot
// arithmetic, the scratch sizes and the errno values the syncs test.
import { constants as osConstants } from 'node:os'
import { getSystemErrorName } from 'node:util'
import { FdWatcher, type OwnedFd } from '@x/native'
import { NS_MOREFRAG, type RingView } from '@x/ring'
import { NetmapError } from './errors.js'
import { type NicGeometry, nicRingSlot } from './layout.js'
import { RESOLVED, type RingDriver } from './ring.js'

export const { EAGAIN, ENOBUFS, EIO, EINVAL, ENOMEM, EMSGSIZE } = osConstants.errno
/** NETMAP_MAX_FRAGS: the most slots one packet may take. */
export const MAX_FRAGS = 64
/**
 * ENOBUFS from AF_PACKET is NET_XMIT_DROP: the qdisc (or driver) refused the frame. Usually a full queue that drains;
 * a frame still refused after NOBUFS_GIVE_UP_TRIES retries spread over NOBUFS_GIVE_UP_MS (a policy drop: `pfifo
 * limit 0`, a tbf burst smaller than the frame, a NIC without carrier) is dropped alone and reported, so it cannot
 * hold the ring for ever; until a frame goes out again, later ENOBUFS frames are dropped at once.
 */
export const NOBUFS_GIVE_UP_MS = 50
export const NOBUFS_GIVE_UP_TRIES = 20

/** RX slots the kernel side may fill: from hwtail up to the one before head (one slot stays empty). */
export function rxRoom(head: number, hwtail: number, n: number): number {
  const r = head - 1 - hwtail
  return r < 0 ? r + n : r
}

/** Slots a frame of len bytes takes (a NS_MOREFRAG chain when it is longer than a buffer). */
export function fragments(len: number, bufSize: number): number {
  return len <= bufSize ? 1 : Math.ceil(len / bufSize)
}

export function bufferCount(g: NicGeometry): number {
  return Math.floor(g.bufTotal / g.bufSize)
}

/**
 * A slot's buf_idx is the user's to change (zero-copy swaps); as the kernel does, one outside [2, buffers) is never
 * dereferenced: TX drops that packet (EINVAL, counted and thrown once), RX stops and throws SyncError after
 * publishing what it received.
 */
export function badBuffer(ring: string, slot: number, idx: number): NetmapError {
  return new NetmapError('SyncError', `${ring}: slot ${slot} has buf_idx ${idx}, not a buffer of this port`)
}
/** RingDriver.wait's "already ready" (RxRing/TxRing compare it by identity and sync again without waiting). */
export const RESOLVED_WAIT = RESOLVED

function roundUp(v: number, a: number): number {
  return Math.ceil(v / a) * a
}

/** Scratch of a TX ring: 64 one-slot packets, or one chain of NETMAP_MAX_FRAGS fragments, gathered. */
export function gatherBytes(bs: number): number {
  return MAX_FRAGS * bs
}
/** RX receives straight into slot buffers when a frame of the MTU (+ Ethernet and VLAN headers) fits a buffer. */
export function rxDirect(bs: number, mtu: number): boolean {
  return mtu + 22 <= bs
}
export function rxSlotSize(bs: number, mtu: number): number {
  return Math.max(bs, roundUp(mtu + 22, 64))
}
/** Scratch of an RX ring: none when it receives into its slots, else a batch of 64 MTU-sized slots. */
export function rxBatchBytes(bs: number, mtu: number): number {
  return rxDirect(bs, mtu) ? 0 : 64 * rxSlotSize(bs, mtu)
}
/** What one read(2) of a tap without IFF_VNET_HDR can return: an MTU of at most 65535, plus headers. */
export const TAP_READ_BYTES = 65536 + 64

export function errnoName(e: number): string {
  try {
    return getSystemErrorName(-e)
  } catch {
    return 'unknown'
  }
}

/** Writes the ring's `ts` (struct timeval, wall clock, as the kernel's microtime() at every RX sync). */
export function tsWriter(ring: RingView): () => void {
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

/** One fd with a lazily made uv_poll watcher: readiness for the rings it feeds. */
export class Pollable {
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

/** What a ring pair's builder gets from its port: the region, its geometry and counters, scratch, registration. */
export interface RingHost {
  readonly geometry: NicGeometry
  readonly buffer: ArrayBuffer
  readonly stats: NicStats
  /** A view of ring_ofs position k, or null when the port did not bind it. */
  view(k: number): RingView | null
  /** `bytes` of scratch past memsize. */
  take(bytes: number): number
  /** Registers the sync/wait of the ring at ring_ofs position k. */
  setDriver(k: number, driver: RingDriver): void
}

/**
 * What a ring pair's builder starts from: pair `i`'s views (null when the port did not bind that direction) and the
 * numbers its syncs use.
 */
export function ringPair(host: RingHost, i: number) {
  const g = host.geometry
  return {
    g,
    /** Buffers of the port: a buf_idx outside [2, nbufs) is never dereferenced (see badBuffer). */
    nbufs: bufferCount(g),
    tx: host.view(nicRingSlot(g, true, i)),
    rx: host.view(nicRingSlot(g, false, i)),
    u8: new Uint8Array(host.buffer),
    stats: host.stats,
    n: g.numSlots,
    lim: g.numSlots - 1,
    bs: g.bufSize,
  }
}

/**
 * Walks the TX packet that starts at slot k: its slots up to the first one without NS_MOREFRAG. Fills
 * out[0] = the slot after its last fragment, out[1] = its bytes, out[2] = 0, or the errno that drops it (EINVAL: a
 * buf_idx outside the port's buffers, which is then never dereferenced; EMSGSIZE: a slot longer than its buffer, or
 * more than NETMAP_MAX_FRAGS fragments). False when the chain does not end before head (it waits for its last
 * fragment). No allocation.
 */
export function walkChain(tx: RingView, k: number, head: number, nbufs: number, out: Int32Array): boolean {
  const lim = tx.numSlots - 1
  const bs = tx.nrBufSize
  let e = k
  let total = 0
  let frags = 0
  let bad = 0
  for (;;) {
    const len = tx.len(e)
    const bi = tx.bufIdx(e)
    if (bi < 2 || bi >= nbufs) bad = EINVAL
    else if (len > bs) bad ||= EMSGSIZE
    total += len
    frags++
    const more = (tx.slotFlags(e) & NS_MOREFRAG) !== 0
    e = e === lim ? 0 : e + 1
    if (!more) break
    if (e === head) return false
  }
  out[0] = e
  out[1] = total
  out[2] = bad || (frags > MAX_FRAGS ? EMSGSIZE : 0)
  return true
}

/** Copies the fragments of slots [k, e) (a packet walkChain accepted) back to back into u8 at `to`. */
export function gatherChain(tx: RingView, k: number, e: number, u8: Uint8Array, to: number): void {
  const lim = tx.numSlots - 1
  const base = tx.byteOffset + tx.bufOfs
  const bs = tx.nrBufSize
  for (let f = k, o = to; f !== e; f = f === lim ? 0 : f + 1) {
    const src = base + tx.bufIdx(f) * bs
    const len = tx.len(f)
    u8.copyWithin(o, src, src + len)
    o += len
  }
}
