/**
 * Node file helpers for the capture formats (the codecs themselves need nothing from Node).
 */

import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs'
import { type CaptureFile, type CaptureReaderOptions, readCapture } from './capture.js'
import { encodePcap, type PcapPacket, PcapWriter, type PcapWriterOptions, type WriterOptions } from './pcap.js'
import {
  encodePcapng,
  type PcapngInterfaceOptions,
  type PcapngPacket,
  PcapngWriter,
  type PcapngWriterOptions,
} from './pcapng.js'
import type { ByteSink } from './sink.js'

/** Writes a whole pcap file. */
export function writePcapFileSync(path: string, packets: readonly PcapPacket[], options?: PcapWriterOptions): void {
  writeFileSync(path, encodePcap(packets, options))
}

/** Writes a whole single-section pcapng file. */
export function writePcapngFileSync(
  path: string,
  interfaces: readonly PcapngInterfaceOptions[],
  packets: readonly PcapngPacket[],
  options?: Omit<PcapngWriterOptions, 'bufferSize' | 'end'>,
): void {
  writeFileSync(path, encodePcapng(interfaces, packets, options))
}

/** Reads a whole pcap or pcapng file (one read; record data are views into it). */
export function readCaptureFileSync(path: string, options?: Omit<CaptureReaderOptions, 'reuse'>): CaptureFile {
  return readCapture(readFileSync(path), options)
}

/** A sink writing synchronously to a new file (truncated), closed by the writer's `close()`. */
export function fileSinkSync(path: string): ByteSink {
  const fd = openSync(path, 'w')
  let open = true
  return {
    write(chunk: Uint8Array) {
      let off = 0
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off)
    },
    end() {
      if (open) {
        open = false
        closeSync(fd)
      }
    },
  }
}

/** A PcapWriter on a new file, written synchronously; `close()` closes the file. */
export function openPcapFileSync(path: string, options?: PcapWriterOptions & Omit<WriterOptions, 'end'>): PcapWriter {
  return new PcapWriter(fileSinkSync(path), { ...options, end: true })
}

/** A PcapngWriter on a new file, written synchronously; `close()` closes the file. */
export function openPcapngFileSync(path: string, options?: Omit<PcapngWriterOptions, 'end'>): PcapngWriter {
  return new PcapngWriter(fileSinkSync(path), { ...options, end: true })
}
