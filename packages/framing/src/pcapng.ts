/**
 * pcapng files (draft-ietf-opsawg-pcapng), read and written.
 *
 * Read: Section Header Blocks (either byte order, several sections), Interface Description Blocks (if_tsresol,
 * if_tsoffset, if_name, ...), Enhanced Packet Blocks, Simple Packet Blocks and the obsolete Packet Block; every
 * other block is skipped (or handed to `onBlock`). Write: SHB, IDBs and EPBs, 32-bit padded, options ended with
 * opt_endofopt.
 *
 * Block: `type:u32 | total_length:u32 | body | total_length:u32`, total a multiple of 4.
 */

import { i64, put16, put32, put64, u16, u32, view } from './bytes.js'
import { assertBytes, assertInt } from './check.js'
import { FramingError } from './errors.js'
import type { PacketRecord, PacketTime, PcapngOption, WriterOptions } from './pcap.js'
import { PCAP_DEFAULT_SNAPLEN } from './pcap.js'
import { type ByteSink, ChunkedOutput, DEFAULT_BUFFER_SIZE } from './sink.js'
import { FrameDecoder, type FrameDecoderOptions } from './stream.js'
import { splitTime } from './time.js'

export const BlockType = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  DSB: 0x0000000a,
} as const

export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d

export const OptionCode = {
  END: 0,
  COMMENT: 1,
  SHB_HARDWARE: 2,
  SHB_OS: 3,
  SHB_USERAPPL: 4,
  IF_NAME: 2,
  IF_DESCRIPTION: 3,
  IF_TSRESOL: 9,
  IF_FCSLEN: 13,
  IF_TSOFFSET: 14,
  EPB_FLAGS: 2,
} as const

/** Default cap on a block's total length when reading (16 MiB). */
export const PCAPNG_DEFAULT_MAX_BLOCK = 16 * 1024 * 1024

export interface PcapngSection {
  endian: 'little' | 'big'
  versionMajor: number
  versionMinor: number
  /** -1n when unspecified. */
  sectionLength: bigint
  hardware?: string
  os?: string
  userAppl?: string
  comment?: string
  options: PcapngOption[]
}

export interface PcapngInterface {
  linkType: number
  /** 0 = no limit. */
  snaplen: number
  name?: string
  description?: string
  /** The raw if_tsresol byte (6 when absent): MSB clear = 10^-n s, set = 2^-n s. */
  tsresol: number
  /** Timestamp units per second, from tsresol. */
  unitsPerSec: bigint
  /** if_tsoffset, seconds added to every timestamp (0n when absent). */
  tsOffset: bigint
  /** if_fcslen, when present. */
  fcsLength?: number
  options: PcapngOption[]
}

const utf8 = new TextDecoder()
const utf8enc = new TextEncoder()
const pad4 = (n: number): number => n + ((4 - (n % 4)) % 4)

function unitsFor(tsresol: number): bigint {
  const n = BigInt(tsresol & 0x7f)
  return tsresol & 0x80 ? 1n << n : 10n ** n
}

/** Parses the options area `buf[p, end)`; tolerates a missing opt_endofopt. */
function parseOptions(buf: Uint8Array, p: number, end: number, le: boolean, at: number): PcapngOption[] {
  const out: PcapngOption[] = []
  while (end - p >= 4) {
    const code = u16(buf, p, le)
    const len = u16(buf, p + 2, le)
    if (code === 0) break
    if (p + 4 + len > end)
      throw new FramingError('ERR_BAD_LENGTH', `option ${code} of ${len} bytes overruns its block`, at)
    out.push({ code, value: view(buf, p + 4, p + 4 + len) })
    p += 4 + pad4(len)
  }
  return out
}

const text = (v: Uint8Array): string => utf8.decode(v)

export interface PcapngReaderOptions extends FrameDecoderOptions {
  /** Largest block accepted, in bytes (default 16 MiB); a bigger total length throws ERR_FRAME_TOO_LARGE before
   * anything is buffered. */
  maxBlock?: number
  /** Called for each block the reader does not interpret (NRB, ISB, DSB, custom, unknown), with a view of its body;
   * such blocks are otherwise skipped. */
  onBlock?: (type: number, body: Uint8Array, section: number) => void
}

/**
 * Streaming pcapng reader: push the file in chunks of any size, get a PacketRecord per EPB/SPB/PB (data are views,
 * valid until the next push when the block straddled chunks, unless `reuse: false`). `sections` and `interfaces`
 * describe what has been read.
 */
export class PcapngReader extends FrameDecoder<PacketRecord> {
  /** Every section header read so far. */
  readonly sections: PcapngSection[] = []
  /** Interfaces of the current section, by id. */
  interfaces: PcapngInterface[] = []
  /** Blocks skipped (not interpreted). */
  skippedBlocks = 0
  readonly maxBlock: number
  private readonly onBlock: PcapngReaderOptions['onBlock']
  private le: boolean | null = null

  constructor(options?: PcapngReaderOptions) {
    super(options)
    const max = options?.maxBlock ?? PCAPNG_DEFAULT_MAX_BLOCK
    assertInt(max, 28, 0xffffffff, 'maxBlock')
    this.maxBlock = max
    this.onBlock = options?.onBlock
  }

  override reset(): void {
    super.reset()
    this.sections.length = 0
    this.interfaces = []
    this.skippedBlocks = 0
    this.le = null
  }

  protected frameLength(buf: Uint8Array, start: number, avail: number, at: number): number {
    if (avail < 8) return -8
    let le = this.le
    const shb = buf[start] === 0x0a && buf[start + 1] === 0x0d && buf[start + 2] === 0x0d && buf[start + 3] === 0x0a
    if (shb) {
      if (avail < 12) return -12
      if (u32(buf, start + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) le = false
      else if (u32(buf, start + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) le = true
      else throw new FramingError('ERR_BAD_MAGIC', 'Section Header Block with a bad byte-order magic', at + 8)
    } else if (le === null) {
      throw new FramingError('ERR_BAD_MAGIC', 'not a pcapng file (does not start with a Section Header Block)', at)
    }
    const total = u32(buf, start + 4, le)
    const min = shb ? 28 : 12
    if (total < min || total % 4 !== 0) {
      throw new FramingError(
        'ERR_BAD_LENGTH',
        `block total length ${total} (must be a multiple of 4, ≥ ${min})`,
        at + 4,
      )
    }
    if (total > this.maxBlock) {
      throw new FramingError('ERR_FRAME_TOO_LARGE', `block of ${total} bytes exceeds maxBlock ${this.maxBlock}`, at + 4)
    }
    return total
  }

  protected frame(buf: Uint8Array, start: number, end: number, at: number): void {
    const type = u32(buf, start, this.le ?? true)
    if (type === BlockType.SHB) {
      const le = u32(buf, start + 8, true) === PCAPNG_BYTE_ORDER_MAGIC
      this.trailer(buf, start, end, le, at)
      const versionMajor = u16(buf, start + 12, le)
      if (versionMajor !== 1)
        throw new FramingError('ERR_BAD_VALUE', `unsupported pcapng version ${versionMajor}`, at + 12)
      const options = parseOptions(buf, start + 24, end - 4, le, at)
      const s: PcapngSection = {
        endian: le ? 'little' : 'big',
        versionMajor,
        versionMinor: u16(buf, start + 14, le),
        sectionLength: i64(buf, start + 16, le),
        options,
      }
      for (const o of options) {
        if (o.code === OptionCode.COMMENT) s.comment = text(o.value)
        else if (o.code === OptionCode.SHB_HARDWARE) s.hardware = text(o.value)
        else if (o.code === OptionCode.SHB_OS) s.os = text(o.value)
        else if (o.code === OptionCode.SHB_USERAPPL) s.userAppl = text(o.value)
      }
      this.le = le
      this.interfaces = []
      this.sections.push(s)
      return
    }
    const le = this.le!
    this.trailer(buf, start, end, le, at)
    const section = this.sections.length - 1
    const bodyEnd = end - 4
    switch (type) {
      case BlockType.IDB: {
        if (end - start < 20) throw new FramingError('ERR_BAD_LENGTH', 'Interface Description Block too short', at)
        const options = parseOptions(buf, start + 16, bodyEnd, le, at)
        const itf: PcapngInterface = {
          linkType: u16(buf, start + 8, le),
          snaplen: u32(buf, start + 12, le),
          tsresol: 6,
          unitsPerSec: 1_000_000n,
          tsOffset: 0n,
          options,
        }
        for (const o of options) {
          if (o.code === OptionCode.IF_NAME) itf.name = text(o.value)
          else if (o.code === OptionCode.IF_DESCRIPTION) itf.description = text(o.value)
          else if (o.code === OptionCode.IF_TSRESOL && o.value.length >= 1) {
            itf.tsresol = o.value[0]
            if ((o.value[0] & 0x7f) > (o.value[0] & 0x80 ? 63 : 19)) {
              throw new FramingError('ERR_BAD_VALUE', `if_tsresol ${o.value[0]} is finer than a u64 can count`, at)
            }
            itf.unitsPerSec = unitsFor(o.value[0])
          } else if (o.code === OptionCode.IF_TSOFFSET && o.value.length >= 8) itf.tsOffset = i64(o.value, 0, le)
          else if (o.code === OptionCode.IF_FCSLEN && o.value.length >= 1) itf.fcsLength = o.value[0]
        }
        this.interfaces.push(itf)
        return
      }
      case BlockType.EPB:
      case BlockType.PB: {
        if (end - start < 32) throw new FramingError('ERR_BAD_LENGTH', 'packet block too short', at)
        const epb = type === BlockType.EPB
        const id = epb ? u32(buf, start + 8, le) : u16(buf, start + 8, le)
        const itf = this.iface(id, at)
        const caplen = u32(buf, start + 20, le)
        const dataEnd = start + 28 + caplen
        if (28 + pad4(caplen) > end - start - 4) {
          throw new FramingError('ERR_BAD_LENGTH', `captured length ${caplen} overruns its block`, at + 20)
        }
        const options = parseOptions(buf, start + 28 + pad4(caplen), bodyEnd, le, at)
        const ts = (BigInt(u32(buf, start + 12, le)) << 32n) | BigInt(u32(buf, start + 16, le))
        const rec = this.record(id, itf, section, ts, view(buf, start + 28, dataEnd), u32(buf, start + 24, le))
        if (options.length > 0) {
          rec.options = options
          for (const o of options)
            if (o.code === OptionCode.EPB_FLAGS && o.value.length >= 4) rec.flags = u32(o.value, 0, le)
        }
        this.emit(rec)
        return
      }
      case BlockType.SPB: {
        if (end - start < 16) throw new FramingError('ERR_BAD_LENGTH', 'Simple Packet Block too short', at)
        const itf = this.iface(0, at)
        const origLen = u32(buf, start + 8, le)
        let caplen = Math.min(origLen, end - start - 16)
        if (itf.snaplen > 0) caplen = Math.min(caplen, itf.snaplen)
        this.emit(this.record(0, itf, section, 0n, view(buf, start + 12, start + 12 + caplen), origLen))
        return
      }
      default:
        this.skippedBlocks++
        if (this.onBlock !== undefined) this.onBlock(type, view(buf, start + 8, bodyEnd), section)
    }
  }

  private trailer(buf: Uint8Array, start: number, end: number, le: boolean, at: number): void {
    const lead = u32(buf, start + 4, le)
    const trail = u32(buf, end - 4, le)
    if (lead !== trail) {
      throw new FramingError(
        'ERR_BAD_LENGTH',
        `block total length ${lead} does not match its trailer ${trail}`,
        at + lead - 4,
      )
    }
  }

  private iface(id: number, at: number): PcapngInterface {
    const itf = this.interfaces[id]
    if (itf === undefined) {
      throw new FramingError(
        'ERR_BAD_VALUE',
        `packet for interface ${id}; the section has ${this.interfaces.length}`,
        at + 8,
      )
    }
    return itf
  }

  private record(
    id: number,
    itf: PcapngInterface,
    section: number,
    ts: bigint,
    data: Uint8Array,
    origLen: number,
  ): PacketRecord {
    const units = itf.unitsPerSec
    const sec = ts / units + itf.tsOffset
    return {
      interfaceId: id,
      section,
      linkType: itf.linkType,
      tsSec: Number(sec),
      tsFrac: Number(ts % units),
      tsUnitsPerSec: Number(units),
      tsNs: (ts * 1_000_000_000n) / units + itf.tsOffset * 1_000_000_000n,
      caplen: data.length,
      origLen,
      data,
    }
  }

  protected override onEnd(): void {
    if (this.sections.length === 0) throw new FramingError('ERR_TRUNCATED', 'empty input: no Section Header Block', 0)
  }
}

export interface PcapngFile {
  sections: PcapngSection[]
  /** Interfaces of the last section. */
  interfaces: PcapngInterface[]
  records: PacketRecord[]
}

/** Reads a whole pcapng file held in memory; record data are views into `bytes`. */
export function readPcapng(bytes: Uint8Array, options?: Omit<PcapngReaderOptions, 'reuse'>): PcapngFile {
  assertBytes(bytes, 'bytes')
  const r = new PcapngReader(options)
  const records = r.push(bytes)
  r.end()
  return { sections: r.sections, interfaces: r.interfaces, records }
}

// ---- writing ----

export interface PcapngSectionOptions {
  hardware?: string
  os?: string
  userAppl?: string
  comment?: string
}

export interface PcapngWriterOptions extends PcapngSectionOptions, WriterOptions {
  /** Byte order of the file, default `'little'`. */
  endian?: 'little' | 'big'
}

export interface PcapngInterfaceOptions {
  /** Default 1 (Ethernet). */
  linkType?: number
  /** Default 262,144; 0 = no limit. Longer packets are cut to it. */
  snaplen?: number
  name?: string
  description?: string
  /** `'us'` (default, no option written), `'ns'` (if_tsresol 9), or a raw if_tsresol byte. */
  tsresol?: 'us' | 'ns' | number
}

export interface PcapngPacketOptions {
  /** Length on the wire, default `data.length`. */
  origLen?: number
  /** opt_comment. */
  comment?: string
  /** epb_flags. */
  flags?: number
}

type Opt = [code: number, value: Uint8Array]

function optionsSize(opts: readonly Opt[]): number {
  if (opts.length === 0) return 0
  let n = 4 // opt_endofopt
  for (const [, v] of opts) n += 4 + pad4(v.length)
  return n
}

function writeOptions(dst: Uint8Array, p: number, opts: readonly Opt[], le: boolean): number {
  if (opts.length === 0) return p
  for (const [code, v] of opts) {
    put16(dst, p, code, le)
    put16(dst, p + 2, v.length, le)
    dst.set(v, p + 4)
    dst.fill(0, p + 4 + v.length, p + 4 + pad4(v.length))
    p += 4 + pad4(v.length)
  }
  put32(dst, p, 0, le)
  return p + 4
}

function strOpt(code: number, s: unknown, what: string): Opt[] {
  if (s === undefined) return []
  if (typeof s !== 'string') throw new FramingError('ERR_BAD_VALUE', `${what} must be a string`)
  const v = utf8enc.encode(s)
  if (v.length > 0xffff) throw new FramingError('ERR_BAD_LENGTH', `${what} exceeds 65,535 bytes`)
  return [[code, v]]
}

interface WriterInterface {
  linkType: number
  snaplen: number
  units: bigint
}

/**
 * Writes a pcapng file to a sink: a Section Header Block at once, an Interface Description Block per
 * `addInterface()`, an Enhanced Packet Block per `writePacket()`.
 *
 * ```ts
 * const w = new PcapngWriter((chunk) => chunks.push(chunk), { userAppl: 'my-app' })
 * const eth = w.addInterface({ linkType: 1, name: 'eth0', tsresol: 'ns' })
 * w.writePacket(eth, frame, process.hrtime.bigint())
 * w.close()
 * ```
 */
export class PcapngWriter {
  private readonly le: boolean
  private readonly out: ChunkedOutput
  private readonly endSink: boolean
  private ifaces: WriterInterface[] = []
  private count = 0

  constructor(sink: ByteSink, options?: PcapngWriterOptions) {
    const endian = options?.endian ?? 'little'
    if (endian !== 'little' && endian !== 'big')
      throw new FramingError('ERR_BAD_VALUE', `endian must be 'little' or 'big'`)
    this.le = endian === 'little'
    this.out = new ChunkedOutput(sink, options?.bufferSize ?? DEFAULT_BUFFER_SIZE)
    this.endSink = options?.end !== false
    this.startSection(options)
  }

  /** Starts a new section (writes an SHB); interfaces must be added again. */
  startSection(options?: PcapngSectionOptions): void {
    const opts: Opt[] = [
      ...strOpt(OptionCode.COMMENT, options?.comment, 'comment'),
      ...strOpt(OptionCode.SHB_HARDWARE, options?.hardware, 'hardware'),
      ...strOpt(OptionCode.SHB_OS, options?.os, 'os'),
      ...strOpt(OptionCode.SHB_USERAPPL, options?.userAppl, 'userAppl'),
    ]
    const total = 28 + optionsSize(opts)
    const [b, p] = this.out.reserve(total)
    const le = this.le
    put32(b, p, BlockType.SHB, le)
    put32(b, p + 4, total, le)
    put32(b, p + 8, PCAPNG_BYTE_ORDER_MAGIC, le)
    put16(b, p + 12, 1, le)
    put16(b, p + 14, 0, le)
    put64(b, p + 16, -1n, le)
    writeOptions(b, p + 24, opts, le)
    put32(b, p + total - 4, total, le)
    this.ifaces = []
    this.out.commit(total)
  }

  /** Writes an IDB; returns the interface id to pass to `writePacket()`. */
  addInterface(options?: PcapngInterfaceOptions): number {
    const linkType = options?.linkType ?? 1
    assertInt(linkType, 0, 0xffff, 'linkType')
    const snaplen = options?.snaplen ?? PCAP_DEFAULT_SNAPLEN
    assertInt(snaplen, 0, 0xffffffff, 'snaplen')
    const r = options?.tsresol ?? 'us'
    const tsresol = r === 'us' ? 6 : r === 'ns' ? 9 : r
    assertInt(tsresol, 0, 0xff, 'tsresol')
    if ((tsresol & 0x7f) > (tsresol & 0x80 ? 63 : 19))
      throw new FramingError('ERR_BAD_VALUE', `tsresol ${tsresol} is too fine for a u64`)
    const opts: Opt[] = [
      ...strOpt(OptionCode.IF_NAME, options?.name, 'name'),
      ...strOpt(OptionCode.IF_DESCRIPTION, options?.description, 'description'),
    ]
    if (tsresol !== 6) opts.push([OptionCode.IF_TSRESOL, Uint8Array.of(tsresol)])
    const total = 20 + optionsSize(opts)
    const [b, p] = this.out.reserve(total)
    const le = this.le
    put32(b, p, BlockType.IDB, le)
    put32(b, p + 4, total, le)
    put16(b, p + 8, linkType, le)
    put16(b, p + 10, 0, le)
    put32(b, p + 12, snaplen, le)
    writeOptions(b, p + 16, opts, le)
    put32(b, p + total - 4, total, le)
    this.out.commit(total)
    this.ifaces.push({ linkType, snaplen, units: unitsFor(tsresol) })
    return this.ifaces.length - 1
  }

  /** Writes an EPB (data cut to the interface's snaplen); returns false if the sink asked to slow down. A
   * `{sec, frac}` time counts `frac` in the interface's resolution. */
  writePacket(interfaceId: number, data: Uint8Array, ts: PacketTime, options?: PcapngPacketOptions): boolean {
    assertInt(interfaceId, 0, 0xffffffff, 'interfaceId')
    const itf = this.ifaces[interfaceId]
    if (itf === undefined)
      throw new FramingError('ERR_BAD_VALUE', `interface ${interfaceId} was not added in this section`)
    assertBytes(data, 'data')
    const origLen = options?.origLen ?? data.length
    assertInt(origLen, data.length, 0xffffffff, 'origLen')
    const caplen = itf.snaplen > 0 ? Math.min(itf.snaplen, data.length) : data.length
    const [sec, frac] = splitTime(ts, itf.units)
    const units = sec * itf.units + frac
    if (units > 0xffffffffffffffffn)
      throw new FramingError('ERR_BAD_VALUE', 'timestamp overflows 64 bits at this resolution')
    const opts: Opt[] = strOpt(OptionCode.COMMENT, options?.comment, 'comment')
    if (options?.flags !== undefined) {
      assertInt(options.flags, 0, 0xffffffff, 'flags')
      const v = new Uint8Array(4)
      put32(v, 0, options.flags, this.le)
      opts.push([OptionCode.EPB_FLAGS, v])
    }
    const total = 32 + pad4(caplen) + optionsSize(opts)
    const [b, p] = this.out.reserve(total)
    const le = this.le
    put32(b, p, BlockType.EPB, le)
    put32(b, p + 4, total, le)
    put32(b, p + 8, interfaceId, le)
    put32(b, p + 12, Number(units >> 32n), le)
    put32(b, p + 16, Number(units & 0xffffffffn), le)
    put32(b, p + 20, caplen, le)
    put32(b, p + 24, origLen, le)
    b.set(caplen === data.length ? data : data.subarray(0, caplen), p + 28)
    b.fill(0, p + 28 + caplen, p + 28 + pad4(caplen))
    writeOptions(b, p + 28 + pad4(caplen), opts, le)
    put32(b, p + total - 4, total, le)
    this.count++
    return this.out.commit(total)
  }

  get packets(): number {
    return this.count
  }

  get bytesWritten(): number {
    return this.out.bytes
  }

  flush(): boolean {
    return this.out.flush()
  }

  close(): void {
    this.out.close(this.endSink)
  }
}

export interface PcapngPacket extends PcapngPacketOptions {
  /** Default 0. */
  interfaceId?: number
  data: Uint8Array
  ts: PacketTime
}

/** A whole single-section pcapng file in one buffer. */
export function encodePcapng(
  interfaces: readonly PcapngInterfaceOptions[],
  packets: readonly PcapngPacket[],
  options?: Omit<PcapngWriterOptions, 'bufferSize' | 'end'>,
): Uint8Array {
  if (!Array.isArray(interfaces) || !Array.isArray(packets)) {
    throw new FramingError('ERR_BAD_VALUE', 'interfaces and packets must be arrays')
  }
  const chunks: Uint8Array[] = []
  const w = new PcapngWriter((c) => chunks.push(c), { ...options, bufferSize: 1 << 20 })
  for (const i of interfaces) w.addInterface(i)
  for (const pk of packets) {
    if (pk === null || typeof pk !== 'object') throw new FramingError('ERR_BAD_VALUE', 'packet must be an object')
    w.writePacket(pk.interfaceId ?? 0, pk.data, pk.ts, pk)
  }
  w.close()
  if (chunks.length === 1) return chunks[0]
  const out = new Uint8Array(w.bytesWritten)
  let p = 0
  for (const c of chunks) {
    out.set(c, p)
    p += c.length
  }
  return out
}
