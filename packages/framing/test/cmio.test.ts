import {
  CMIO_BUFFER_SIZE,
  decodeMuxBatch,
  decodeMuxMessage,
  decodeMuxResponses,
  decodeTapBatch,
  decodeTunPi,
  encodeMuxBatch,
  encodeMuxBatches,
  encodeMuxBatchInto,
  encodeMuxMessage,
  encodeMuxMessageInto,
  encodeMuxResponses,
  encodeTapBatch,
  encodeTapBatches,
  encodeTapBatchInto,
  encodeTunPiInto,
  FramingError,
  forEachMuxResponse,
  forEachTapFrame,
  MUX_BATCH_ERROR,
  MUX_DOMAIN,
  MUX_MAX_PATH,
  type MuxData,
  MuxDecoder,
  type MuxMessage,
  type MuxMessageInit,
  type MuxResponse,
  MuxStatus,
  MuxType,
  muxAddress,
  muxMessageSize,
  muxPath,
  TAP_DOMAIN,
  TapStreamDecoder,
  tapBatchSize,
} from '@x/framing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bytewise, concat, cutsArb, expectFraming, hex, splitAt, toHex } from './helpers.js'

const frameOf = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)
const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

describe('TAP-over-CMIO batch (reference §5.2)', () => {
  it('layout: repeat { len:u16be | frame }', () => {
    expect(TAP_DOMAIN).toBe(0x42)
    expect(CMIO_BUFFER_SIZE).toBe(2 * 1024 * 1024)
    expect(toHex(encodeTapBatch([hex('aabb'), hex(''), hex('cc')]))).toBe('0002aabb' + '0000' + '0001cc')
    expect(decodeTapBatch(hex('0002aabb 0000 0001cc')).map(toHex)).toEqual(['aabb', '', 'cc'])
  })

  it('full-MTU frames stay intact: 1518-byte PI frames, 9000-byte jumbo, 65,535 max (no 1500-byte truncation)', () => {
    const pi = new Uint8Array(4 + 1514)
    encodeTunPiInto(pi, 0, 0x0800)
    pi.set(frameOf(1514, 7), 4)
    const frames = [pi, frameOf(9000, 1), frameOf(0xffff, 2), frameOf(60, 3)]
    const batch = encodeTapBatch(frames)
    expect(batch.length).toBe(tapBatchSize(frames))
    const out = decodeTapBatch(batch)
    expect(out.map((f) => f.length)).toEqual([1518, 9000, 0xffff, 60])
    for (const [i, f] of out.entries()) expect(eq(f, frames[i])).toBe(true)
    const { proto, flags, frame } = decodeTunPi(out[0])
    expect([proto, flags, frame.length]).toEqual([0x0800, 0, 1514])
    expect(out[1].buffer).toBe(batch.buffer) // views, not copies
    expectFraming(() => encodeTapBatch([new Uint8Array(0x10000)]), 'ERR_FRAME_TOO_LARGE')
  })

  it('splits at the tx length the way tapcmio does (new batch when current + len + 2 > limit)', () => {
    const frames = [frameOf(10), frameOf(10), frameOf(10), frameOf(3)]
    // 12 + 12 = 24 fits in 25, the third would make 36; then 12 + 5 = 17
    const batches = encodeTapBatches(frames, 25)
    expect(batches.map((b) => b.length)).toEqual([24, 17])
    expect([...batches.flatMap((b) => decodeTapBatch(b))].map((f) => f.length)).toEqual([10, 10, 10, 3])
    // exactly full
    expect(encodeTapBatches(frames, 24).map((b) => b.length)).toEqual([24, 17])
    expectFraming(() => encodeTapBatches([frameOf(30)], 25), 'ERR_FRAME_TOO_LARGE')
    expectFraming(() => encodeTapBatch(frames, 40), 'ERR_FRAME_TOO_LARGE')
    // encodeInto continues from `first`
    const dst = new Uint8Array(30)
    const r1 = encodeTapBatchInto(dst, 0, frames, 0, 25)
    expect(r1).toEqual({ bytes: 24, count: 2 })
    const r2 = encodeTapBatchInto(dst, 0, frames, r1.count)
    expect(r2).toEqual({ bytes: 17, count: 2 })
    expectFraming(() => encodeTapBatchInto(new Uint8Array(5), 0, [frameOf(10)]), 'ERR_FRAME_TOO_LARGE')
  })

  it('a 2 MiB batch of full-size frames packs greedily', () => {
    const frames = Array.from({ length: 40 }, (_, i) => frameOf(0xffff, i))
    const batches = encodeTapBatches(frames)
    expect(batches.every((b) => b.length <= CMIO_BUFFER_SIZE)).toBe(true)
    expect(batches[0].length).toBe(Math.floor(CMIO_BUFFER_SIZE / 0x10001) * 0x10001)
    expect(batches.flatMap((b) => decodeTapBatch(b)).length).toBe(40)
  })

  it('a trailing partial entry is ERR_TRUNCATED by default, or dropped as upstream does', () => {
    const b = hex('0002aabb 0003cc')
    expectFraming(() => decodeTapBatch(b), 'ERR_TRUNCATED', 4)
    expectFraming(() => decodeTapBatch(hex('0002aabb 00')), 'ERR_TRUNCATED', 4)
    expect(decodeTapBatch(b, { truncated: 'drop' }).map(toHex)).toEqual(['aabb'])
    expect(forEachTapFrame(b, () => {}, { truncated: 'drop' })).toBe(4)
  })

  it('TapStreamDecoder: entries over a byte stream, any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 12 }), cutsArb, (frames, cuts) => {
        const d = new TapStreamDecoder()
        const got: Uint8Array[] = []
        for (const c of splitAt(encodeTapBatch(frames), cuts)) for (const f of d.push(c)) got.push(Uint8Array.from(f))
        d.end()
        expect(got).toEqual(frames)
      }),
      { numRuns: 100 },
    )
  })

  it('garbage: only FramingError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), fc.boolean(), (g, drop) => {
        try {
          decodeTapBatch(g, { truncated: drop ? 'drop' : 'throw' })
        } catch (e) {
          expect(drop).toBe(false)
          expect(e).toBeInstanceOf(FramingError)
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('CMIO socket mux message (reference §5.3, the code’s format)', () => {
  it('layout of each message kind, byte for byte', () => {
    expect(MUX_DOMAIN).toBe(0x43)
    // type | socket_id:u32be | path_len:u8 | path
    expect(toHex(encodeMuxMessage({ type: MuxType.UNIX_CONNECT, socketId: 1, path: '/s' }))).toBe(
      '01' + '00000001' + '02' + '2f73',
    )
    // type | socket_id | ipv4[4] | port:u16be
    expect(toHex(encodeMuxMessage({ type: MuxType.TCP_CONNECT, socketId: 2, address: '10.0.0.1', port: 443 }))).toBe(
      '05' + '00000002' + '0a000001' + '01bb',
    )
    // type | socket_id | data_len:u32be | data
    expect(toHex(encodeMuxMessage({ type: MuxType.UNIX_SEND, socketId: 1, data: hex('70696e67') }))).toBe(
      '02' + '00000001' + '00000004' + '70696e67',
    )
    expect(toHex(encodeMuxMessage({ type: MuxType.TCP_CLOSE, socketId: 0xdeadbeef }))).toBe(
      '08' + 'deadbeef' + '00000000',
    )
    for (const t of [2, 3, 4, 6, 7, 8] as const) {
      expect(encodeMuxMessage({ type: t, socketId: 9, data: hex('00') })[0]).toBe(t)
    }
    expect(muxMessageSize({ type: 1, socketId: 0, path: 'x'.repeat(40) })).toBe(46)
    expect(muxMessageSize({ type: 5, socketId: 0, address: [1, 2, 3, 4], port: 1 })).toBe(11)
  })

  it('decodes fields as views; path and address helpers', () => {
    const m = decodeMuxMessage(hex('01 00000001 02 2f73'))
    expect(m).toMatchObject({ type: 1, socketId: 1 })
    expect(muxPath(m as Extract<MuxMessage, { type: 1 }>)).toBe('/s')
    const t = decodeMuxMessage(hex('05 00000002 0a000001 01bb')) as Extract<MuxMessage, { type: 5 }>
    expect([muxAddress(t), t.port]).toEqual(['10.0.0.1', 443])
    const s = hex('02 00000001 00000004 70696e67')
    const d = decodeMuxMessage(s) as MuxData
    expect(toHex(d.data)).toBe('70696e67')
    expect(d.data.buffer).toBe(s.buffer)
    expectFraming(() => decodeMuxMessage(hex('02 00000001 00000004 70696e')), 'ERR_TRUNCATED')
    expectFraming(() => decodeMuxMessage(hex('05 00000002 0a000001 01bb 00')), 'ERR_BAD_LENGTH')
    expectFraming(() => decodeMuxMessage(hex('09 00000002')), 'ERR_BAD_VALUE', 0)
    expectFraming(() => decodeMuxMessage(hex('')), 'ERR_TRUNCATED')
    expectFraming(() => muxPath({ type: 1, socketId: 0, path: hex('ff') }), 'ERR_BAD_VALUE')
  })

  it('a batch mixing UNIX_CONNECT with 1-, 3- and 40-byte paths and TCP_CONNECT parses by real sizes (no offset bug)', () => {
    const msgs: MuxMessageInit[] = [
      { type: 1, socketId: 1, path: 'a' },
      { type: 5, socketId: 2, address: '192.168.1.2', port: 443 },
      { type: 2, socketId: 1, data: hex('01020304') },
      { type: 1, socketId: 3, path: '/ab' },
      { type: 1, socketId: 4, path: `/tmp/${'x'.repeat(35)}` },
      { type: 3, socketId: 3 },
      { type: 5, socketId: 5, address: '0.0.0.0', port: 0 },
      { type: 4, socketId: 1 },
    ]
    const batch = encodeMuxBatch(msgs)
    expect(batch.length).toBe(7 + 11 + 13 + 9 + 46 + 9 + 11 + 9)
    const out = decodeMuxBatch(batch)
    expect(out.map((m) => [m.type, m.socketId])).toEqual(msgs.map((m) => [m.type, m.socketId]))
    expect(muxPath(out[4] as Extract<MuxMessage, { type: 1 }>)).toBe(`/tmp/${'x'.repeat(35)}`)
    expect((out[1] as Extract<MuxMessage, { type: 5 }>).port).toBe(443)
    // The port 443 (01 bb) must not be read as a UNIX_CONNECT, as upstream's 9 + data_len advance would do.
    expect(out.length).toBe(8)
  })

  it('paths longer than sun_path allows are refused; bad fields throw ERR_BAD_VALUE', () => {
    expect(MUX_MAX_PATH).toBe(107)
    expect(encodeMuxMessage({ type: 1, socketId: 0, path: 'p'.repeat(107) }).length).toBe(113)
    expectFraming(() => encodeMuxMessage({ type: 1, socketId: 0, path: 'p'.repeat(108) }), 'ERR_BAD_LENGTH')
    expectFraming(() => encodeMuxMessage({ type: 1, socketId: 0, path: 'é'.repeat(54) }), 'ERR_BAD_LENGTH')
    expectFraming(() => encodeMuxMessage({ type: 5, socketId: 0, address: '1.2.3', port: 1 }), 'ERR_BAD_VALUE')
    expectFraming(() => encodeMuxMessage({ type: 5, socketId: 0, address: '1.2.3.256', port: 1 }), 'ERR_BAD_VALUE')
    expectFraming(() => encodeMuxMessage({ type: 5, socketId: 0, address: '1.2.3.4', port: 65536 }), 'ERR_BAD_VALUE')
    expectFraming(() => encodeMuxMessage({ type: 2, socketId: -1 }), 'ERR_BAD_VALUE')
    expectFraming(() => encodeMuxMessage({ type: 9, socketId: 0 } as unknown as MuxMessageInit), 'ERR_BAD_VALUE')
    // decoding accepts what the u8 length can carry (the guest decides what to do with it)
    const long = concat(hex('01 00000000 ff'), new Uint8Array(255).fill(0x61))
    expect((decodeMuxMessage(long) as Extract<MuxMessage, { type: 1 }>).path.length).toBe(255)
  })

  it('batches are bounded by the CMIO buffer (2 MiB) and split greedily', () => {
    const big = new Uint8Array(700 * 1024)
    const msgs: MuxMessageInit[] = [0, 1, 2, 3].map((i) => ({ type: 6, socketId: i, data: big }))
    expectFraming(() => encodeMuxBatch(msgs), 'ERR_FRAME_TOO_LARGE')
    const batches = encodeMuxBatches(msgs)
    expect(batches.map((b) => decodeMuxBatch(b).length)).toEqual([2, 2])
    expect(batches.every((b) => b.length <= CMIO_BUFFER_SIZE)).toBe(true)
    expectFraming(
      () => encodeMuxBatches([{ type: 6, socketId: 0, data: new Uint8Array(CMIO_BUFFER_SIZE) }]),
      'ERR_FRAME_TOO_LARGE',
    )
    const dst = new Uint8Array(64)
    const m: MuxMessageInit[] = [
      { type: 2, socketId: 1, data: new Uint8Array(20) },
      { type: 4, socketId: 1 },
      { type: 4, socketId: 2 },
    ]
    expect(encodeMuxBatchInto(dst, 10, m)).toEqual({ bytes: 47, count: 3 })
    expect(encodeMuxBatchInto(dst, 10, m, 0, 40)).toEqual({ bytes: 38, count: 2 })
    expect(encodeMuxBatchInto(dst, 0, m, 2)).toEqual({ bytes: 9, count: 1 })
    expect(encodeMuxMessageInto(dst, 55, { type: 4, socketId: 7 })).toBe(9)
    expectFraming(() => encodeMuxMessageInto(dst, 56, { type: 4, socketId: 7 }), 'ERR_BUFFER_TOO_SMALL')
  })

  it('a truncated batch is ERR_TRUNCATED at the message start', () => {
    const b = encodeMuxBatch([
      { type: 4, socketId: 1 },
      { type: 1, socketId: 2, path: '/abc' },
    ])
    for (let cut = 1; cut <= 9; cut++)
      expectFraming(() => decodeMuxBatch(b.subarray(0, b.length - cut)), 'ERR_TRUNCATED', 9)
  })

  const initArb: fc.Arbitrary<MuxMessageInit> = fc.oneof(
    fc.record({ type: fc.constant(1 as const), socketId: fc.nat(0xffffffff), path: fc.uint8Array({ maxLength: 107 }) }),
    fc.record({
      type: fc.constant(5 as const),
      socketId: fc.nat(0xffffffff),
      address: fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }),
      port: fc.nat(0xffff),
    }),
    fc.record({
      type: fc.constantFrom(2 as const, 3 as const, 4 as const, 6 as const, 7 as const, 8 as const),
      socketId: fc.nat(0xffffffff),
      data: fc.uint8Array({ maxLength: 300 }),
    }),
  )
  const norm = (m: MuxMessage) => {
    if (m.type === 1) return [m.type, m.socketId, toHex(m.path)]
    if (m.type === 5) return [m.type, m.socketId, toHex(m.address), m.port]
    return [m.type, m.socketId, toHex(m.data)]
  }
  const normInit = (m: MuxMessageInit) => {
    if (m.type === 1)
      return [m.type, m.socketId, toHex(typeof m.path === 'string' ? new TextEncoder().encode(m.path) : m.path)]
    if (m.type === 5) return [m.type, m.socketId, toHex(Uint8Array.from(m.address as number[])), m.port]
    return [m.type, m.socketId, toHex(m.data ?? new Uint8Array(0))]
  }

  it('property: batch round trip, and MuxDecoder under arbitrary chunking', () => {
    fc.assert(
      fc.property(fc.array(initArb, { maxLength: 20 }), cutsArb, fc.boolean(), (msgs, cuts, reuse) => {
        const batch = encodeMuxBatch(msgs)
        expect(decodeMuxBatch(batch).map(norm)).toEqual(msgs.map(normInit))
        const d = new MuxDecoder({ reuse })
        const got: unknown[] = []
        for (const c of splitAt(batch, cuts)) for (const m of d.push(c)) got.push(norm(m))
        d.end()
        expect(got).toEqual(msgs.map(normInit))
      }),
      { numRuns: 150 },
    )
  })

  it('MuxDecoder: byte at a time; oversize data_len rejected before buffering; truncated end', () => {
    const msgs: MuxMessageInit[] = [
      { type: 1, socketId: 1, path: '/x' },
      { type: 7, socketId: 1, data: hex('abcdef') },
    ]
    const d = new MuxDecoder()
    const got: unknown[] = []
    for (const c of bytewise(encodeMuxBatch(msgs))) for (const m of d.push(c)) got.push(norm(m))
    expect(got).toEqual(msgs.map(normInit))
    const small = new MuxDecoder({ maxMessage: 100 })
    expectFraming(() => small.push(hex('02 00000001 0000005c')), 'ERR_FRAME_TOO_LARGE', 0)
    expect(new MuxDecoder().push(hex('02 00000001 0000005b'))).toEqual([])
    const t = new MuxDecoder()
    t.push(hex('04 00000001 00'))
    expectFraming(() => t.end(), 'ERR_TRUNCATED', 0)
  })

  it('garbage: only FramingError, whole or streamed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), cutsArb, (g, cuts) => {
        for (const f of [
          () => decodeMuxBatch(g),
          () => decodeMuxMessage(g),
          () => {
            const d = new MuxDecoder({ maxMessage: 1000 })
            for (const c of splitAt(g, cuts)) d.push(c)
            d.end()
          },
        ]) {
          try {
            f()
          } catch (e) {
            expect(e).toBeInstanceOf(FramingError)
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('CMIO socket mux responses (one per command, explicit status)', () => {
  it('round-trips responses with explicit statuses and rejects a truncated tail', () => {
    const rs: MuxResponse[] = [
      { type: MuxType.UNIX_CONNECT, socketId: 1, status: MuxStatus.OK, data: new Uint8Array(0) },
      { type: MuxType.TCP_CONNECT, socketId: 0xfffffffe, status: 111, data: new Uint8Array(0) },
      { type: MuxType.UNIX_RECEIVE, socketId: 1, status: MuxStatus.OK, data: new TextEncoder().encode('hello') },
      { type: MuxType.TCP_RECEIVE, socketId: 2, status: MuxStatus.END, data: new Uint8Array(0) },
      { type: MUX_BATCH_ERROR, socketId: 0, status: 74, data: new TextEncoder().encode('bad') },
    ]
    const b = encodeMuxResponses(rs)
    expect(b.byteLength).toBe(5 * 10 + 5 + 3)
    expect(Array.from(b.subarray(0, 10))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    expect(decodeMuxResponses(b)).toEqual(rs)
    expect(() => decodeMuxResponses(b.subarray(0, b.byteLength - 1))).toThrow(/ends inside/)
    expect(() => forEachMuxResponse(Uint8Array.of(9, 0, 0, 0, 0, 0, 0, 0, 0, 0), () => {})).toThrow(/unknown/)
  })
})
