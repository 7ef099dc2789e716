import {
  decodeFrames,
  decodeLengthPrefixedStream,
  encodeFrame,
  encodeFrameInto,
  encodeFrames,
  encodeFramesInto,
  FramingError,
  frameSize,
  LengthPrefixedDecoder,
  type LengthPrefixOptions,
  writeFrameHeader,
} from '@x/framing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bytewise, copies, cutsArb, expectFraming, hex, splitAt, toHex } from './helpers.js'

const shapes: LengthPrefixOptions[] = [
  { width: 2, endian: 'big' },
  { width: 2, endian: 'little' },
  { width: 4, endian: 'big' },
  { width: 4, endian: 'little' },
  { width: 2, endian: 'big', includesHeader: true },
  { width: 4, endian: 'little', includesHeader: true },
]
const name = (s: LengthPrefixOptions) => `u${(s.width ?? 4) * 8} ${s.endian}${s.includesHeader ? ' incl. header' : ''}`

describe('length-prefixed: wire layout', () => {
  const p = hex('aa bb cc')
  it.each([
    [{ width: 2, endian: 'big' }, '0003aabbcc'],
    [{ width: 2, endian: 'little' }, '0300aabbcc'],
    [{ width: 4, endian: 'big' }, '00000003aabbcc'],
    [{ width: 4, endian: 'little' }, '03000000aabbcc'],
    [{ width: 2, endian: 'big', includesHeader: true }, '0005aabbcc'],
    [{ width: 4, endian: 'big', includesHeader: true }, '00000007aabbcc'],
    [undefined, '00000003aabbcc'],
  ] as const)('%j → %s', (opts, wire) => {
    expect(toHex(encodeFrame(p, opts))).toBe(wire)
    const dst = new Uint8Array(20).fill(0xee)
    expect(encodeFrameInto(dst, 5, p, opts)).toBe(wire.length / 2)
    expect(toHex(dst.subarray(5, 5 + wire.length / 2))).toBe(wire)
    expect(dst[4]).toBe(0xee)
    expect(dst[5 + wire.length / 2]).toBe(0xee)
    expect(decodeFrames(hex(wire), opts).map(toHex)).toEqual(['aabbcc'])
  })

  it('writeFrameHeader + frameSize let the payload be written in place', () => {
    const dst = new Uint8Array(frameSize(3, { width: 2 }))
    const h = writeFrameHeader(dst, 0, 3, { width: 2 })
    dst.set(p, h)
    expect(toHex(dst)).toBe('0003aabbcc')
  })

  it('encodeFramesInto / encodeFrames concatenate', () => {
    const frames = [hex('01'), hex(''), hex('0203')]
    const all = encodeFrames(frames, { width: 2, endian: 'little' })
    expect(toHex(all)).toBe('010001' + '0000' + '02000203')
    const dst = new Uint8Array(all.length + 2)
    expect(encodeFramesInto(dst, 2, frames, { width: 2, endian: 'little' })).toBe(all.length)
    expect(toHex(dst.subarray(2))).toBe(toHex(all))
  })
})

describe('length-prefixed: limits', () => {
  it('a 65,535-byte u16 frame round-trips; 65,536 does not fit', () => {
    const big = new Uint8Array(0xffff).map((_, i) => i & 0xff)
    const enc = encodeFrame(big, { width: 2 })
    expect(enc.length).toBe(0xffff + 2)
    expect(toHex(enc.subarray(0, 2))).toBe('ffff')
    const [out] = decodeFrames(enc, { width: 2 })
    expect(Buffer.from(out).equals(big)).toBe(true)
    expectFraming(() => encodeFrame(new Uint8Array(0x10000), { width: 2 }), 'ERR_FRAME_TOO_LARGE')
    expectFraming(() => encodeFrame(new Uint8Array(0xfffe), { width: 2, includesHeader: true }), 'ERR_FRAME_TOO_LARGE')
  })

  it('a length over maxFrame throws before anything is buffered, with the stream offset', () => {
    const d = new LengthPrefixedDecoder({ width: 4, endian: 'big', maxFrame: 1000 })
    expect(d.push(encodeFrame(new Uint8Array(10)))).toHaveLength(1)
    expect(d.push(hex('00 00'))).toEqual([])
    const e = expectFraming(() => d.push(hex('03 e9')), 'ERR_FRAME_TOO_LARGE', 14)
    expect(e.message).toMatch(/1001/)
    expect(d.pending).toBeLessThanOrEqual(4)
    // sticky: the stream is out of sync
    expectFraming(() => d.push(hex('00')), 'ERR_FRAME_TOO_LARGE')
    d.reset()
    expect(d.push(encodeFrame(hex('01')))).toHaveLength(1)
  })

  it('oversize u32 length fields (up to 0xffffffff) are rejected by the default 16 MiB maxFrame', () => {
    for (const len of ['01000001', 'ffffffff', '80000000']) {
      expectFraming(() => new LengthPrefixedDecoder().push(hex(len)), 'ERR_FRAME_TOO_LARGE', 0)
    }
    expect(new LengthPrefixedDecoder().maxFrame).toBe(16 * 1024 * 1024)
    expect(new LengthPrefixedDecoder({ width: 2 }).maxFrame).toBe(0xffff)
  })

  it('includesHeader: a length below the header size is ERR_BAD_LENGTH', () => {
    expectFraming(() => decodeFrames(hex('0001'), { width: 2, includesHeader: true }), 'ERR_BAD_LENGTH', 0)
    expect(decodeFrames(hex('0002'), { width: 2, includesHeader: true }).map(toHex)).toEqual([''])
  })

  it('end() with a partial frame pending is ERR_TRUNCATED at the frame start', () => {
    const d = new LengthPrefixedDecoder({ width: 2 })
    d.push(hex('0001 aa 0005 bb'))
    expectFraming(() => d.end(), 'ERR_TRUNCATED', 3)
    const d2 = new LengthPrefixedDecoder({ width: 4 })
    d2.push(hex('00 00'))
    expectFraming(() => d2.end(), 'ERR_TRUNCATED', 0)
    expectFraming(() => decodeFrames(hex('0003 aabb'), { width: 2 }), 'ERR_TRUNCATED', 0)
  })

  it('push after end() is ERR_BAD_STATE; bad options are ERR_BAD_VALUE', () => {
    const d = new LengthPrefixedDecoder()
    d.end()
    expectFraming(() => d.push(hex('00')), 'ERR_BAD_STATE')
    expectFraming(() => new LengthPrefixedDecoder({ width: 3 as 2 }), 'ERR_BAD_VALUE')
    expectFraming(() => new LengthPrefixedDecoder({ width: 2, maxFrame: 0x10000 }), 'ERR_BAD_VALUE')
    expectFraming(() => d.push('abc' as unknown as Uint8Array), 'ERR_BAD_STATE')
    expectFraming(() => new LengthPrefixedDecoder().push('abc' as unknown as Uint8Array), 'ERR_BAD_VALUE')
    expectFraming(() => encodeFrameInto(new Uint8Array(4), 2, hex('00'), { width: 2 }), 'ERR_BUFFER_TOO_SMALL')
    expectFraming(() => encodeFrameInto(new Uint8Array(4), 5, hex('00'), { width: 2 }), 'ERR_BAD_VALUE')
  })
})

describe('length-prefixed: zero copy', () => {
  it('frames inside one chunk are views into it (same memory), even for a Buffer', () => {
    const chunk = Buffer.from(encodeFrames([hex('0102'), hex('030405')], { width: 2 }))
    const frames = new LengthPrefixedDecoder({ width: 2 }).push(chunk)
    expect(frames[0].buffer).toBe(chunk.buffer)
    expect(frames[0].byteOffset).toBe(chunk.byteOffset + 2)
    expect(frames[1].byteOffset).toBe(chunk.byteOffset + 6)
    expect(frames[0].constructor).toBe(Uint8Array)
    chunk[2] = 0x99
    expect(frames[0][0]).toBe(0x99)
  })

  it('a straddling frame is intact when push() returns, even if the chunk also ends inside the next one', () => {
    const a = new Uint8Array(100).fill(1)
    const b = new Uint8Array(100).fill(2)
    const c = new Uint8Array(100).fill(3)
    const s = encodeFrames([a, b, c], { width: 2 })
    const d = new LengthPrefixedDecoder({ width: 2 })
    expect(d.push(s.subarray(0, 50))).toEqual([])
    // completes a (from the accumulation buffer), then b straddles into the other buffer
    const r1 = d.push(s.subarray(50, 150))
    expect(r1).toHaveLength(1)
    expect(r1[0]).toEqual(a)
    const r2 = d.push(s.subarray(150, 250))
    expect(r2).toHaveLength(1)
    expect(r2[0]).toEqual(b)
    const r3 = d.push(s.subarray(250))
    expect(r3[0]).toEqual(c)
    d.end()
  })

  it('reuse: false gives straddling frames their own memory, valid forever', () => {
    const frames = Array.from({ length: 20 }, (_, i) => new Uint8Array(37).fill(i))
    const s = encodeFrames(frames, { width: 4 })
    const d = new LengthPrefixedDecoder({ reuse: false })
    const got: Uint8Array[] = []
    for (const c of splitAt(s, [10, 50, 51, 52, 300, 301, 599])) got.push(...d.push(c))
    d.end()
    expect(got).toEqual(frames)
  })

  it('pushSpans hands out (buf, start, end) of each payload', () => {
    const s = encodeFrames([hex('01'), hex('0203'), hex('')], { width: 2 })
    const d = new LengthPrefixedDecoder({ width: 2 })
    const got: string[] = []
    for (const c of bytewise(s)) d.pushSpans(c, (buf, start, end) => got.push(toHex(buf.subarray(start, end))))
    expect(got).toEqual(['01', '0203', ''])
  })

  it('push(chunk, onFrame) returns the count', () => {
    const d = new LengthPrefixedDecoder({ width: 2 })
    const seen: Uint8Array[] = []
    expect(d.push(encodeFrames([hex('01'), hex('02')], { width: 2 }), (f) => seen.push(f))).toBe(2)
    expect(seen.map(toHex)).toEqual(['01', '02'])
  })
})

describe('length-prefixed: properties', () => {
  const payloads = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 })

  for (const shape of shapes) {
    it(`${name(shape)}: round trip under arbitrary chunking`, () => {
      fc.assert(
        fc.property(payloads, cutsArb, fc.boolean(), (ps, cuts, reuse) => {
          const s = encodeFrames(ps, shape)
          expect(decodeFrames(s, shape)).toEqual(ps)
          const d = new LengthPrefixedDecoder({ ...shape, reuse })
          const got: Uint8Array[] = []
          for (const c of splitAt(s, cuts)) got.push(...copies(d.push(c)))
          d.end()
          expect(got).toEqual(ps)
        }),
        { numRuns: 150 },
      )
    })
  }

  it('byte-at-a-time gives the same frames as one chunk', () => {
    fc.assert(
      fc.property(payloads, (ps) => {
        const s = encodeFrames(ps, { width: 2, endian: 'little' })
        const d = new LengthPrefixedDecoder({ width: 2, endian: 'little' })
        const got: Uint8Array[] = []
        for (const c of bytewise(s)) got.push(...copies(d.push(c)))
        d.end()
        expect(got).toEqual(ps)
      }),
      { numRuns: 50 },
    )
  })

  it('garbage in arbitrary chunks throws nothing but FramingError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        cutsArb,
        fc.constantFrom(...shapes),
        fc.nat(70000),
        (g, cuts, shape, max) => {
          const m = Math.min(max, shape.width === 2 ? 0xffff - (shape.includesHeader ? 2 : 0) : max)
          const d = new LengthPrefixedDecoder({ ...shape, maxFrame: m })
          try {
            for (const c of splitAt(g, cuts)) d.push(c)
            d.end()
          } catch (e) {
            expect(e).toBeInstanceOf(FramingError)
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('decodeStream', () => {
  it('decodes an async iterable of chunks and throws ERR_TRUNCATED on a cut tail', async () => {
    const frames = [hex('0102'), hex('03'), new Uint8Array(1000).fill(9)]
    const s = encodeFrames(frames)
    async function* src(cut: number) {
      for (const c of splitAt(s.subarray(0, s.length - cut), [3, 7, 500])) {
        await Promise.resolve()
        yield c
      }
    }
    const got: Uint8Array[] = []
    for await (const f of decodeLengthPrefixedStream(src(0))) got.push(Uint8Array.from(f))
    expect(got).toEqual(frames)
    const it2 = decodeLengthPrefixedStream(src(1))
    await expect(
      (async () => {
        for await (const _ of it2) {
        }
      })(),
    ).rejects.toMatchObject({ code: 'ERR_TRUNCATED', offset: 11 })
  })

  it('reads frames off a real TCP socket', async () => {
    const net = await import('node:net')
    const frames = Array.from({ length: 200 }, (_, i) => new Uint8Array((i * 97) % 3000).fill(i & 0xff))
    const wire = encodeFrames(frames, { width: 2, endian: 'big' })
    const server = net.createServer((sock) => {
      // write in odd-sized pieces so frames straddle socket reads
      let p = 0
      const step = () => {
        while (p < wire.length) {
          const n = Math.min(777, wire.length - p)
          const ok = sock.write(wire.subarray(p, p + n))
          p += n
          if (!ok) return void sock.once('drain', step)
        }
        sock.end()
      }
      step()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as { port: number }
    const sock = net.connect(port, '127.0.0.1')
    try {
      const got: Uint8Array[] = []
      for await (const f of decodeLengthPrefixedStream(sock, { width: 2, endian: 'big' })) got.push(Uint8Array.from(f))
      expect(got).toEqual(frames)
    } finally {
      sock.destroy()
      await new Promise((r) => server.close(r))
    }
  })
})
