/**
 * The CMIO Unix/TCP socket multiplexer message (tapcmio `src/unix_tcp_socket.rs`, GIO domain 0x43) in the format
 * the code really uses, big-endian, messages concatenated in one CMIO tx or rx buffer:
 *
 * ```
 * type:u8 | socket_id:u32be | body
 *   0x01 UNIX_CONNECT : path_len:u8 | path (UTF-8)
 *   0x05 TCP_CONNECT  : ipv4[4] | port:u16be
 *   other types       : data_len:u32be | data
 * ```
 *
 * Not the README's `type | path_len | path | data_len | data` (no socket id), which nothing implements. Batches are
 * parsed by each message's real size (upstream advances by `9 + data_len` for every type and desynchronizes on
 * every CONNECT). See the README's "Divergences from upstream".
 */

import { put16be, put32be, u16be, u32be, view } from './bytes.js'
import { assertBytes, assertInt, assertRoom } from './check.js'
import { CMIO_BUFFER_SIZE } from './cmio-tap.js'
import { FramingError } from './errors.js'
import { FrameDecoder, type FrameDecoderOptions } from './stream.js'

/** GIO domain of the socket multiplexer. */
export const MUX_DOMAIN = 0x43

export const MuxType = {
  UNIX_CONNECT: 0x01,
  UNIX_SEND: 0x02,
  UNIX_RECEIVE: 0x03,
  UNIX_CLOSE: 0x04,
  TCP_CONNECT: 0x05,
  TCP_SEND: 0x06,
  TCP_RECEIVE: 0x07,
  TCP_CLOSE: 0x08,
} as const
export type MuxType = (typeof MuxType)[keyof typeof MuxType]
/** The types whose body is `data_len:u32be | data`. */
export type MuxDataType = Exclude<MuxType, 0x01 | 0x05>

/** Longest Unix socket path accepted on encode: `sun_path` is 108 bytes including the NUL. */
export const MUX_MAX_PATH = 107
/** Bytes before the body: type and socket id. */
export const MUX_HEADER_SIZE = 5

export interface MuxUnixConnect {
  type: 0x01
  socketId: number
  /** UTF-8 path bytes (a view when decoded). */
  path: Uint8Array
}
export interface MuxTcpConnect {
  type: 0x05
  socketId: number
  /** The 4 IPv4 address bytes, network order (a view when decoded). */
  address: Uint8Array
  port: number
}
export interface MuxData {
  type: MuxDataType
  socketId: number
  /** A view when decoded. */
  data: Uint8Array
}
export type MuxMessage = MuxUnixConnect | MuxTcpConnect | MuxData

/** What the encoders take: like MuxMessage, with a string path, a dotted-quad address and `data` optional. */
export type MuxMessageInit =
  | { type: 0x01; socketId: number; path: string | Uint8Array }
  | { type: 0x05; socketId: number; address: string | ArrayLike<number>; port: number }
  | { type: MuxDataType; socketId: number; data?: Uint8Array }

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true })

function typeName(t: number): string {
  for (const [k, v] of Object.entries(MuxType)) if (v === t) return k
  return `0x${t.toString(16).padStart(2, '0')}`
}

function pathBytes(path: unknown): Uint8Array {
  const b = typeof path === 'string' ? utf8.encode(path) : path
  assertBytes(b, 'path')
  if (b.length > MUX_MAX_PATH) {
    throw new FramingError('ERR_BAD_LENGTH', `Unix socket path of ${b.length} bytes exceeds ${MUX_MAX_PATH} (sun_path)`)
  }
  return b
}

function addressBytes(a: unknown): Uint8Array {
  if (typeof a === 'string') {
    const parts = a.split('.')
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) {
      throw new FramingError('ERR_BAD_VALUE', `not a dotted-quad IPv4 address: ${JSON.stringify(a)}`)
    }
    return Uint8Array.from(parts, Number)
  }
  const arr = a as ArrayLike<number> | null
  if (arr === null || typeof arr !== 'object' || arr.length !== 4) {
    throw new FramingError('ERR_BAD_VALUE', 'address must be a dotted-quad string or 4 bytes')
  }
  const out = new Uint8Array(4)
  for (let i = 0; i < 4; i++) {
    assertInt(arr[i], 0, 255, `address[${i}]`)
    out[i] = arr[i]
  }
  return out
}

interface Prepared {
  type: number
  socketId: number
  size: number
  body: Uint8Array
  port: number
}

function prepare(m: MuxMessageInit): Prepared {
  if (m === null || typeof m !== 'object') throw new FramingError('ERR_BAD_VALUE', 'message must be an object')
  assertInt(m.socketId, 0, 0xffffffff, 'socketId')
  switch (m.type) {
    case 0x01: {
      const body = pathBytes(m.path)
      return { type: 1, socketId: m.socketId, size: 6 + body.length, body, port: 0 }
    }
    case 0x05: {
      assertInt(m.port, 0, 0xffff, 'port')
      return { type: 5, socketId: m.socketId, size: 11, body: addressBytes(m.address), port: m.port }
    }
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x06:
    case 0x07:
    case 0x08: {
      const body = m.data ?? new Uint8Array(0)
      assertBytes(body, 'data')
      if (body.length > 0xffffffff) throw new FramingError('ERR_FRAME_TOO_LARGE', 'data exceeds the u32 length field')
      return { type: m.type, socketId: m.socketId, size: 9 + body.length, body, port: 0 }
    }
    default:
      throw new FramingError('ERR_BAD_VALUE', `unknown mux message type ${String((m as { type: unknown }).type)}`)
  }
}

function write(dst: Uint8Array, p: number, m: Prepared): void {
  dst[p] = m.type
  put32be(dst, p + 1, m.socketId)
  if (m.type === 1) {
    dst[p + 5] = m.body.length
    dst.set(m.body, p + 6)
  } else if (m.type === 5) {
    dst.set(m.body, p + 5)
    put16be(dst, p + 9, m.port)
  } else {
    put32be(dst, p + 5, m.body.length)
    dst.set(m.body, p + 9)
  }
}

/** Bytes the message takes on the wire. */
export function muxMessageSize(message: MuxMessageInit): number {
  return prepare(message).size
}

/** Writes one message at `offset`; returns the bytes written. */
export function encodeMuxMessageInto(dst: Uint8Array, offset: number, message: MuxMessageInit): number {
  const m = prepare(message)
  assertRoom(dst, offset, m.size)
  write(dst, offset, m)
  return m.size
}

/** One message in a new, exactly-sized buffer. */
export function encodeMuxMessage(message: MuxMessageInit): Uint8Array {
  const m = prepare(message)
  const out = new Uint8Array(m.size)
  write(out, 0, m)
  return out
}

export interface MuxBatchResult {
  bytes: number
  count: number
}

/**
 * Packs `messages[first..]` into `dst` at `offset` while they fit in `limit` bytes (default: the room in `dst`; a
 * CMIO buffer is 2 MiB). Returns bytes written and messages packed; call again from `first + count` for the next
 * batch. A message larger than `limit` throws ERR_FRAME_TOO_LARGE.
 */
export function encodeMuxBatchInto(
  dst: Uint8Array,
  offset: number,
  messages: readonly MuxMessageInit[],
  first = 0,
  limit?: number,
): MuxBatchResult {
  assertRoom(dst, offset, 0)
  if (!Array.isArray(messages)) throw new FramingError('ERR_BAD_VALUE', 'messages must be an array')
  assertInt(first, 0, messages.length, 'first')
  const room = dst.length - offset
  const cap = limit === undefined ? room : limit
  assertInt(cap, 0, room, 'limit')
  let p = offset
  let i = first
  for (; i < messages.length; i++) {
    const m = prepare(messages[i])
    if (m.size > cap) {
      throw new FramingError(
        'ERR_FRAME_TOO_LARGE',
        `messages[${i}] needs ${m.size} bytes, more than the batch limit ${cap}`,
      )
    }
    if (p - offset + m.size > cap) break
    write(dst, p, m)
    p += m.size
  }
  return { bytes: p - offset, count: i - first }
}

/** All messages as one batch in a new buffer; more than `limit` bytes (default 2 MiB) throws ERR_FRAME_TOO_LARGE. */
export function encodeMuxBatch(messages: readonly MuxMessageInit[], limit = CMIO_BUFFER_SIZE): Uint8Array {
  if (!Array.isArray(messages)) throw new FramingError('ERR_BAD_VALUE', 'messages must be an array')
  assertInt(limit, 0, Number.MAX_SAFE_INTEGER, 'limit')
  const prepared = messages.map(prepare)
  let n = 0
  for (const m of prepared) n += m.size
  if (n > limit) throw new FramingError('ERR_FRAME_TOO_LARGE', `batch of ${n} bytes exceeds the limit ${limit}`)
  const out = new Uint8Array(n)
  let p = 0
  for (const m of prepared) {
    write(out, p, m)
    p += m.size
  }
  return out
}

/** Splits the messages into batches of at most `limit` bytes (default 2 MiB), greedily, order kept. */
export function encodeMuxBatches(messages: readonly MuxMessageInit[], limit = CMIO_BUFFER_SIZE): Uint8Array[] {
  if (!Array.isArray(messages)) throw new FramingError('ERR_BAD_VALUE', 'messages must be an array')
  assertInt(limit, 1, Number.MAX_SAFE_INTEGER, 'limit')
  const prepared = messages.map(prepare)
  const out: Uint8Array[] = []
  let i = 0
  while (i < prepared.length) {
    let size = 0
    let j = i
    for (; j < prepared.length; j++) {
      const s = prepared[j].size
      if (s > limit)
        throw new FramingError(
          'ERR_FRAME_TOO_LARGE',
          `messages[${j}] needs ${s} bytes, more than the batch limit ${limit}`,
        )
      if (size + s > limit) break
      size += s
    }
    const b = new Uint8Array(size)
    let p = 0
    for (let k = i; k < j; k++) {
      write(b, p, prepared[k])
      p += prepared[k].size
    }
    out.push(b)
    i = j
  }
  return out
}

/**
 * Length of the message starting at `buf[start]` with `avail` bytes present: the total, or `-n` when `n` bytes are
 * needed to tell. Throws ERR_BAD_VALUE for an unknown type.
 */
function messageLength(buf: Uint8Array, start: number, avail: number, at: number): number {
  const t = buf[start]
  switch (t) {
    case 0x01:
      return avail < 6 ? -6 : 6 + buf[start + 5]
    case 0x05:
      return 11
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x06:
    case 0x07:
    case 0x08:
      return avail < 9 ? -9 : 9 + u32be(buf, start + 5)
    default:
      throw new FramingError('ERR_BAD_VALUE', `unknown mux message type 0x${t.toString(16).padStart(2, '0')}`, at)
  }
}

function parse(buf: Uint8Array, p: number, end: number): MuxMessage {
  const type = buf[p] as MuxType
  const socketId = u32be(buf, p + 1)
  if (type === 0x01) return { type, socketId, path: view(buf, p + 6, end) }
  if (type === 0x05) return { type, socketId, address: view(buf, p + 5, p + 9), port: u16be(buf, p + 9) }
  return { type, socketId, data: view(buf, p + 9, end) }
}

/** Calls `onMessage` for each message of a batch (views into `batch`); a partial message at the end throws
 * ERR_TRUNCATED, an unknown type ERR_BAD_VALUE. Returns the count. */
export function forEachMuxMessage(batch: Uint8Array, onMessage: (message: MuxMessage) => void): number {
  assertBytes(batch, 'batch')
  const end = batch.length
  let p = 0
  let n = 0
  while (p < end) {
    const avail = end - p
    const r = messageLength(batch, p, avail, p)
    if (r < 0 || r > avail) {
      const need = r < 0 ? -r : r
      throw new FramingError(
        'ERR_TRUNCATED',
        `mux batch ends inside a ${typeName(batch[p])} message (${avail} of ${need} bytes)`,
        p,
      )
    }
    onMessage(parse(batch, p, p + r))
    p += r
    n++
  }
  return n
}

/** Every message of a batch, fields as views into `batch`. */
export function decodeMuxBatch(batch: Uint8Array): MuxMessage[] {
  const out: MuxMessage[] = []
  forEachMuxMessage(batch, (m) => out.push(m))
  return out
}

/** Decodes exactly one message filling `buf`; trailing bytes throw ERR_BAD_LENGTH. */
export function decodeMuxMessage(buf: Uint8Array): MuxMessage {
  assertBytes(buf, 'buf')
  if (buf.length === 0) throw new FramingError('ERR_TRUNCATED', 'empty mux message', 0)
  const r = messageLength(buf, 0, buf.length, 0)
  if (r < 0 || r > buf.length)
    throw new FramingError('ERR_TRUNCATED', `mux message needs ${r < 0 ? -r : r} bytes, has ${buf.length}`, 0)
  if (r !== buf.length)
    throw new FramingError('ERR_BAD_LENGTH', `mux message is ${r} bytes, buffer has ${buf.length}`, r)
  return parse(buf, 0, r)
}

/** The path of a UNIX_CONNECT as a string (invalid UTF-8 throws ERR_BAD_VALUE). */
export function muxPath(message: MuxUnixConnect): string {
  try {
    return utf8Strict.decode(message.path)
  } catch {
    throw new FramingError('ERR_BAD_VALUE', 'Unix socket path is not valid UTF-8')
  }
}

/** The address of a TCP_CONNECT as a dotted quad. */
export function muxAddress(message: MuxTcpConnect): string {
  const a = message.address
  return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`
}

export interface MuxDecoderOptions extends FrameDecoderOptions {
  /** Largest message accepted, header included (default 2 MiB, one CMIO buffer): a bigger `data_len` throws
   * ERR_FRAME_TOO_LARGE before anything is buffered. */
  maxMessage?: number
}

/** Streaming decoder for mux messages on a byte stream (e.g. a host's socket to the guest bridge). */
export class MuxDecoder extends FrameDecoder<MuxMessage> {
  readonly maxMessage: number

  constructor(options?: MuxDecoderOptions) {
    super(options)
    const max = options?.maxMessage ?? CMIO_BUFFER_SIZE
    assertInt(max, 11, Number.MAX_SAFE_INTEGER, 'maxMessage')
    this.maxMessage = max
  }

  protected frameLength(buf: Uint8Array, start: number, avail: number, at: number): number {
    const r = messageLength(buf, start, avail, at)
    if (r > this.maxMessage) {
      throw new FramingError(
        'ERR_FRAME_TOO_LARGE',
        `mux message of ${r} bytes exceeds maxMessage ${this.maxMessage}`,
        at,
      )
    }
    return r
  }

  protected frame(buf: Uint8Array, start: number, end: number): void {
    this.emit(parse(buf, start, end))
  }
}
