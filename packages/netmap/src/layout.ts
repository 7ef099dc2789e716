// layout.ts: the netmap ABI numbers the TS side needs (tested against the addon's sizeof/offsetof), and the
// geometry of a shared-memory pipe region: backend header page, then [ if pool ][ ring pool ][ buf pool ] exactly
// as the kernel hands out a pipe (reference §2.4–§2.6, §5.3).
import { NETMAP_RING_HEADER_SIZE, NETMAP_SLOT_SIZE } from '@x/ring'

export const NETMAP_API = 14
export const NETMAP_IF_SIZE = 56
export const NETMAP_IF = Object.freeze({
  niName: 0,
  niVersion: 16,
  niFlags: 20,
  niTxRings: 24,
  niRxRings: 28,
  niBufsHead: 32,
  niHostTxRings: 36,
  niHostRxRings: 40,
  ringOfs: 56,
})
export const NI_PRIV_MEM = 0x1
export const NMREQ_HEADER_SIZE = 88
export const NMREQ_REGISTER_SIZE = 56
export const NMREQ_OPTION_SIZE = 24
export const NMREQ_SIZE = 60
export const NM_IFNAMSIZ = 16
export const NETMAP_REQ_IFNAMSIZ = 64
export const NETMAP_BUF_SIZE = 2048
export const NM_PIPE_MAXRINGS = 256
export const NM_PIPE_MAXSLOTS = 4096
export const NETMAP_MAX_FRAGS = 64

/** ioctl numbers: _IOWR('i', 151, struct nmreq_header) etc. (computed here, checked against the addon). */
function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (0x69 << 8) | nr) >>> 0
}
export const NIOCGINFO = ioc(3, 145, NMREQ_SIZE)
export const NIOCREGIF = ioc(3, 146, NMREQ_SIZE)
export const NIOCTXSYNC = ioc(0, 148, 0)
export const NIOCRXSYNC = ioc(0, 149, 0)
export const NIOCCONFIG = ioc(3, 150, 16 + 256)
export const NIOCCTRL = ioc(3, 151, NMREQ_HEADER_SIZE)

export const PAGE = 4096
const roundUp = (n: number, a: number): number => Math.ceil(n / a) * a

// ---- backend header (page 0 and following; never reachable from a netmap_if) ----
export const SHM_MAGIC = 'NMSHM\0\0\x01'
export const SHM_VERSION = 1
export const STATE_INIT = 0
export const STATE_READY = 1
export const STATE_DEAD = 2
/** Pid slots per endpoint (opens of the same end). */
export const PID_SLOTS = 8
/** Byte offsets in the header (u32/i32 words unless noted). */
export const SHM_HEADER = Object.freeze({
  magic: 0, // 8 bytes
  version: 8,
  state: 12,
  nRings: 16,
  numSlots: 20,
  bufSize: 24,
  nBufs: 28,
  ifOff: 32, // file offset of the netmap region (the if pool)
  ifTotal: 36,
  ringTotal: 40,
  bufTotal: 44,
  total: 48, // file size
  krings: 52, // file offset of the kring state lines
  creator: 56,
  refs: 64, // i32[2]: master, slave
  kick: 72, // i32[2]: need_kick per endpoint
  bell: 80, // i32[2]: doorbell counters (SharedArrayBuffer mode)
  excl: 88, // i32[2]: exclusive opens
  asleep: 96, // i32[2]: opens of each endpoint asleep on the doorbell (the peer spins only while this is 0)
  pids: 128, // i32[2][PID_SLOTS]
  parent: 256, // 64 bytes
  id: 320, // 64 bytes
})
/** Per-kring state, one 128-byte line each (one writer per word). */
export const KRING_LINE = 128
export const KRING = Object.freeze({ hwcur: 0, hwtail: 1, rhead: 2, rcur: 3, rtail: 4, pipeTail: 5 })

export interface PipeGeometry {
  readonly nRings: number
  readonly numSlots: number
  readonly bufSize: number
  readonly nBufs: number
  /** File offset of the kring lines. */
  readonly krings: number
  /** File offset of the netmap region (if pool); ring_ofs and buf_ofs are relative to what follows. */
  readonly ifOff: number
  readonly ifSize: number
  readonly ifCount: number
  readonly ifTotal: number
  readonly ringSize: number
  readonly ringTotal: number
  readonly bufTotal: number
  /** nr_memsize. */
  readonly memsize: number
  /** File size. */
  readonly total: number
}

/** Kring numbering in the region: endpoint e (0 master, 1 slave), t (0 TX, 1 RX), ring i. */
export function kringIndex(g: { nRings: number }, endpoint: number, tx: boolean, i: number): number {
  return (endpoint * 2 + (tx ? 0 : 1)) * g.nRings + i
}

export function pipeGeometry(nRings: number, numSlots: number, bufSize = NETMAP_BUF_SIZE): PipeGeometry {
  const krings = 512
  const ifOff = roundUp(krings + 4 * nRings * KRING_LINE, PAGE)
  // netmap_if: fixed part + ring_ofs for NIC TX, host TX (1 fake), NIC RX, host RX (1 fake)
  const ifSize = roundUp(NETMAP_IF_SIZE + 8 * (2 * nRings + 2), 64)
  // one netmap_if per (endpoint, selection): all rings, then ONE_NIC ring i
  const ifCount = 2 * (1 + (nRings > 1 ? nRings : 0))
  const ifTotal = roundUp(ifCount * ifSize, PAGE)
  const ringSize = roundUp(NETMAP_RING_HEADER_SIZE + NETMAP_SLOT_SIZE * numSlots, 128)
  const ringTotal = roundUp(4 * nRings * ringSize, PAGE)
  const nBufs = 2 + 2 * nRings * numSlots
  const bufTotal = roundUp(nBufs * bufSize, PAGE)
  const memsize = ifTotal + ringTotal + bufTotal
  return Object.freeze({
    nRings,
    numSlots,
    bufSize,
    nBufs,
    krings,
    ifOff,
    ifSize,
    ifCount,
    ifTotal,
    ringSize,
    ringTotal,
    bufTotal,
    memsize,
    total: ifOff + memsize,
  })
}

/** nr_offset of the netmap_if for endpoint e and selection (-1 all rings, else ONE_NIC ring k). */
export function ifOffset(g: PipeGeometry, endpoint: number, ring: number): number {
  const sel = ring < 0 || g.nRings === 1 ? 0 : 1 + ring
  const per = 1 + (g.nRings > 1 ? g.nRings : 0)
  return (endpoint * per + sel) * g.ifSize
}

/** Offset (from the netmap region base) of kring `k`'s struct netmap_ring. */
export function ringOffset(g: PipeGeometry, k: number): number {
  return g.ifTotal + k * g.ringSize
}

/** buf_idx of slot `slot` of the ring pair direction: 0 = master→slave, 1 = slave→master. */
export function pipeBufIdx(g: PipeGeometry, direction: number, ring: number, slot: number): number {
  return 2 + (ring * 2 + direction) * g.numSlots + slot
}

// ---- NIC ports without the module (private region, no backend header) ----

export interface NicGeometry {
  /** NIC ring pairs (ni_tx_rings = ni_rx_rings). */
  readonly nRings: number
  /** Host ring pairs with real rings behind them (0 or 1; ni_host_*_rings is at least 1 either way). */
  readonly hostRings: number
  readonly numSlots: number
  readonly bufSize: number
  readonly ifSize: number
  readonly ifTotal: number
  readonly ringSize: number
  readonly ringTotal: number
  readonly bufTotal: number
  /** Rings that own numSlots buffers each: the bound ones (the kernel makes rings only for krings in use). */
  readonly bufRings: number
  /** nr_memsize (the netmap_if is at offset 0). */
  readonly memsize: number
}

/**
 * A NIC port's region as the kernel's allocator hands it out: [ if pool ][ ring pool ][ buf pool ], one netmap_if,
 * rings in ring_ofs order (NIC TX 0…n-1, host TX, NIC RX 0…n-1, host RX). `bufRings` rings own numSlots buffers each
 * (default every real ring; a NIC port passes the number it binds, as the kernel gives buffers only to krings in
 * use, so a `-K` open of a many-queue NIC does not pay for the others).
 */
export function nicGeometry(
  nRings: number,
  hostRings: number,
  numSlots: number,
  bufSize = NETMAP_BUF_SIZE,
  bufRings = 2 * (nRings + hostRings),
): NicGeometry {
  const ifSize = roundUp(NETMAP_IF_SIZE + 8 * (2 * nRings + 2), 64)
  const ifTotal = roundUp(ifSize, PAGE)
  const ringSize = roundUp(NETMAP_RING_HEADER_SIZE + NETMAP_SLOT_SIZE * numSlots, 128)
  const ringTotal = roundUp((2 * nRings + 2) * ringSize, PAGE)
  const bufTotal = roundUp((2 + bufRings * numSlots) * bufSize, PAGE)
  return Object.freeze({
    nRings,
    hostRings,
    numSlots,
    bufSize,
    ifSize,
    ifTotal,
    ringSize,
    ringTotal,
    bufTotal,
    bufRings,
    memsize: ifTotal + ringTotal + bufTotal,
  })
}

/** Position of a ring in ring_ofs (and in a NIC region's ring pool): tx/rx, NIC ring i or host ring (i = n). */
export function nicRingSlot(g: { nRings: number }, tx: boolean, i: number): number {
  return (tx ? 0 : g.nRings + 1) + i
}
