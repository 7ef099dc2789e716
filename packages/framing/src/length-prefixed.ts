/**
 * Length-prefixed frames over a byte stream: `len | payload[len]`, `len` a u16 or u32, big- or little-endian,
 * counting the payload only (default) or header and payload (`includesHeader`).
 */

import { put16be, put16le, put32be, put32le, u16be, u16le, u32be, u32le, view } from './bytes.js'
import { assertBytes, assertInt, assertRoom } from './check.js'
import { FramingError } from './errors.js'
import { decodeStream, FrameDecoder, type FrameDecoderOptions } from './stream.js'

export interface LengthPrefixOptions {
  /** Width of the length field in bytes (default 4). */
  width?: 2 | 4
  /** Byte order of the length field (default `'big'`, network order). */
  endian?: 'big' | 'little'
  /** The length counts the header too (default `false`: payload bytes only). */
  includesHeader?: boolean
}

export interface LengthPrefixedDecoderOptions extends LengthPrefixOptions, FrameDecoderOptions {
  /** Largest payload accepted, in bytes; a bigger length field throws ERR_FRAME_TOO_LARGE before anything is
   * buffered. Default: all a u16 field can say (65,535, or 65,533 with `includesHeader`), 16 MiB for u32. */
  maxFrame?: number
}

/** Default `maxFrame` for u32 length fields. */
export const DEFAULT_MAX_FRAME_U32 = 16 * 1024 * 1024

interface Shape {
  w: 2 | 4
  le: boolean
  inc: boolean
  /** Largest payload the field can express. */
  max: number
}

function shape(o: LengthPrefixOptions | undefined): Shape {
  const w = o?.width ?? 4
  if (w !== 2 && w !== 4) throw new FramingError('ERR_BAD_VALUE', `width must be 2 or 4, got ${String(w)}`)
  const e = o?.endian ?? 'big'
  if (e !== 'big' && e !== 'little') throw new FramingError('ERR_BAD_VALUE', `endian must be 'big' or 'little'`)
  const inc = o?.includesHeader === true
  const fieldMax = w === 2 ? 0xffff : 0xffffffff
  return { w, le: e === 'little', inc, max: inc ? fieldMax - w : fieldMax }
}

function readLen(b: Uint8Array, p: number, w: 2 | 4, le: boolean): number {
  return w === 2 ? (le ? u16le(b, p) : u16be(b, p)) : le ? u32le(b, p) : u32be(b, p)
}

function writeLen(b: Uint8Array, p: number, v: number, s: Shape): void {
  if (s.w === 2) s.le ? put16le(b, p, v) : put16be(b, p, v)
  else s.le ? put32le(b, p, v) : put32be(b, p, v)
}

/** Bytes on the wire for a payload of `payloadLength` bytes. */
export function frameSize(payloadLength: number, options?: LengthPrefixOptions): number {
  const s = shape(options)
  checkPayloadLength(payloadLength, s)
  return s.w + payloadLength
}

function checkPayloadLength(n: number, s: Shape): void {
  assertInt(n, 0, Number.MAX_SAFE_INTEGER, 'payload length')
  if (n > s.max) {
    throw new FramingError(
      'ERR_FRAME_TOO_LARGE',
      `payload of ${n} bytes exceeds the u${s.w * 8} length field (max ${s.max})`,
    )
  }
}

/** Writes only the length field for a payload of `payloadLength` bytes (the caller writes the payload after it,
 * e.g. straight from a socket read); returns the header size. */
export function writeFrameHeader(
  dst: Uint8Array,
  offset: number,
  payloadLength: number,
  options?: LengthPrefixOptions,
): number {
  const s = shape(options)
  checkPayloadLength(payloadLength, s)
  assertRoom(dst, offset, s.w)
  writeLen(dst, offset, s.inc ? payloadLength + s.w : payloadLength, s)
  return s.w
}

/** Writes `len | payload` into `dst` at `offset`; returns the bytes written. */
export function encodeFrameInto(
  dst: Uint8Array,
  offset: number,
  payload: Uint8Array,
  options?: LengthPrefixOptions,
): number {
  const s = shape(options)
  assertBytes(payload, 'payload')
  checkPayloadLength(payload.length, s)
  assertRoom(dst, offset, s.w + payload.length)
  writeLen(dst, offset, s.inc ? payload.length + s.w : payload.length, s)
  dst.set(payload, offset + s.w)
  return s.w + payload.length
}

/** `len | payload` in one new, exactly-sized buffer. */
export function encodeFrame(payload: Uint8Array, options?: LengthPrefixOptions): Uint8Array {
  const s = shape(options)
  assertBytes(payload, 'payload')
  checkPayloadLength(payload.length, s)
  const out = new Uint8Array(s.w + payload.length)
  writeLen(out, 0, s.inc ? payload.length + s.w : payload.length, s)
  out.set(payload, s.w)
  return out
}

/** Writes every payload as a frame, back to back; returns the bytes written. */
export function encodeFramesInto(
  dst: Uint8Array,
  offset: number,
  payloads: readonly Uint8Array[],
  options?: LengthPrefixOptions,
): number {
  const s = shape(options)
  const total = totalSize(payloads, s)
  assertRoom(dst, offset, total)
  let p = offset
  for (const payload of payloads) {
    writeLen(dst, p, s.inc ? payload.length + s.w : payload.length, s)
    dst.set(payload, p + s.w)
    p += s.w + payload.length
  }
  return total
}

/** Every payload as a frame, back to back, in one new buffer (one allocation). */
export function encodeFrames(payloads: readonly Uint8Array[], options?: LengthPrefixOptions): Uint8Array {
  const s = shape(options)
  const out = new Uint8Array(totalSize(payloads, s))
  encodeFramesInto(out, 0, payloads, options)
  return out
}

function totalSize(payloads: readonly Uint8Array[], s: Shape): number {
  if (!Array.isArray(payloads)) throw new FramingError('ERR_BAD_VALUE', 'payloads must be an array')
  let total = 0
  for (const p of payloads) {
    assertBytes(p, 'payload')
    checkPayloadLength(p.length, s)
    total += s.w + p.length
  }
  return total
}

/** Decodes a buffer that holds whole frames only; returns views of the payloads. A partial frame at the end throws
 * ERR_TRUNCATED (use LengthPrefixedDecoder for streams). `maxFrame` as for the decoder. */
export function decodeFrames(buf: Uint8Array, options?: LengthPrefixedDecoderOptions): Uint8Array[] {
  const d = new LengthPrefixedDecoder(options)
  const out = d.push(buf)
  d.end()
  return out
}

/**
 * Streaming decoder: push chunks split anywhere, get payload views.
 *
 * ```ts
 * const d = new LengthPrefixedDecoder({ width: 4, endian: 'big', maxFrame: 1 << 20 })
 * socket.on('data', (chunk) => d.push(chunk, (payload) => handle(payload)))
 * socket.on('end', () => d.end())
 * ```
 *
 * Payloads inside one chunk are views into it; a payload that straddled chunks lives in a reused buffer and is
 * valid until the next `push()` (unless `reuse: false`). `pushSpans()` hands out `(buf, start, end)` with no
 * object at all.
 */
export class LengthPrefixedDecoder extends FrameDecoder<Uint8Array> {
  readonly width: 2 | 4
  readonly endian: 'big' | 'little'
  readonly maxFrame: number
  readonly includesHeader: boolean
  private readonly w: 2 | 4
  private readonly le: boolean
  private readonly inc: boolean
  private span: ((buf: Uint8Array, start: number, end: number) => void) | undefined = undefined

  constructor(options?: LengthPrefixedDecoderOptions) {
    super(options)
    const s = shape(options)
    this.w = s.w
    this.le = s.le
    this.inc = s.inc
    this.width = s.w
    this.endian = s.le ? 'little' : 'big'
    this.includesHeader = s.inc
    const max = options?.maxFrame ?? Math.min(s.max, s.w === 2 ? 0xffff : DEFAULT_MAX_FRAME_U32)
    assertInt(max, 0, s.max, 'maxFrame')
    this.maxFrame = max
  }

  /** Like `push(chunk, onFrame)` but calls `onSpan(buf, start, end)` with the payload's position instead of a view:
   * no allocation per frame. `buf` is the chunk or an accumulation buffer (valid until the next push). */
  pushSpans(chunk: Uint8Array, onSpan: (buf: Uint8Array, start: number, end: number) => void): void {
    this.span = onSpan
    try {
      this.feed(chunk)
    } finally {
      this.span = undefined
    }
  }

  protected frameLength(buf: Uint8Array, start: number, avail: number, at: number): number {
    const w = this.w
    if (avail < w) return -w
    const n = readLen(buf, start, w, this.le)
    let payload = n
    if (this.inc) {
      if (n < w) throw new FramingError('ERR_BAD_LENGTH', `length field ${n} is smaller than its own ${w} bytes`, at)
      payload = n - w
    }
    if (payload > this.maxFrame) {
      throw new FramingError('ERR_FRAME_TOO_LARGE', `frame of ${payload} bytes exceeds maxFrame ${this.maxFrame}`, at)
    }
    return w + payload
  }

  protected frame(buf: Uint8Array, start: number, end: number): void {
    const span = this.span
    if (span !== undefined) span(buf, start + this.w, end)
    else this.emit(view(buf, start + this.w, end))
  }
}

/** `decodeStream(source, new LengthPrefixedDecoder(options))`: an async generator of payloads. */
export function decodeLengthPrefixedStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options?: LengthPrefixedDecoderOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  return decodeStream(source, new LengthPrefixedDecoder(options))
}
