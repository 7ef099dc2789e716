import {
  classifyRtt,
  decodeRtt,
  encodePing,
  encodePingInto,
  encodePong,
  encodePongInto,
  isPing,
  isPong,
  pongFor,
  RTT_DATAGRAM_SIZE,
  RTT_PING_MAGIC,
  RTT_PONG_MAGIC,
} from '@x/framing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectFraming, hex, toHex } from './helpers.js'

// Golden vectors: /work/shared/reference/thunderbolt.md §2.3 (observed on the wire).
const RUST_PING = hex('00 00 00 52 54 54 50 54 11 22 10 F4 7D E9 81 15')
const RUST_PONG = hex('00 00 00 52 54 54 50 53 11 22 10 F4 7D E9 81 15')
const LISP_PING = hex('00 00 00 52 54 54 50 54 18 EA D9 75 77 87 A0 4D')

describe('DCF RTT datagrams: golden vectors', () => {
  it('constants', () => {
    expect(RTT_PING_MAGIC).toBe(0x5254545054n)
    expect(RTT_PONG_MAGIC).toBe(0x5254545053n)
    expect(RTT_DATAGRAM_SIZE).toBe(16)
  })

  it('ping with ts 1234567890123456789 and the Rust pong to it, byte for byte', () => {
    expect(toHex(encodePing(1234567890123456789n))).toBe(toHex(RUST_PING))
    expect(toHex(encodePong(1234567890123456789n))).toBe(toHex(RUST_PONG))
    expect(toHex(pongFor(RUST_PING)!)).toBe(toHex(RUST_PONG))
    expect(decodeRtt(RUST_PING)).toMatchObject({ kind: 'ping', timestamp: 1234567890123456789n })
    expect(decodeRtt(RUST_PONG)).toMatchObject({ kind: 'pong', timestamp: 1234567890123456789n })
  })

  it('the Lisp (SBCL) ping: ts 1795486500000342093 = sec 1795486500 · 10⁹ + µs 342093, echoed unchanged', () => {
    const d = decodeRtt(LISP_PING)!
    expect(d.kind).toBe('ping')
    expect(d.timestamp).toBe(1795486500000342093n)
    expect(d.timestamp).toBe(1795486500n * 1_000_000_000n + 342093n)
    const pong = encodePong(d.timestampBytes)
    expect(toHex(pong.subarray(8))).toBe(toHex(LISP_PING.subarray(8)))
    expect(toHex(pong.subarray(0, 8))).toBe('0000005254545053')
    expect(toHex(pongFor(LISP_PING)!)).toBe(toHex(pong))
  })

  it('bytes 0–7 are the magic as a big-endian u64 (not bytes 4–8)', () => {
    expect(Buffer.from(RUST_PING).readBigUInt64BE(0)).toBe(RTT_PING_MAGIC)
    expect(Buffer.from(RUST_PONG).readBigUInt64BE(0)).toBe(RTT_PONG_MAGIC)
  })
})

describe('DCF RTT datagrams: classification (exactly 16 bytes, magic at 0–7)', () => {
  it('lengths 15 and 17 are application data', () => {
    for (const base of [RUST_PING, RUST_PONG]) {
      const l15 = base.subarray(0, 15)
      const l17 = new Uint8Array(17)
      l17.set(base)
      for (const b of [l15, l17, new Uint8Array(0)]) {
        expect(classifyRtt(b)).toBeNull()
        expect(decodeRtt(b)).toBeNull()
        expect(isPing(b) || isPong(b)).toBe(false)
      }
    }
    expect(isPing(RUST_PING)).toBe(true)
    expect(isPong(RUST_PONG)).toBe(true)
    expect(isPing(RUST_PONG)).toBe(false)
  })

  it('any one byte off in the magic makes it application data', () => {
    for (let i = 0; i < 8; i++) {
      for (const delta of [1, 0x80]) {
        const b = Uint8Array.from(RUST_PING)
        b[i] ^= delta
        // byte 7 flipped to 0x53 would be a pong: 0x54 ^ 0x07; neither delta does that
        expect(classifyRtt(b)).toBeNull()
      }
    }
  })

  it('a 16-byte message starting with the ping magic is a ping whatever its timestamp', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (ts) => {
        const b = new Uint8Array(16)
        b.set(RUST_PING.subarray(0, 8))
        b.set(ts, 8)
        const d = decodeRtt(b)!
        expect(d.kind).toBe('ping')
        expect(toHex(d.timestampBytes)).toBe(toHex(ts))
        expect(toHex(pongFor(b)!.subarray(8))).toBe(toHex(ts))
      }),
    )
  })

  it('never throws on any Uint8Array; round trips u64 timestamps', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (g) => {
        const k = classifyRtt(g)
        const d = decodeRtt(g)
        expect(d === null ? null : d.kind).toBe(k)
        if (k !== null) expect(g.length).toBe(16)
      }),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (ts) => {
        expect(decodeRtt(encodePing(ts))).toMatchObject({ kind: 'ping', timestamp: ts })
        expect(decodeRtt(encodePong(ts))).toMatchObject({ kind: 'pong', timestamp: ts })
      }),
    )
  })

  it('pongFor on a non-ping is null; bad timestamps throw FramingError', () => {
    expect(pongFor(RUST_PONG)).toBeNull()
    expect(pongFor(new Uint8Array(16))).toBeNull()
    expectFraming(() => encodePing(-1n), 'ERR_BAD_VALUE')
    expectFraming(() => encodePing(1n << 64n), 'ERR_BAD_VALUE')
    expectFraming(() => encodePing(1.5), 'ERR_BAD_VALUE')
    expectFraming(() => encodePong(new Uint8Array(7)), 'ERR_BAD_LENGTH')
    expect(toHex(encodePing(5))).toBe(toHex(encodePing(5n)))
  })

  it('…Into writes 16 bytes at an offset', () => {
    const dst = new Uint8Array(40).fill(0xee)
    expect(encodePingInto(dst, 4, 1234567890123456789n)).toBe(16)
    expect(encodePongInto(dst, 20, RUST_PING.subarray(8))).toBe(16)
    expect(toHex(dst.subarray(4, 20))).toBe(toHex(RUST_PING))
    expect(toHex(dst.subarray(20, 36))).toBe(toHex(RUST_PONG))
    expect(dst[3]).toBe(0xee)
    expect(dst[36]).toBe(0xee)
    expectFraming(() => encodePingInto(dst, 25, 0n), 'ERR_BUFFER_TOO_SMALL')
  })
})
