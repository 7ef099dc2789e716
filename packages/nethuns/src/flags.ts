// Flags per backend (nethuns-rs names in camelCase, plus the C nethuns options the kernel paths need), their
// defaults, and validation. Every check throws NethunsError ERR_NETHUNS_FLAGS / ERR_NETHUNS_QUEUE.
import { N } from './binding.js'
import { flagsError, NethunsError } from './errors.js'
import type { AfPacketMeta, AfXdpMeta, NetmapMeta, PcapMeta } from './metadata.js'
import type { FilterFn } from './socket.js'

const PAGE = N('PAGE_SIZE')
const TPACKET3_HDRLEN = N('TPACKET3_HDRLEN')
const TX_DATA = N('AFP_TX_DATA_OFFSET')

/** Options every backend takes. */
export interface CommonFlags {
  /** Bytes per Context buffer: longer frames are truncated (meta `truncated`). Default 2048. */
  bufferSize?: number
  /** Buffers in the socket's Context. Default 4096. */
  bufferCount?: number
  /** Packets per native receive call. Default 64. */
  batchSize?: number
  /**
   * User-space interrupt coalescing: after a wake-up that brought less than a batch, wait this many ms before
   * polling again (the ring collects packets meanwhile). Trades up to that much latency for fewer wake-ups; useful
   * on af_xdp copy mode, which wakes per packet. Default 0 (off).
   */
  coalesceMs?: number
}

export type Direction = 'in' | 'out' | 'inout'
export type Mode = 'rx_tx' | 'rx_only' | 'tx_only'
export type FanoutMode = 'hash' | 'lb' | 'cpu' | 'rollover' | 'rnd' | 'qm'

export interface FanoutOptions {
  /** Fanout group id (0..65535): every socket with the same id on the interface shares its traffic. */
  group: number
  /** How frames are spread; C nethuns strings such as 'hash|defrag' are accepted too. Default 'hash'. */
  mode?: FanoutMode | string
  defrag?: boolean
  rollover?: boolean
  uniqueId?: boolean
}

export interface AfPacketFlags extends CommonFlags {
  /** RX block size in bytes (a multiple of the page size). Default 1 MiB. */
  blockSize?: number
  /** RX blocks. Default 8. */
  numBlocks?: number
  /** tp_frame_size of the RX request (sizes the request only; V3 packs frames). Default 2048. */
  frameSize?: number
  /** Block retire timeout (tp_retire_blk_tov), ms: the longest a packet waits in an unfilled block. Default 10. */
  timeoutMs?: number
  /** TX ring frames (0: no TX ring). Default 1024. */
  txFrames?: number
  /** TX frame size (a multiple of 16): frames of up to txFrameSize - 48 bytes. Default 2048. */
  txFrameSize?: number
  /** PACKET_QDISC_BYPASS on the TX path. Default false. */
  qdiscBypass?: boolean
  /** PACKET_LOSS: skip malformed TX frames instead of stopping. Default false. */
  txLoss?: boolean
  /** PACKET_MR_PROMISC membership (reference-counted by the kernel, dropped on close). Default false. */
  promiscuous?: boolean
  /** TP_FT_REQ_FILL_RXHASH. Default false. */
  rxhash?: boolean
  /** Which frames to deliver (C nethuns `dir`). Default 'in' (not the frames this host sends). */
  direction?: Direction
  /** C nethuns `mode`. Default 'rx_tx'. */
  mode?: Mode
  fanout?: FanoutOptions | null
  /** A BPF filter (tcpdump syntax), compiled with libpcap and attached in the kernel (SO_ATTACH_FILTER). */
  filter?: string | null
  /** A user-space filter (> 0 deliver, 0 drop, < 0 header only). */
  filterFn?: FilterFn<AfPacketMeta> | null
}

export interface ResolvedPcapFlags {
  readonly bufferSize: number
  readonly coalesceMs: number
  readonly bufferCount: number
  readonly batchSize: number
  readonly stashSize: number
  readonly snaplen: number
  readonly promiscuous: boolean
  readonly timeoutMs: number
  readonly immediate: boolean
  readonly filter: string | null
  readonly kernelBufferSize: number
  readonly direction: Direction
  readonly mode: Mode
  readonly txFrames: number
  readonly filterFn: FilterFn<PcapMeta> | null
}

export interface ResolvedAfPacketFlags {
  readonly bufferSize: number
  readonly coalesceMs: number
  readonly bufferCount: number
  readonly batchSize: number
  readonly stashSize: number
  readonly blockSize: number
  readonly numBlocks: number
  readonly frameSize: number
  readonly timeoutMs: number
  readonly txFrames: number
  readonly txFrameSize: number
  readonly txBlockSize: number
  readonly qdiscBypass: boolean
  readonly txLoss: boolean
  readonly promiscuous: boolean
  readonly rxhash: boolean
  readonly direction: Direction
  readonly mode: Mode
  readonly fanout: Readonly<Required<FanoutOptions>> | null
  readonly filter: string | null
  readonly filterFn: FilterFn<AfPacketMeta> | null
  readonly snaplenForFilter: number
}

/** nethuns-rs `PcapFlags` (defaults as there), plus the direction. */
export interface PcapFlags extends CommonFlags {
  /** Bytes captured per packet. Default 65535; libpcap is given min(snaplen, bufferSize). */
  snaplen?: number
  /** Default true. */
  promiscuous?: boolean
  /** Read timeout, ms. Default 1. */
  timeoutMs?: number
  /** Immediate mode (deliver without buffering). Default true. */
  immediate?: boolean
  /** BPF filter expression (tcpdump syntax). */
  filter?: string | null
  /** libpcap's ring in bytes (pcap_set_buffer_size; 0 keeps libpcap's 2 MiB). With immediate mode each frame
   * takes a snaplen-sized slot: lower snaplen for a deeper ring. Default 8 MiB. */
  kernelBufferSize?: number
  /** pcap_setdirection. Default 'inout' (libpcap's default). */
  direction?: Direction
  /** Frames the transmit staging area holds (pcap_inject per frame at flush; frames up to bufferSize). Default 256. */
  txFrames?: number
  /** C nethuns `mode`. Default 'rx_tx'. */
  mode?: Mode
  filterFn?: FilterFn<PcapMeta> | null
}

/** nethuns-rs `AfXdpFlags`, plus the mode names of C nethuns and the software timestamp. */
export interface AfXdpFlags extends CommonFlags {
  /** sxdp_flags: XDP_COPY, XDP_ZEROCOPY, XDP_USE_NEED_WAKEUP (numbers). Default XDP_COPY. */
  bindFlags?: number
  /** XDP_FLAGS_SKB_MODE or XDP_FLAGS_DRV_MODE (numbers). Default: from `xdpMode`. */
  xdpFlags?: number
  /** 'skb' (generic XDP, any netdev) or 'drv' (native; veth has it). Default 'skb'. */
  xdpMode?: 'skb' | 'drv'
  /** UMEM frames (a power of two). Default 4096. */
  numFrames?: number
  /** UMEM frame size: 2048 or 4096. Default 4096. */
  frameSize?: number
  /** TX ring size (a power of two). Default 2048. */
  txSize?: number
  /** RX ring size (a power of two). Default 2048. */
  rxSize?: number
  /** Fill and completion ring size (a power of two). Default 2 × rxSize. */
  fillSize?: number
  /** Software timestamp (CLOCK_REALTIME_COARSE) in the metadata. Default false. */
  timestamp?: boolean
  /** C nethuns `mode`. Default 'rx_tx'. */
  mode?: Mode
  /** A BPF filter run on each frame in the receive loop (compiled with libpcap; no kernel attach for XSKs). */
  filter?: string | null
  filterFn?: FilterFn<AfXdpMeta> | null
}

export function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw flagsError(`${name} must be an integer in [${min}, ${max}], got ${String(v)}`)
  }
  return v
}

function checkBool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw flagsError(`${name} must be a boolean, got ${String(v)}`)
  return v
}

function checkOneOf<T extends string>(name: string, v: unknown, values: readonly T[]): T {
  if (typeof v !== 'string' || !values.includes(v as T)) {
    throw flagsError(`${name} must be one of ${values.map((x) => `'${x}'`).join(', ')}, got ${String(v)}`)
  }
  return v as T
}

function checkFilter(v: unknown): string | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'string') throw flagsError(`filter must be a string, got ${typeof v}`)
  return v
}

function checkFn<F>(name: string, v: unknown): F | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'function') throw flagsError(`${name} must be a function`)
  return v as F
}

export const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0

const KNOWN = new Set([
  'bufferSize',
  'bufferCount',
  'batchSize',
  'filter',
  'filterFn',
  'mode',
  'direction',
  'coalesceMs',
])
function checkKnown(flags: object, backend: string, own: readonly string[]): void {
  for (const k of Object.keys(flags)) {
    if (!KNOWN.has(k) && !own.includes(k)) throw flagsError(`unknown ${backend} flag '${k}'`)
  }
}

export function resolveCommon(flags: CommonFlags): {
  bufferSize: number
  bufferCount: number
  batchSize: number
  stashSize: number
  coalesceMs: number
} {
  const bufferSize = checkInt('bufferSize', flags.bufferSize ?? 2048, 64, 1 << 18)
  const bufferCount = checkInt('bufferCount', flags.bufferCount ?? 4096, 16, 1 << 22)
  const batchSize = checkInt('batchSize', flags.batchSize ?? 64, 1, 4096)
  if (batchSize * 2 > bufferCount) throw flagsError(`batchSize ${batchSize} needs bufferCount >= ${2 * batchSize}`)
  const stashSize = Math.min(Math.max(2 * batchSize, 128), bufferCount >> 1)
  return { bufferSize, bufferCount, batchSize, stashSize, coalesceMs: checkCoalesce(flags.coalesceMs) }
}

function checkCoalesce(v: unknown): number {
  return checkInt('coalesceMs', v ?? 0, 0, 1000)
}

/** AF_PACKET and libpcap bind the whole interface: only "any queue" (null). */
export function checkQueueAny(queue: unknown, backend: string): void {
  if (queue === null || queue === undefined) return
  throw new NethunsError(
    'ERR_NETHUNS_QUEUE',
    `${backend} binds the whole interface: queue must be null (any), got ${String(queue)}` +
      (backend === 'af_packet' ? '; spread the load with fanout' : ''),
  )
}

const FANOUT_MODES: Record<string, number> = {
  hash: N('PACKET_FANOUT_HASH'),
  lb: N('PACKET_FANOUT_LB'),
  cpu: N('PACKET_FANOUT_CPU'),
  rollover: N('PACKET_FANOUT_ROLLOVER'),
  rnd: N('PACKET_FANOUT_RND'),
  qm: N('PACKET_FANOUT_QM'),
}

function resolveFanout(v: unknown): Readonly<Required<FanoutOptions>> | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'object') throw flagsError('fanout must be an object { group, mode }')
  const o = v as FanoutOptions
  const group = checkInt('fanout.group', o.group, 0, 0xffff)
  const parts = String(o.mode ?? 'hash').split('|')
  const mode = parts[0]
  if (!(mode in FANOUT_MODES)) {
    throw flagsError(`fanout.mode must be one of ${Object.keys(FANOUT_MODES).join(', ')}, got '${mode}'`)
  }
  let defrag = o.defrag ?? false
  let rollover = o.rollover ?? false
  for (const p of parts.slice(1)) {
    if (p === 'defrag') defrag = true
    else if (p === 'rollover') rollover = true
    else throw flagsError(`unknown fanout option '${p}'`)
  }
  return { group, mode, defrag, rollover, uniqueId: o.uniqueId ?? false }
}

/** setsockopt(PACKET_FANOUT) argument: group | (mode | flags) << 16. */
export function fanoutArg(f: Readonly<Required<FanoutOptions>>): number {
  let m = FANOUT_MODES[f.mode]
  if (f.defrag) m |= N('PACKET_FANOUT_FLAG_DEFRAG')
  if (f.rollover) m |= N('PACKET_FANOUT_FLAG_ROLLOVER')
  if (f.uniqueId) m |= N('PACKET_FANOUT_FLAG_UNIQUEID')
  return f.group | (m << 16) | 0
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

export function resolveAfPacketFlags(flags: AfPacketFlags): ResolvedAfPacketFlags {
  if (typeof flags !== 'object' || flags === null) throw flagsError('flags must be an object')
  checkKnown(flags, 'af_packet', [
    'blockSize',
    'numBlocks',
    'frameSize',
    'timeoutMs',
    'txFrames',
    'txFrameSize',
    'qdiscBypass',
    'txLoss',
    'promiscuous',
    'rxhash',
    'fanout',
  ])
  const common = resolveCommon(flags)
  const blockSize = checkInt('blockSize', flags.blockSize ?? 1 << 20, PAGE, 1 << 30)
  if (blockSize % PAGE !== 0) throw flagsError(`blockSize ${blockSize} is not a multiple of the page size ${PAGE}`)
  const numBlocks = checkInt('numBlocks', flags.numBlocks ?? 8, 1, 1 << 16)
  const frameSize = checkInt('frameSize', flags.frameSize ?? 2048, TPACKET3_HDRLEN, blockSize)
  if (frameSize % 16 !== 0) throw flagsError(`frameSize ${frameSize} is not a multiple of 16 (TPACKET_ALIGNMENT)`)
  const timeoutMs = checkInt('timeoutMs', flags.timeoutMs ?? 10, 0, 60_000)
  const txFrameSize = checkInt('txFrameSize', flags.txFrameSize ?? 2048, TX_DATA + 64, 1 << 18)
  if (txFrameSize % 16 !== 0) throw flagsError(`txFrameSize ${txFrameSize} is not a multiple of 16`)
  let txFrames = checkInt('txFrames', flags.txFrames ?? 1024, 0, 1 << 20)
  // TX blocks: the smallest page multiple that holds whole frames; frames rounded up to fill whole blocks.
  const txBlockSize = (PAGE / gcd(PAGE, txFrameSize)) * txFrameSize
  const perBlock = txBlockSize / txFrameSize
  txFrames = Math.ceil(txFrames / perBlock) * perBlock
  let mode = checkOneOf<Mode>('mode', flags.mode ?? 'rx_tx', ['rx_tx', 'rx_only', 'tx_only'])
  if (txFrames === 0 && mode === 'rx_tx') mode = 'rx_only'
  if (txFrames === 0 && mode === 'tx_only') throw flagsError('tx_only needs txFrames > 0')
  return {
    ...common,
    blockSize,
    numBlocks,
    frameSize,
    timeoutMs,
    txFrames,
    txFrameSize,
    txBlockSize,
    qdiscBypass: checkBool('qdiscBypass', flags.qdiscBypass ?? false),
    txLoss: checkBool('txLoss', flags.txLoss ?? false),
    promiscuous: checkBool('promiscuous', flags.promiscuous ?? false),
    rxhash: checkBool('rxhash', flags.rxhash ?? false),
    direction: checkOneOf<Direction>('direction', flags.direction ?? 'in', ['in', 'out', 'inout']),
    mode,
    fanout: resolveFanout(flags.fanout),
    filter: checkFilter(flags.filter),
    filterFn: checkFn('filterFn', flags.filterFn),
    snaplenForFilter: 262144,
  }
}

export function resolvePcapFlags(flags: PcapFlags): ResolvedPcapFlags {
  if (typeof flags !== 'object' || flags === null) throw flagsError('flags must be an object')
  checkKnown(flags, 'pcap', ['snaplen', 'promiscuous', 'timeoutMs', 'immediate', 'kernelBufferSize', 'txFrames'])
  const common = resolveCommon(flags)
  return {
    ...common,
    snaplen: checkInt('snaplen', flags.snaplen ?? 65535, 64, 262144),
    promiscuous: checkBool('promiscuous', flags.promiscuous ?? true),
    timeoutMs: checkInt('timeoutMs', flags.timeoutMs ?? 1, 0, 60_000),
    immediate: checkBool('immediate', flags.immediate ?? true),
    filter: checkFilter(flags.filter),
    kernelBufferSize: checkInt('kernelBufferSize', flags.kernelBufferSize ?? 1 << 23, 0, 1 << 30),
    direction: checkOneOf<Direction>('direction', flags.direction ?? 'inout', ['in', 'out', 'inout']),
    mode: checkOneOf<Mode>('mode', flags.mode ?? 'rx_tx', ['rx_tx', 'rx_only', 'tx_only']),
    txFrames: checkInt('txFrames', flags.txFrames ?? 256, 1, 1 << 16),
    filterFn: checkFn('filterFn', flags.filterFn),
  }
}

export interface ResolvedAfXdpFlags {
  readonly bufferSize: number
  readonly coalesceMs: number
  readonly bufferCount: number
  readonly batchSize: number
  readonly stashSize: number
  readonly bindFlags: number
  readonly xdpMode: 'skb' | 'drv'
  readonly numFrames: number
  readonly frameSize: number
  readonly txSize: number
  readonly rxSize: number
  readonly fillSize: number
  readonly compSize: number
  readonly timestamp: boolean
  readonly mode: Mode
  readonly filter: string | null
  readonly filterFn: FilterFn<AfXdpMeta> | null
  readonly bindRetryMs: number
}

function checkPow2(name: string, v: number): number {
  if (!isPowerOfTwo(v)) throw flagsError(`${name} must be a power of two, got ${v}`)
  return v
}

export function resolveAfXdpFlags(flags: AfXdpFlags & { bindRetryMs?: number }): ResolvedAfXdpFlags {
  if (typeof flags !== 'object' || flags === null) throw flagsError('flags must be an object')
  checkKnown(flags, 'af_xdp', [
    'bindFlags',
    'xdpFlags',
    'xdpMode',
    'numFrames',
    'frameSize',
    'txSize',
    'rxSize',
    'fillSize',
    'timestamp',
    'bindRetryMs',
  ])
  if (flags.bufferSize !== undefined || flags.bufferCount !== undefined) {
    throw flagsError('af_xdp buffers are UMEM frames: set frameSize and numFrames, not bufferSize/bufferCount')
  }
  const frameSize = checkInt('frameSize', flags.frameSize ?? 4096, 2048, 4096)
  if (frameSize !== 2048 && frameSize !== 4096) {
    throw flagsError(`frameSize must be 2048 or 4096 (aligned UMEM chunks), got ${frameSize}`)
  }
  const numFrames = checkPow2('numFrames', checkInt('numFrames', flags.numFrames ?? 4096, 64, 1 << 20))
  const mode = checkOneOf<Mode>('mode', flags.mode ?? 'rx_tx', ['rx_tx', 'rx_only', 'tx_only'])
  let rxSize = checkPow2('rxSize', checkInt('rxSize', flags.rxSize ?? 2048, 1, 1 << 16))
  let txSize = checkPow2('txSize', checkInt('txSize', flags.txSize ?? 2048, 1, 1 << 16))
  const fillSize = checkPow2('fillSize', checkInt('fillSize', flags.fillSize ?? rxSize, 1, 1 << 16))
  if (mode === 'tx_only') rxSize = 0
  if (mode === 'rx_only') txSize = 0
  const compSize = Math.max(txSize, 64)
  if (fillSize > numFrames) throw flagsError(`fillSize ${fillSize} exceeds numFrames ${numFrames}`)
  let xdpMode: 'skb' | 'drv' = checkOneOf('xdpMode', flags.xdpMode ?? 'skb', ['skb', 'drv'] as const)
  if (flags.xdpFlags !== undefined) {
    const f = checkInt('xdpFlags', flags.xdpFlags, 0, 0xffff)
    const DRV = N('XDP_FLAGS_DRV_MODE_NH')
    const SKB = N('XDP_FLAGS_SKB_MODE_NH')
    if ((f & DRV) !== 0 && (f & SKB) !== 0) throw flagsError('xdpFlags: SKB and DRV mode are exclusive')
    if ((f & ~(DRV | SKB)) !== 0) throw flagsError(`xdpFlags: only XDP_FLAGS_SKB_MODE or XDP_FLAGS_DRV_MODE, got ${f}`)
    if ((f & DRV) !== 0) xdpMode = 'drv'
    else if ((f & SKB) !== 0) xdpMode = 'skb'
  }
  const batchSize = checkInt('batchSize', flags.batchSize ?? 64, 1, 4096)
  if (batchSize * 4 > numFrames) throw flagsError(`batchSize ${batchSize} needs numFrames >= ${4 * batchSize}`)
  return {
    bufferSize: frameSize,
    bufferCount: numFrames,
    coalesceMs: checkCoalesce(flags.coalesceMs),
    batchSize,
    stashSize: Math.min(Math.max(2 * batchSize, 256), numFrames / 4),
    bindFlags: checkInt('bindFlags', flags.bindFlags ?? N('XDP_COPY'), 0, 0xffff),
    xdpMode,
    numFrames,
    frameSize,
    txSize,
    rxSize,
    fillSize,
    compSize,
    timestamp: checkBool('timestamp', flags.timestamp ?? false),
    mode,
    filter: checkFilter(flags.filter),
    filterFn: checkFn('filterFn', flags.filterFn),
    bindRetryMs: checkInt('bindRetryMs', flags.bindRetryMs ?? 3000, 0, 60_000),
  }
}

/**
 * nethuns-rs `NetmapFlags { extra_buf }`, plus what opening a netmap port over @x/netmap takes. Packets are copied
 * out of the ring into the socket's Context, whose buffers play the role of netmap's extra buffers: `extraBuf` is
 * how many received packets the application may hold at once (see the README's netmap section).
 */
export interface NetmapFlags extends CommonFlags {
  /**
   * Buffers the application may hold beyond the ring (upstream: `nr_extra_bufs`, swapped into the RX ring). Here
   * the size of the socket's Context (an alias of `bufferCount`; give one or the other). Default 4096.
   */
  extraBuf?: number
  /** C nethuns `mode`. Default 'rx_tx'. */
  mode?: Mode
  /** Slots per ring of a pipe this open creates, or of a NIC port's rings (@x/netmap `numSlots`). Default 1024. */
  numSlots?: number
  /** Ring pairs of a pipe this open creates (@x/netmap `numTxRings`). Default 1. */
  numRings?: number
  /** A pipe region in a SharedArrayBuffer (@x/netmap `createSharedPipe()`), for pipes between worker threads. */
  sharedMemory?: SharedArrayBuffer | null
  /** Directory of shm pipe regions (@x/netmap `shmDir`; default /dev/shm). */
  shmDir?: string | null
  filterFn?: FilterFn<NetmapMeta> | null
}

export interface ResolvedNetmapFlags {
  readonly bufferSize: number
  readonly coalesceMs: number
  readonly bufferCount: number
  readonly extraBuf: number
  readonly batchSize: number
  readonly stashSize: number
  readonly mode: Mode
  readonly numSlots: number | null
  readonly numRings: number
  readonly sharedMemory: SharedArrayBuffer | null
  readonly shmDir: string | null
  readonly filterFn: FilterFn<NetmapMeta> | null
}

export function resolveNetmapFlags(flags: NetmapFlags): ResolvedNetmapFlags {
  if (typeof flags !== 'object' || flags === null) throw flagsError('flags must be an object')
  checkKnown(flags, 'netmap', ['extraBuf', 'numSlots', 'numRings', 'sharedMemory', 'shmDir'])
  const loose = flags as NetmapFlags & { direction?: unknown; filter?: unknown }
  if (loose.direction !== undefined) throw flagsError('netmap has no direction flag (a ring carries one direction)')
  if (loose.filter !== undefined && loose.filter !== null) {
    throw flagsError('netmap takes no BPF filter string (use filterFn)')
  }
  let count = flags.bufferCount
  if (flags.extraBuf !== undefined) {
    checkInt('extraBuf', flags.extraBuf, 16, 1 << 22)
    if (count !== undefined && count !== flags.extraBuf) {
      throw flagsError(`extraBuf (${flags.extraBuf}) and bufferCount (${String(count)}) disagree: give one of them`)
    }
    count = flags.extraBuf
  }
  const common = resolveCommon({ ...flags, bufferCount: count })
  const shared = flags.sharedMemory ?? null
  if (shared !== null && !(shared instanceof SharedArrayBuffer)) {
    throw flagsError('sharedMemory must be a SharedArrayBuffer (from @x/netmap createSharedPipe())')
  }
  const dir = flags.shmDir ?? null
  if (dir !== null && typeof dir !== 'string') throw flagsError('shmDir must be a string')
  return {
    ...common,
    extraBuf: common.bufferCount,
    mode: checkOneOf<Mode>('mode', flags.mode ?? 'rx_tx', ['rx_tx', 'rx_only', 'tx_only']),
    numSlots: flags.numSlots === undefined ? null : checkInt('numSlots', flags.numSlots, 2, 1 << 16),
    numRings: checkInt('numRings', flags.numRings ?? 1, 1, 64),
    sharedMemory: shared,
    shmDir: dir,
    filterFn: checkFn('filterFn', flags.filterFn),
  }
}
