/**
 * The TAP-over-CMIO packet batch (tapcmio `src/network.rs`, GIO domain 0x42), as the code really frames it:
 * `repeat { len:u16be | frame[len] }`, concatenated into one CMIO tx or rx buffer, the yield's `data` being the total.
 *
 * Divergences from upstream (see the README): frames are never truncated (upstream reads TAP into a 1500-byte
 * buffer, cutting full-MTU frames); a trailing partial entry is an error (ERR_TRUNCATED) unless
 * `truncated: 'drop'` asks for upstream's silent drop.
 */

import { put16be, u16be, view } from './bytes.js'
import { assertBytes, assertInt, assertRoom } from './check.js'
import { FramingError } from './errors.js'
import { LengthPrefixedDecoder, type LengthPrefixedDecoderOptions } from './length-prefixed.js'

/** GIO domain of the TAP bridge. */
export const TAP_DOMAIN = 0x42
/** Size of the CMIO tx and rx buffers (2 MiB), the default batch limit. */
export const CMIO_BUFFER_SIZE = 0x200000
/** Largest frame one entry can carry (the u16 length). */
export const TAP_MAX_FRAME = 0xffff
/** Size of the `struct tun_pi` header tapcmio keeps in front of each Ethernet frame (`u16 flags; be16 proto`). */
export const TAP_PI_SIZE = 4

export interface TapBatchResult {
  /** Bytes written. */
  bytes: number
  /** Frames written, starting at `first`. */
  count: number
}

function checkFrame(f: unknown, i: number): asserts f is Uint8Array {
  assertBytes(f, `frames[${i}]`)
  if (f.length > TAP_MAX_FRAME) {
    throw new FramingError(
      'ERR_FRAME_TOO_LARGE',
      `frames[${i}] has ${f.length} bytes; a TAP entry holds at most ${TAP_MAX_FRAME}`,
    )
  }
}

function checkFrames(frames: readonly Uint8Array[]): void {
  if (!Array.isArray(frames)) throw new FramingError('ERR_BAD_VALUE', 'frames must be an array')
}

/** Bytes the frames take as one batch (2 + length each). */
export function tapBatchSize(frames: readonly Uint8Array[]): number {
  checkFrames(frames)
  let n = 0
  for (let i = 0; i < frames.length; i++) {
    checkFrame(frames[i], i)
    n += 2 + frames[i].length
  }
  return n
}

/**
 * Packs `frames[first..]` into `dst` at `offset` while they fit in `limit` bytes (default: the room left in `dst`),
 * the way tapcmio starts a new batch when `current + len + 2 > tx_length`. Returns the bytes written and how many
 * frames went in; call again with `first + count` for the next batch. A frame that could never fit in `limit`
 * throws ERR_FRAME_TOO_LARGE.
 */
export function encodeTapBatchInto(
  dst: Uint8Array,
  offset: number,
  frames: readonly Uint8Array[],
  first = 0,
  limit?: number,
): TapBatchResult {
  assertRoom(dst, offset, 0)
  checkFrames(frames)
  assertInt(first, 0, frames.length, 'first')
  const room = dst.length - offset
  const cap = limit === undefined ? room : limit
  assertInt(cap, 0, room, 'limit')
  let p = offset
  let i = first
  for (; i < frames.length; i++) {
    const f = frames[i]
    checkFrame(f, i)
    const need = 2 + f.length
    if (need > cap) {
      throw new FramingError(
        'ERR_FRAME_TOO_LARGE',
        `frames[${i}] needs ${need} bytes, more than the batch limit ${cap}`,
      )
    }
    if (p - offset + need > cap) break
    put16be(dst, p, f.length)
    dst.set(f, p + 2)
    p += need
  }
  return { bytes: p - offset, count: i - first }
}

/** All frames as one batch in a new, exactly-sized buffer; more than `limit` bytes (default 2 MiB) throws
 * ERR_FRAME_TOO_LARGE. */
export function encodeTapBatch(frames: readonly Uint8Array[], limit = CMIO_BUFFER_SIZE): Uint8Array {
  const n = tapBatchSize(frames)
  assertInt(limit, 0, Number.MAX_SAFE_INTEGER, 'limit')
  if (n > limit) throw new FramingError('ERR_FRAME_TOO_LARGE', `batch of ${n} bytes exceeds the limit ${limit}`)
  const out = new Uint8Array(n)
  encodeTapBatchInto(out, 0, frames)
  return out
}

/** Splits the frames into as few batches of at most `limit` bytes (default 2 MiB) as the greedy rule gives. */
export function encodeTapBatches(frames: readonly Uint8Array[], limit = CMIO_BUFFER_SIZE): Uint8Array[] {
  checkFrames(frames)
  assertInt(limit, 2, Number.MAX_SAFE_INTEGER, 'limit')
  const out: Uint8Array[] = []
  let i = 0
  while (i < frames.length) {
    let size = 0
    let j = i
    for (; j < frames.length; j++) {
      checkFrame(frames[j], j)
      const need = 2 + frames[j].length
      if (need > limit) {
        throw new FramingError(
          'ERR_FRAME_TOO_LARGE',
          `frames[${j}] needs ${need} bytes, more than the batch limit ${limit}`,
        )
      }
      if (size + need > limit) break
      size += need
    }
    const b = new Uint8Array(size)
    encodeTapBatchInto(b, 0, frames, i, size)
    out.push(b)
    i = j
  }
  return out
}

export interface TapDecodeOptions {
  /** What to do with a trailing partial entry: `'throw'` ERR_TRUNCATED (default) or `'drop'` it silently, as
   * tapcmio does. */
  truncated?: 'throw' | 'drop'
}

/** Calls `onFrame` with a view of each frame in the batch; returns the bytes consumed (less than `batch.length`
 * only when a partial tail was dropped). */
export function forEachTapFrame(
  batch: Uint8Array,
  onFrame: (frame: Uint8Array) => void,
  options?: TapDecodeOptions,
): number {
  assertBytes(batch, 'batch')
  const drop = options?.truncated === 'drop'
  const end = batch.length
  let p = 0
  while (p < end) {
    if (end - p < 2 || end - p - 2 < u16be(batch, p)) {
      if (drop) return p
      const what = end - p < 2 ? 'length prefix' : `frame of ${u16be(batch, p)} bytes`
      throw new FramingError('ERR_TRUNCATED', `TAP batch ends inside a ${what}`, p)
    }
    const n = u16be(batch, p)
    onFrame(view(batch, p + 2, p + 2 + n))
    p += 2 + n
  }
  return p
}

/** Views of every frame in the batch (full-size frames intact). */
export function decodeTapBatch(batch: Uint8Array, options?: TapDecodeOptions): Uint8Array[] {
  const out: Uint8Array[] = []
  forEachTapFrame(batch, (f) => out.push(f), options)
  return out
}

/** Streaming decoder for TAP entries arriving on a byte stream (u16 big-endian length prefix). */
export class TapStreamDecoder extends LengthPrefixedDecoder {
  constructor(options?: Omit<LengthPrefixedDecoderOptions, 'width' | 'endian' | 'includesHeader'>) {
    super({ ...options, width: 2, endian: 'big', includesHeader: false })
  }
}

export interface TunPi {
  /** `tun_pi.flags` (host order on Linux; TUN_PKT_STRIP = 1). */
  flags: number
  /** `tun_pi.proto`, the EtherType, big-endian on the wire (0x0800 IPv4, 0x86dd IPv6). */
  proto: number
  /** View of the frame after the 4-byte header. */
  frame: Uint8Array
}

/** Splits the `struct tun_pi` header off a TAP frame read without IFF_NO_PI (as tapcmio's are). `flags` is read
 * little-endian, the host order of the platforms Linux TAP runs on here. */
export function decodeTunPi(frame: Uint8Array): TunPi {
  assertBytes(frame, 'frame')
  if (frame.length < TAP_PI_SIZE)
    throw new FramingError('ERR_TRUNCATED', `frame of ${frame.length} bytes has no tun_pi header`, 0)
  return { flags: frame[0] | (frame[1] << 8), proto: u16be(frame, 2), frame: view(frame, TAP_PI_SIZE, frame.length) }
}

/** Writes a `struct tun_pi` header; returns 4. */
export function encodeTunPiInto(dst: Uint8Array, offset: number, proto: number, flags = 0): number {
  assertRoom(dst, offset, TAP_PI_SIZE)
  assertInt(proto, 0, 0xffff, 'proto')
  assertInt(flags, 0, 0xffff, 'flags')
  dst[offset] = flags
  dst[offset + 1] = flags >>> 8
  put16be(dst, offset + 2, proto)
  return TAP_PI_SIZE
}
