/**
 * Capture files of either kind: `CaptureReader` looks at the first four bytes and reads pcap or pcapng.
 */

import { assertBytes } from './check.js'
import { FramingError } from './errors.js'
import { type PacketRecord, type PcapHeader, PcapReader, type PcapReaderOptions } from './pcap.js'
import { type PcapngInterface, PcapngReader, type PcapngReaderOptions, type PcapngSection } from './pcapng.js'
import type { PushDecoder } from './stream.js'

export type CaptureFormat = 'pcap' | 'pcapng'

/** Detects the format from the first 4 bytes; `null` if they are neither. */
export function detectCaptureFormat(bytes: Uint8Array): CaptureFormat | null {
  assertBytes(bytes, 'bytes')
  if (bytes.length < 4) return null
  const [a, b, c, d] = bytes
  if (a === 0x0a && b === 0x0d && c === 0x0d && d === 0x0a) return 'pcapng'
  const be = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0
  const le = ((d << 24) | (c << 16) | (b << 8) | a) >>> 0
  for (const m of [0xa1b2c3d4, 0xa1b23c4d]) if (be === m || le === m) return 'pcap'
  return null
}

export type CaptureReaderOptions = PcapReaderOptions & PcapngReaderOptions

/** Streaming reader for pcap or pcapng, chosen by the file's magic number. */
export class CaptureReader implements PushDecoder<PacketRecord> {
  private readonly options: CaptureReaderOptions | undefined
  private inner: PcapReader | PcapngReader | null = null
  private head = new Uint8Array(0)

  constructor(options?: CaptureReaderOptions) {
    this.options = options
  }

  get format(): CaptureFormat | null {
    return this.inner === null ? null : this.inner instanceof PcapReader ? 'pcap' : 'pcapng'
  }
  /** The pcap file header (pcap only). */
  get pcapHeader(): PcapHeader | null {
    return this.inner instanceof PcapReader ? this.inner.header : null
  }
  /** Sections read so far (pcapng only). */
  get sections(): PcapngSection[] {
    return this.inner instanceof PcapngReader ? this.inner.sections : []
  }
  /** Interfaces of the current section (pcapng only). */
  get interfaces(): PcapngInterface[] {
    return this.inner instanceof PcapngReader ? this.inner.interfaces : []
  }

  push(chunk: Uint8Array): PacketRecord[]
  push(chunk: Uint8Array, onRecord: (r: PacketRecord) => void): number
  push(chunk: Uint8Array, onRecord?: (r: PacketRecord) => void): PacketRecord[] | number {
    assertBytes(chunk, 'chunk')
    if (this.inner === null) {
      const head = new Uint8Array(this.head.length + Math.min(chunk.length, 4))
      head.set(this.head)
      head.set(chunk.subarray(0, 4 - this.head.length), this.head.length)
      if (head.length < 4) {
        this.head = head
        return onRecord ? 0 : []
      }
      const f = detectCaptureFormat(head)
      if (f === null) throw new FramingError('ERR_BAD_MAGIC', 'neither a pcap nor a pcapng file', 0)
      this.inner = f === 'pcap' ? new PcapReader(this.options) : new PcapngReader(this.options)
      const early = this.head
      this.head = new Uint8Array(0)
      if (early.length > 0) {
        // Replay the bytes held back by earlier pushes, then this whole chunk.
        if (onRecord) return this.inner.push(early, onRecord) + this.inner.push(chunk, onRecord)
        return [...this.inner.push(early), ...this.inner.push(chunk)]
      }
    }
    return onRecord ? this.inner.push(chunk, onRecord) : this.inner.push(chunk)
  }

  /** Forgets everything, to read a new file. */
  reset(): void {
    this.inner = null
    this.head = new Uint8Array(0)
  }

  end(): void {
    if (this.inner === null) throw new FramingError('ERR_TRUNCATED', 'input ended before the file magic', 0)
    this.inner.end()
  }
}

export interface CaptureFile {
  format: CaptureFormat
  /** pcap only. */
  pcapHeader: PcapHeader | null
  /** pcapng only. */
  sections: PcapngSection[]
  records: PacketRecord[]
}

/** Reads a whole pcap or pcapng file held in memory; record data are views into `bytes`. */
export function readCapture(bytes: Uint8Array, options?: Omit<CaptureReaderOptions, 'reuse'>): CaptureFile {
  const r = new CaptureReader(options)
  const records = r.push(bytes)
  r.end()
  return { format: r.format!, pcapHeader: r.pcapHeader, sections: r.sections, records }
}
