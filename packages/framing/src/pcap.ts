/**
 * Classic libpcap files, read and written: a 24-byte file header, then `{ts_sec, ts_frac, caplen, origLen}` record
 * headers each followed by `caplen` bytes. Microsecond (magic 0xa1b2c3d4) and nanosecond (0xa1b23c4d) resolution,
 * either byte order on read, any link type.
 */

import { i32, put16, put32, u16, u32, view } from './bytes.js'
import { assertBytes, assertInt } from './check.js'
import { FramingError } from './errors.js'
import { type ByteSink, ChunkedOutput, DEFAULT_BUFFER_SIZE } from './sink.js'
import { FrameDecoder, type FrameDecoderOptions } from './stream.js'
import { type PacketTime, splitTime } from './time.js'

export type { PacketTime }

export const PCAP_MAGIC_US = 0xa1b2c3d4
export const PCAP_MAGIC_NS = 0xa1b23c4d
export const PCAP_HEADER_SIZE = 24
export const PCAP_RECORD_HEADER_SIZE = 16
/** Default snaplen written, and the default cap on `caplen` when reading (Wireshark's standard maximum). */
export const PCAP_DEFAULT_SNAPLEN = 262144

/** A few LINKTYPE_* values (https://www.tcpdump.org/linktypes.html); any u16 works. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  IEEE802_11: 105,
  LOOP: 108,
  LINUX_SLL: 113,
  USER0: 147,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const

export type TsResolution = 'us' | 'ns'

/** A packet read from a pcap or pcapng file. */
export interface PacketRecord {
  /** Interface within its section (always 0 for pcap). */
  interfaceId: number
  /** Section number, counting from 0 (always 0 for pcap). */
  section: number
  linkType: number
  /** Whole seconds since the epoch. */
  tsSec: number
  /** Fraction of the second in units of `1 / tsUnitsPerSec` (the file's resolution: µs, ns or pcapng's
   * if_tsresol). */
  tsFrac: number
  /** 1e6, 1e9, or what pcapng's if_tsresol says. */
  tsUnitsPerSec: number
  /** The timestamp in ns since the epoch (floored for coarser-than-ns pcapng resolutions). */
  tsNs: bigint
  /** Bytes captured (`data.length`). */
  caplen: number
  /** Length of the packet on the wire. */
  origLen: number
  /** View of the captured bytes. */
  data: Uint8Array
  /** pcapng only: the EPB's epb_flags option, when present. */
  flags?: number
  /** pcapng only: the block's options as views (codes and values), when present. */
  options?: PcapngOption[]
}

export interface PcapngOption {
  code: number
  value: Uint8Array
}

export interface PcapHeader {
  endian: 'little' | 'big'
  resolution: TsResolution
  versionMajor: number
  versionMinor: number
  thiszone: number
  sigfigs: number
  snaplen: number
  /** Link type: the low 16 bits of the header's link-type field. */
  linkType: number
  /** The whole 32-bit field (upper bits may carry FCS information). */
  linkTypeField: number
}

function magicOf(b: Uint8Array, p: number): { le: boolean; ns: boolean } | null {
  const be = u32(b, p, false)
  const le = u32(b, p, true)
  if (be === PCAP_MAGIC_US) return { le: false, ns: false }
  if (be === PCAP_MAGIC_NS) return { le: false, ns: true }
  if (le === PCAP_MAGIC_US) return { le: true, ns: false }
  if (le === PCAP_MAGIC_NS) return { le: true, ns: true }
  return null
}

export interface PcapReaderOptions extends FrameDecoderOptions {
  /** Largest `caplen` accepted (default 262,144); a bigger one throws ERR_FRAME_TOO_LARGE before anything is
   * buffered. */
  maxCaplen?: number
}

/**
 * Streaming pcap reader: push the file in chunks of any size, get PacketRecords whose `data` is a view (valid until
 * the next push when the record straddled chunks, unless `reuse: false`).
 */
export class PcapReader extends FrameDecoder<PacketRecord> {
  /** The file header, once read. */
  header: PcapHeader | null = null
  readonly maxCaplen: number
  private le = true
  private ns = false

  constructor(options?: PcapReaderOptions) {
    super(options)
    const max = options?.maxCaplen ?? PCAP_DEFAULT_SNAPLEN
    assertInt(max, 0, 0xffffffff, 'maxCaplen')
    this.maxCaplen = max
  }

  override reset(): void {
    super.reset()
    this.header = null
  }

  protected frameLength(buf: Uint8Array, start: number, avail: number, at: number): number {
    if (this.header === null) {
      if (avail < 4) return -4
      if (magicOf(buf, start) === null) {
        const pcapng =
          buf[start] === 0x0a && buf[start + 1] === 0x0d && buf[start + 2] === 0x0d && buf[start + 3] === 0x0a
        throw new FramingError(
          'ERR_BAD_MAGIC',
          pcapng ? 'this is a pcapng file: use PcapngReader or CaptureReader' : 'not a pcap file (bad magic number)',
          at,
        )
      }
      return PCAP_HEADER_SIZE
    }
    if (avail < PCAP_RECORD_HEADER_SIZE) return -PCAP_RECORD_HEADER_SIZE
    const caplen = u32(buf, start + 8, this.le)
    if (caplen > this.maxCaplen) {
      throw new FramingError('ERR_FRAME_TOO_LARGE', `record caplen ${caplen} exceeds maxCaplen ${this.maxCaplen}`, at)
    }
    return PCAP_RECORD_HEADER_SIZE + caplen
  }

  protected frame(buf: Uint8Array, start: number, end: number, at: number): void {
    if (this.header === null) {
      const m = magicOf(buf, start)!
      const le = m.le
      const versionMajor = u16(buf, start + 4, le)
      if (versionMajor !== 2)
        throw new FramingError('ERR_BAD_VALUE', `unsupported pcap version ${versionMajor}`, at + 4)
      const field = u32(buf, start + 20, le)
      this.le = le
      this.ns = m.ns
      this.header = {
        endian: le ? 'little' : 'big',
        resolution: m.ns ? 'ns' : 'us',
        versionMajor,
        versionMinor: u16(buf, start + 6, le),
        thiszone: i32(buf, start + 8, le),
        sigfigs: u32(buf, start + 12, le),
        snaplen: u32(buf, start + 16, le),
        linkType: field & 0xffff,
        linkTypeField: field,
      }
      return
    }
    const le = this.le
    const tsSec = u32(buf, start, le)
    const tsFrac = u32(buf, start + 4, le)
    const units = this.ns ? 1e9 : 1e6
    this.emit({
      interfaceId: 0,
      section: 0,
      linkType: this.header.linkType,
      tsSec,
      tsFrac,
      tsUnitsPerSec: units,
      tsNs: BigInt(tsSec) * 1_000_000_000n + BigInt(this.ns ? tsFrac : tsFrac * 1000),
      caplen: end - start - PCAP_RECORD_HEADER_SIZE,
      origLen: u32(buf, start + 12, le),
      data: view(buf, start + PCAP_RECORD_HEADER_SIZE, end),
    })
  }

  protected override onEnd(): void {
    if (this.header === null) throw new FramingError('ERR_TRUNCATED', 'empty input: no pcap file header', 0)
  }
}

export interface PcapFile {
  header: PcapHeader
  records: PacketRecord[]
}

/** Reads a whole pcap file held in memory; record data are views into `bytes`. */
export function readPcap(bytes: Uint8Array, options?: Omit<PcapReaderOptions, 'reuse'>): PcapFile {
  assertBytes(bytes, 'bytes')
  const r = new PcapReader(options)
  const records = r.push(bytes)
  r.end()
  return { header: r.header!, records }
}

export interface PcapWriterOptions {
  /** Default 1 (Ethernet). */
  linkType?: number
  /** Default 262,144; longer packets are cut to it (origLen keeps the real length). */
  snaplen?: number
  /** Timestamp resolution, default `'us'` (magic 0xa1b2c3d4); `'ns'` writes 0xa1b23c4d. */
  resolution?: TsResolution
  /** Byte order of the file, default `'little'`. */
  endian?: 'little' | 'big'
  thiszone?: number
  sigfigs?: number
}

interface Format {
  le: boolean
  ns: boolean
  snaplen: number
  linkType: number
  thiszone: number
  sigfigs: number
}

function format(o: PcapWriterOptions | undefined): Format {
  const linkType = o?.linkType ?? LinkType.ETHERNET
  assertInt(linkType, 0, 0xffff, 'linkType')
  const snaplen = o?.snaplen ?? PCAP_DEFAULT_SNAPLEN
  assertInt(snaplen, 1, 0xffffffff, 'snaplen')
  const res = o?.resolution ?? 'us'
  if (res !== 'us' && res !== 'ns') throw new FramingError('ERR_BAD_VALUE', `resolution must be 'us' or 'ns'`)
  const endian = o?.endian ?? 'little'
  if (endian !== 'little' && endian !== 'big')
    throw new FramingError('ERR_BAD_VALUE', `endian must be 'little' or 'big'`)
  const thiszone = o?.thiszone ?? 0
  assertInt(thiszone, -0x80000000, 0x7fffffff, 'thiszone')
  const sigfigs = o?.sigfigs ?? 0
  assertInt(sigfigs, 0, 0xffffffff, 'sigfigs')
  return { le: endian === 'little', ns: res === 'ns', snaplen, linkType, thiszone, sigfigs }
}

function writeHeader(dst: Uint8Array, p: number, f: Format): void {
  put32(dst, p, f.ns ? PCAP_MAGIC_NS : PCAP_MAGIC_US, f.le)
  put16(dst, p + 4, 2, f.le)
  put16(dst, p + 6, 4, f.le)
  put32(dst, p + 8, f.thiszone >>> 0, f.le)
  put32(dst, p + 12, f.sigfigs, f.le)
  put32(dst, p + 16, f.snaplen, f.le)
  put32(dst, p + 20, f.linkType, f.le)
}

/** Checks a packet and returns [caplen, origLen, sec, frac]. */
function record(f: Format, data: unknown, ts: PacketTime, origLen: unknown): [number, number, number, number] {
  assertBytes(data, 'data')
  const orig = origLen ?? data.length
  assertInt(orig, data.length, 0xffffffff, 'origLen')
  const [sec, frac] = splitTime(ts, f.ns ? 1_000_000_000n : 1_000_000n)
  if (sec > 0xffffffffn) throw new FramingError('ERR_BAD_VALUE', `timestamp ${sec} s does not fit pcap's u32 seconds`)
  return [Math.min(data.length, f.snaplen), orig, Number(sec), Number(frac)]
}

function writeRecord(
  dst: Uint8Array,
  p: number,
  f: Format,
  data: Uint8Array,
  r: [number, number, number, number],
): number {
  const [caplen, orig, sec, frac] = r
  put32(dst, p, sec, f.le)
  put32(dst, p + 4, frac, f.le)
  put32(dst, p + 8, caplen, f.le)
  put32(dst, p + 12, orig, f.le)
  dst.set(caplen === data.length ? data : data.subarray(0, caplen), p + 16)
  return PCAP_RECORD_HEADER_SIZE + caplen
}

export interface PcapPacket {
  data: Uint8Array
  ts: PacketTime
  /** Length on the wire, default `data.length`. */
  origLen?: number
}

/** A whole pcap file in one new buffer (one allocation). */
export function encodePcap(packets: readonly PcapPacket[], options?: PcapWriterOptions): Uint8Array {
  const f = format(options)
  if (!Array.isArray(packets)) throw new FramingError('ERR_BAD_VALUE', 'packets must be an array')
  const recs = packets.map((pk) => {
    if (pk === null || typeof pk !== 'object') throw new FramingError('ERR_BAD_VALUE', 'packet must be an object')
    return record(f, pk.data, pk.ts, pk.origLen)
  })
  let n = PCAP_HEADER_SIZE
  for (const r of recs) n += PCAP_RECORD_HEADER_SIZE + r[0]
  const out = new Uint8Array(n)
  writeHeader(out, 0, f)
  let p = PCAP_HEADER_SIZE
  for (let i = 0; i < recs.length; i++) p += writeRecord(out, p, f, packets[i].data, recs[i])
  return out
}

/** Writes the 24-byte file header at `offset`; returns 24. */
export function encodePcapHeaderInto(dst: Uint8Array, offset: number, options?: PcapWriterOptions): number {
  const f = format(options)
  assertInt(offset, 0, Number.MAX_SAFE_INTEGER, 'offset')
  if (!(dst instanceof Uint8Array) || dst.length - offset < PCAP_HEADER_SIZE) {
    throw new FramingError('ERR_BUFFER_TOO_SMALL', 'no room for the 24-byte pcap header')
  }
  writeHeader(dst, offset, f)
  return PCAP_HEADER_SIZE
}

/** Writes one record (header and captured bytes) at `offset`; returns the bytes written. */
export function encodePcapRecordInto(
  dst: Uint8Array,
  offset: number,
  packet: PcapPacket,
  options?: PcapWriterOptions,
): number {
  const f = format(options)
  const r = record(f, packet?.data, packet?.ts, packet?.origLen)
  assertInt(offset, 0, Number.MAX_SAFE_INTEGER, 'offset')
  if (!(dst instanceof Uint8Array) || dst.length - offset < PCAP_RECORD_HEADER_SIZE + r[0]) {
    throw new FramingError('ERR_BUFFER_TOO_SMALL', `no room for a ${PCAP_RECORD_HEADER_SIZE + r[0]}-byte pcap record`)
  }
  return writeRecord(dst, offset, f, packet.data, r)
}

export interface WriterOptions {
  /** Bytes batched before a write to the sink (default 64 KiB). */
  bufferSize?: number
  /** `close()` calls the sink's `end()` if it has one (default true). */
  end?: boolean
}

/**
 * Writes a pcap file to a sink. The header goes out with the first flush; records are batched into chunks of
 * `bufferSize` bytes, each a fresh buffer the sink may keep.
 *
 * ```ts
 * const w = new PcapWriter(fs.createWriteStream('out.pcap'), { resolution: 'ns' })
 * w.writePacket(frame, process.hrtime.bigint())
 * w.close()
 * ```
 */
export class PcapWriter {
  private readonly f: Format
  private readonly out: ChunkedOutput
  private readonly endSink: boolean
  private count = 0

  constructor(sink: ByteSink, options?: PcapWriterOptions & WriterOptions) {
    this.f = format(options)
    this.out = new ChunkedOutput(sink, options?.bufferSize ?? DEFAULT_BUFFER_SIZE)
    this.endSink = options?.end !== false
    const [b, p] = this.out.reserve(PCAP_HEADER_SIZE)
    writeHeader(b, p, this.f)
    this.out.commit(PCAP_HEADER_SIZE)
  }

  /** Appends one packet (cut to snaplen); returns false if the sink asked to slow down. */
  writePacket(data: Uint8Array, ts: PacketTime, origLen?: number): boolean {
    const r = record(this.f, data, ts, origLen)
    const n = PCAP_RECORD_HEADER_SIZE + r[0]
    const [b, p] = this.out.reserve(n)
    writeRecord(b, p, this.f, data, r)
    this.count++
    return this.out.commit(n)
  }

  /** Packets written so far. */
  get packets(): number {
    return this.count
  }

  /** Bytes written so far (header included), flushed or not. */
  get bytesWritten(): number {
    return this.out.bytes
  }

  /** Sends buffered bytes to the sink now. */
  flush(): boolean {
    return this.out.flush()
  }

  /** Flushes and ends the sink (see `end`). Further writes throw ERR_BAD_STATE. */
  close(): void {
    this.out.close(this.endSink)
  }
}
