/**
 * DCF Thunderbolt/USB4 transport RTT datagrams (ALH477/HydraMesh `rust/plugins/usb4/lib.rs:382-441`): exactly 16
 * bytes, two big-endian u64 halves.
 *
 * ```
 * ping: 00 00 00 52 54 54 50 54 | timestamp u64be     (magic 0x5254545054, "RTTPT")
 * pong: 00 00 00 52 54 54 50 53 | the ping's 8 bytes  (magic 0x5254545053, "RTTPS")
 * ```
 *
 * A datagram is a ping iff it is 16 bytes long and bytes 0–7 read as u64 BE equal the ping magic; likewise a pong.
 * Any other length is application data, whatever its bytes. The timestamp is opaque to the responder: a pong echoes
 * the ping's 8 bytes unchanged.
 */

import { put32be, u32be, view } from './bytes.js'
import { assertBytes, assertRoom } from './check.js'
import { FramingError } from './errors.js'

export const RTT_PING_MAGIC = 0x5254545054n
export const RTT_PONG_MAGIC = 0x5254545053n
export const RTT_DATAGRAM_SIZE = 16

export interface RttDatagram {
  kind: 'ping' | 'pong'
  /** Bytes 8–15 as u64 BE (ns since the epoch when written by Rust or @x/thunderbolt; SBCL Lisp writes
   * sec·10⁹ + µs). */
  timestamp: bigint
  /** View of the 8 timestamp bytes, for echoing them verbatim. */
  timestampBytes: Uint8Array
}

/** `'ping'`, `'pong'` or `null` (application data), without allocating. */
export function classifyRtt(datagram: Uint8Array): 'ping' | 'pong' | null {
  if (!(datagram instanceof Uint8Array) || datagram.length !== RTT_DATAGRAM_SIZE) return null
  const b = datagram
  if (b[0] !== 0 || b[1] !== 0 || b[2] !== 0 || b[3] !== 0x52 || b[4] !== 0x54 || b[5] !== 0x54 || b[6] !== 0x50) {
    return null
  }
  return b[7] === 0x54 ? 'ping' : b[7] === 0x53 ? 'pong' : null
}

export const isPing = (datagram: Uint8Array): boolean => classifyRtt(datagram) === 'ping'
export const isPong = (datagram: Uint8Array): boolean => classifyRtt(datagram) === 'pong'

/** Decodes a ping or pong; `null` for any other datagram (never throws for a Uint8Array). */
export function decodeRtt(datagram: Uint8Array): RttDatagram | null {
  const kind = classifyRtt(datagram)
  if (kind === null) return null
  const timestamp = (BigInt(u32be(datagram, 8)) << 32n) | BigInt(u32be(datagram, 12))
  return { kind, timestamp, timestampBytes: view(datagram, 8, 16) }
}

function timestampBytes(ts: unknown): Uint8Array {
  const out = new Uint8Array(8)
  if (ts instanceof Uint8Array) {
    if (ts.length !== 8) throw new FramingError('ERR_BAD_LENGTH', `timestamp bytes must be 8, got ${ts.length}`)
    out.set(ts)
    return out
  }
  let v: bigint
  if (typeof ts === 'bigint') v = ts
  else if (typeof ts === 'number' && Number.isSafeInteger(ts)) v = BigInt(ts)
  else throw new FramingError('ERR_BAD_VALUE', 'timestamp must be a bigint, a safe integer or 8 bytes')
  if (v < 0n || v > 0xffffffffffffffffn) throw new FramingError('ERR_BAD_VALUE', `timestamp ${v} is not a u64`)
  put32be(out, 0, Number(v >> 32n))
  put32be(out, 4, Number(v & 0xffffffffn))
  return out
}

function encodeInto(dst: Uint8Array, offset: number, last: number, ts: unknown): number {
  const t = timestampBytes(ts)
  assertRoom(dst, offset, RTT_DATAGRAM_SIZE)
  dst.fill(0, offset, offset + 3)
  dst[offset + 3] = 0x52
  dst[offset + 4] = 0x54
  dst[offset + 5] = 0x54
  dst[offset + 6] = 0x50
  dst[offset + 7] = last
  dst.set(t, offset + 8)
  return RTT_DATAGRAM_SIZE
}

/** Writes a ping at `offset`; returns 16. */
export function encodePingInto(dst: Uint8Array, offset: number, timestamp: bigint | number): number {
  return encodeInto(dst, offset, 0x54, timestamp)
}

/** A ping carrying `timestamp` (u64). */
export function encodePing(timestamp: bigint | number): Uint8Array {
  const out = new Uint8Array(RTT_DATAGRAM_SIZE)
  encodeInto(out, 0, 0x54, timestamp)
  return out
}

/** Writes a pong at `offset`; returns 16. `pingTimestamp` is the ping's u64 or, better, its 8 bytes verbatim. */
export function encodePongInto(dst: Uint8Array, offset: number, pingTimestamp: bigint | number | Uint8Array): number {
  return encodeInto(dst, offset, 0x53, pingTimestamp)
}

/** A pong echoing `pingTimestamp` (a u64 or the ping's 8 timestamp bytes). */
export function encodePong(pingTimestamp: bigint | number | Uint8Array): Uint8Array {
  const out = new Uint8Array(RTT_DATAGRAM_SIZE)
  encodeInto(out, 0, 0x53, pingTimestamp)
  return out
}

/** The pong answering `ping` (a copy with byte 7 set to 0x53), or `null` if `ping` is not a ping. */
export function pongFor(ping: Uint8Array): Uint8Array | null {
  assertBytes(ping, 'ping')
  if (classifyRtt(ping) !== 'ping') return null
  const out = new Uint8Array(ping)
  out[7] = 0x53
  return out
}
