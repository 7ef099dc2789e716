/**
 * vrtd (V80 Runtime Daemon, Xilinx/SLASH `vrt/vrtd/include/vrtd/wire.h`) request and response headers. One
 * SOCK_SEQPACKET datagram is one message: an 8-byte packed little-endian header, then the body.
 *
 * ```
 * struct vrtd_req_header  { u16 size; u16 opcode; u32 seqno; }   // size = body bytes, header excluded
 * struct vrtd_resp_header { u16 size; u16 ret;    u32 seqno; }
 * ```
 *
 * Total ≤ VRTD_MSG_MAX_SIZE (4096), so a body is ≤ 4088 bytes; the daemon requires `length == 8 + size`.
 */

import { put16le, put32le, u16le, u32le, view } from './bytes.js'
import { assertBytes, assertInt, assertRoom } from './check.js'
import { FramingError } from './errors.js'

export const HEADER_SIZE = 8
export const MSG_MAX_SIZE = 4096
/** MSG_MAX_SIZE - HEADER_SIZE. */
export const BODY_MAX = 4088

export interface RequestHeader {
  /** Body bytes (header excluded). */
  size: number
  opcode: number
  seqno: number
}
export interface ResponseHeader {
  size: number
  /** `enum vrtd_ret`: 0 OK, 3 BAD_REQUEST, ... */
  ret: number
  seqno: number
}
export interface Request extends RequestHeader {
  /** View of the body in the datagram. */
  body: Uint8Array
}
export interface Response extends ResponseHeader {
  /** View of the body in the datagram (empty for an error reply read leniently). */
  body: Uint8Array
}

function checkHeader(size: number, code: number, seqno: number, codeName: string): void {
  assertInt(size, 0, Number.MAX_SAFE_INTEGER, 'size')
  if (size > BODY_MAX) {
    throw new FramingError(
      'ERR_FRAME_TOO_LARGE',
      `body of ${size} bytes exceeds ${BODY_MAX} (VRTD_MSG_MAX_SIZE ${MSG_MAX_SIZE} - 8)`,
    )
  }
  assertInt(code, 0, 0xffff, codeName)
  assertInt(seqno, 0, 0xffffffff, 'seqno')
}

function put(dst: Uint8Array, p: number, size: number, code: number, seqno: number): void {
  put16le(dst, p, size)
  put16le(dst, p + 2, code)
  put32le(dst, p + 4, seqno)
}

/** Writes a request header at `offset`; returns 8. `size` is the body length and must be ≤ 4088. */
export function encodeRequestHeaderInto(
  dst: Uint8Array,
  offset: number,
  size: number,
  opcode: number,
  seqno: number,
): number {
  checkHeader(size, opcode, seqno, 'opcode')
  assertRoom(dst, offset, HEADER_SIZE)
  put(dst, offset, size, opcode, seqno)
  return HEADER_SIZE
}

/** A request header in a new 8-byte buffer. */
export function encodeRequestHeader(size: number, opcode: number, seqno: number): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE)
  encodeRequestHeaderInto(out, 0, size, opcode, seqno)
  return out
}

/** Writes header and body (one datagram) at `offset`; returns the bytes written. */
export function encodeRequestInto(
  dst: Uint8Array,
  offset: number,
  opcode: number,
  seqno: number,
  body?: Uint8Array,
): number {
  const b = body ?? new Uint8Array(0)
  assertBytes(b, 'body')
  checkHeader(b.length, opcode, seqno, 'opcode')
  assertRoom(dst, offset, HEADER_SIZE + b.length)
  put(dst, offset, b.length, opcode, seqno)
  dst.set(b, offset + HEADER_SIZE)
  return HEADER_SIZE + b.length
}

/** Header and body as one datagram in a new buffer. (Send `GET_NUM_DEVICES` with its 1-byte zero body: the daemon
 * rejects an empty one.) */
export function encodeRequest(opcode: number, seqno: number, body?: Uint8Array): Uint8Array {
  const b = body ?? new Uint8Array(0)
  assertBytes(b, 'body')
  checkHeader(b.length, opcode, seqno, 'opcode')
  const out = new Uint8Array(HEADER_SIZE + b.length)
  put(out, 0, b.length, opcode, seqno)
  out.set(b, HEADER_SIZE)
  return out
}

/** Writes a response header at `offset`; returns 8. */
export function encodeResponseHeaderInto(
  dst: Uint8Array,
  offset: number,
  size: number,
  ret: number,
  seqno: number,
): number {
  checkHeader(size, ret, seqno, 'ret')
  assertRoom(dst, offset, HEADER_SIZE)
  put(dst, offset, size, ret, seqno)
  return HEADER_SIZE
}

/** A response header in a new 8-byte buffer. */
export function encodeResponseHeader(size: number, ret: number, seqno: number): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE)
  encodeResponseHeaderInto(out, 0, size, ret, seqno)
  return out
}

/** Writes header and body at `offset`; returns the bytes written. Error replies (`ret ≠ 0`) should carry no body. */
export function encodeResponseInto(
  dst: Uint8Array,
  offset: number,
  ret: number,
  seqno: number,
  body?: Uint8Array,
): number {
  const b = body ?? new Uint8Array(0)
  assertBytes(b, 'body')
  checkHeader(b.length, ret, seqno, 'ret')
  assertRoom(dst, offset, HEADER_SIZE + b.length)
  put(dst, offset, b.length, ret, seqno)
  dst.set(b, offset + HEADER_SIZE)
  return HEADER_SIZE + b.length
}

/** Header and body as one datagram in a new buffer. */
export function encodeResponse(ret: number, seqno: number, body?: Uint8Array): Uint8Array {
  const b = body ?? new Uint8Array(0)
  assertBytes(b, 'body')
  checkHeader(b.length, ret, seqno, 'ret')
  const out = new Uint8Array(HEADER_SIZE + b.length)
  put(out, 0, b.length, ret, seqno)
  out.set(b, HEADER_SIZE)
  return out
}

function header(buf: Uint8Array, what: string): [number, number, number] {
  assertBytes(buf, what)
  if (buf.length < HEADER_SIZE) {
    throw new FramingError('ERR_TRUNCATED', `${what} of ${buf.length} bytes is shorter than the 8-byte header`, 0)
  }
  return [u16le(buf, 0), u16le(buf, 2), u32le(buf, 4)]
}

/** Reads the 8 header bytes only (no check against the datagram's length). */
export function decodeRequestHeader(buf: Uint8Array): RequestHeader {
  const [size, opcode, seqno] = header(buf, 'buffer')
  return { size, opcode, seqno }
}

/** Reads the 8 header bytes only (no check against the datagram's length). */
export function decodeResponseHeader(buf: Uint8Array): ResponseHeader {
  const [size, ret, seqno] = header(buf, 'buffer')
  return { size, ret, seqno }
}

function checkFraming(len: number, size: number): void {
  if (size > BODY_MAX) {
    throw new FramingError('ERR_FRAME_TOO_LARGE', `size field ${size} exceeds ${BODY_MAX}`, 0)
  }
  if (len !== HEADER_SIZE + size) {
    throw new FramingError('ERR_BAD_LENGTH', `datagram of ${len} bytes, header says 8 + ${size}`, 0)
  }
}

/**
 * Validates a request datagram the way the daemon does (wire.h, serve.c): shorter than 8 bytes → ERR_TRUNCATED;
 * `size > 4088` → ERR_FRAME_TOO_LARGE; `length ≠ 8 + size` → ERR_BAD_LENGTH. (The daemon sends no reply to any of
 * these.) Returns the header and a view of the body.
 */
export function decodeRequest(datagram: Uint8Array): Request {
  const [size, opcode, seqno] = header(datagram, 'datagram')
  checkFraming(datagram.length, size)
  return { size, opcode, seqno, body: view(datagram, HEADER_SIZE, datagram.length) }
}

export interface DecodeResponseOptions {
  /** Also hold error replies (`ret ≠ 0`) to `length == 8 + size` (default `false`). By default an error reply is
   * read from its header only and any further bytes are ignored, as the reference client does: v0 daemons send a
   * garbage `size` on some error paths. */
  strictErrors?: boolean
}

/**
 * Validates a response datagram as a client should (reference §5.3): < 8 bytes → ERR_TRUNCATED; an OK reply
 * (`ret = 0`) must have `size ≤ 4088` and `length == 8 + size`; an error reply is read from its header only and
 * gets an empty body (unless `strictErrors`). Checking `size` against what the opcode expects is the caller's job.
 */
export function decodeResponse(datagram: Uint8Array, options?: DecodeResponseOptions): Response {
  const [size, ret, seqno] = header(datagram, 'datagram')
  if (ret !== 0 && options?.strictErrors !== true) {
    return { size, ret, seqno, body: view(datagram, HEADER_SIZE, HEADER_SIZE) }
  }
  checkFraming(datagram.length, size)
  return { size, ret, seqno, body: view(datagram, HEADER_SIZE, datagram.length) }
}
