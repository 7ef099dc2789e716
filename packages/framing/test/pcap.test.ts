import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import {
  BlockType,
  CaptureReader,
  detectCaptureFormat,
  encodePcap,
  encodePcapHeaderInto,
  encodePcapng,
  encodePcapRecordInto,
  FramingError,
  LinkType,
  openPcapFileSync,
  openPcapngFileSync,
  type PacketRecord,
  PcapngReader,
  PcapngWriter,
  PcapReader,
  PcapWriter,
  readCapture,
  readCaptureFileSync,
  readPcap,
  readPcapng,
  writePcapFileSync,
  writePcapngFileSync,
} from '@x/framing'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { bytewise, concat, cutsArb, expectFraming, hex, splitAt, toHex } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'framing-pcap-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const pkt = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff)
const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

describe('pcap: layout', () => {
  it('header and record bytes, µs little-endian (magic d4 c3 b2 a1)', () => {
    const f = encodePcap([{ data: hex('aabbcc'), ts: 1_700_000_000_123_456_789n }], { snaplen: 65535 })
    expect(toHex(f.subarray(0, 24))).toBe(
      'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + 'ffff0000' + '01000000',
    )
    // ts_sec 1700000000 = 0x6553f100, ts_usec 123456 = 0x0001e240 (ns floored to µs)
    expect(toHex(f.subarray(24))).toBe('00f15365' + '40e20100' + '03000000' + '03000000' + 'aabbcc')
  })

  it('ns big-endian (magic a1 b2 3c 4d)', () => {
    const f = encodePcap([{ data: hex('01'), ts: { sec: 1, frac: 999_999_999 }, origLen: 60 }], {
      resolution: 'ns',
      endian: 'big',
      linkType: LinkType.RAW,
    })
    expect(toHex(f.subarray(0, 24))).toBe(
      'a1b23c4d' + '0002' + '0004' + '00000000' + '00000000' + '00040000' + '00000065',
    )
    expect(toHex(f.subarray(24))).toBe('00000001' + '3b9ac9ff' + '00000001' + '0000003c' + '01')
    const { header, records } = readPcap(f)
    expect(header).toMatchObject({ endian: 'big', resolution: 'ns', linkType: 101, snaplen: 262144, versionMinor: 4 })
    expect(records[0]).toMatchObject({
      tsSec: 1,
      tsFrac: 999_999_999,
      tsUnitsPerSec: 1e9,
      tsNs: 1_999_999_999n,
      caplen: 1,
      origLen: 60,
    })
  })

  it('snaplen cuts data, origLen keeps the real length', () => {
    const { records } = readPcap(encodePcap([{ data: pkt(9000), ts: 0n }], { snaplen: 1500 }))
    expect([records[0].caplen, records[0].origLen]).toEqual([1500, 9000])
    expect(eq(records[0].data, pkt(1500))).toBe(true)
  })

  it('encodePcapHeaderInto / encodePcapRecordInto', () => {
    const dst = new Uint8Array(100)
    expect(encodePcapHeaderInto(dst, 2)).toBe(24)
    expect(encodePcapRecordInto(dst, 26, { data: hex('0102'), ts: { sec: 5, frac: 6 } })).toBe(18)
    const { records } = readPcap(dst.subarray(2, 44))
    expect(records[0]).toMatchObject({ tsSec: 5, tsFrac: 6, caplen: 2 })
    expectFraming(() => encodePcapRecordInto(dst, 90, { data: hex('0102'), ts: 0n }), 'ERR_BUFFER_TOO_SMALL')
  })
})

describe('pcap: reading', () => {
  const packets = [
    { data: pkt(60, 1), ts: 1_600_000_000_000_001_000n },
    { data: pkt(1514, 2), ts: 1_600_000_000_500_000_000n, origLen: 1514 },
    { data: pkt(9000, 3), ts: 1_600_000_001_000_000_999n },
    { data: pkt(0), ts: 1_600_000_002_000_000_000n },
  ]

  for (const resolution of ['us', 'ns'] as const) {
    for (const endian of ['little', 'big'] as const) {
      it(`${resolution} ${endian}: round trip, byte at a time and in arbitrary chunks`, () => {
        const f = encodePcap(packets, { resolution, endian })
        const expected = (r: PacketRecord[]) => r.map((x) => [x.caplen, x.origLen, x.tsNs, toHex(x.data)]).map(String)
        const want = packets.map((p) => {
          const ns = resolution === 'us' ? (p.ts / 1000n) * 1000n : p.ts
          return String([p.data.length, p.data.length, ns, toHex(p.data)])
        })
        expect(expected(readPcap(f).records)).toEqual(want)
        const rd = new PcapReader()
        const got: PacketRecord[] = []
        for (const c of bytewise(f.subarray(0, 2000)))
          for (const r of rd.push(c)) got.push({ ...r, data: Uint8Array.from(r.data) })
        for (const r of rd.push(f.subarray(2000))) got.push(r)
        rd.end()
        expect(expected(got)).toEqual(want)
        expect(rd.header).toMatchObject({ endian, resolution })
      })
    }
  }

  it('property: arbitrary packets and chunking', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            data: fc.uint8Array({ maxLength: 400 }),
            ts: fc.bigInt({ min: 0n, max: 4_294_967_295_999_999_999n }),
          }),
          {
            maxLength: 15,
          },
        ),
        fc.constantFrom('us' as const, 'ns' as const),
        fc.constantFrom('little' as const, 'big' as const),
        cutsArb,
        (ps, resolution, endian, cuts) => {
          const f = encodePcap(ps, { resolution, endian })
          const rd = new PcapReader({ reuse: false })
          const got: PacketRecord[] = []
          for (const c of splitAt(f, cuts)) got.push(...rd.push(c))
          rd.end()
          expect(got.map((r) => toHex(r.data))).toEqual(ps.map((p) => toHex(p.data)))
          const unit = resolution === 'us' ? 1000n : 1n
          expect(got.map((r) => r.tsNs)).toEqual(ps.map((p) => (p.ts / unit) * unit))
          expect(got.map((r) => BigInt(r.tsSec) * 1_000_000_000n + BigInt(r.tsFrac) * unit)).toEqual(
            got.map((r) => r.tsNs),
          )
        },
      ),
      { numRuns: 100 },
    )
  })

  it('errors: bad magic, pcapng given to PcapReader, truncation, caplen over maxCaplen, version', () => {
    expectFraming(() => readPcap(hex('00112233 0000')), 'ERR_BAD_MAGIC', 0)
    const ng = encodePcapng([{}], [])
    expect(expectFraming(() => readPcap(ng), 'ERR_BAD_MAGIC').message).toMatch(/pcapng/)
    const f = encodePcap([{ data: pkt(100), ts: 0n }])
    expectFraming(() => readPcap(f.subarray(0, 23)), 'ERR_TRUNCATED', 0)
    expectFraming(() => readPcap(f.subarray(0, 24 + 15)), 'ERR_TRUNCATED', 24)
    expectFraming(() => readPcap(f.subarray(0, f.length - 1)), 'ERR_TRUNCATED', 24)
    expectFraming(() => readPcap(new Uint8Array(0)), 'ERR_TRUNCATED')
    expectFraming(() => readPcap(f, { maxCaplen: 99 }), 'ERR_FRAME_TOO_LARGE', 24)
    const huge = Uint8Array.from(f)
    huge.set(hex('ffffffff'), 24 + 8)
    expectFraming(() => readPcap(huge), 'ERR_FRAME_TOO_LARGE', 24)
    const v3 = Uint8Array.from(f)
    v3[4] = 3
    expectFraming(() => readPcap(v3), 'ERR_BAD_VALUE')
  })

  it('writer argument checks', () => {
    expectFraming(() => encodePcap([{ data: hex('00'), ts: -1n }]), 'ERR_BAD_VALUE')
    expectFraming(() => encodePcap([{ data: hex('00'), ts: 2n ** 32n * 1_000_000_000n }]), 'ERR_BAD_VALUE')
    expectFraming(() => encodePcap([{ data: hex('00'), ts: { sec: 1, frac: 1_000_000 } }]), 'ERR_BAD_VALUE')
    expectFraming(() => encodePcap([{ data: hex('00'), ts: 0n, origLen: 0 }]), 'ERR_BAD_VALUE')
    expectFraming(() => encodePcap([], { linkType: 0x10000 }), 'ERR_BAD_VALUE')
    expectFraming(() => encodePcap([], { resolution: 'ms' as 'us' }), 'ERR_BAD_VALUE')
  })
})

describe('pcap: PcapWriter', () => {
  it('to a function sink, batched in bufferSize chunks the sink may keep', () => {
    const chunks: Uint8Array[] = []
    const w = new PcapWriter((c) => chunks.push(c), { bufferSize: 1024, resolution: 'ns' })
    for (let i = 0; i < 20; i++) w.writePacket(pkt(100, i), BigInt(i) * 1_000_001n)
    w.writePacket(pkt(5000, 99), 5n)
    w.close()
    expectFraming(() => w.writePacket(pkt(1), 0n), 'ERR_BAD_STATE')
    expect(new Set(chunks.map((c) => c.buffer)).size).toBe(chunks.length)
    const all = concat(...chunks)
    expect(all.length).toBe(w.bytesWritten)
    expect(w.packets).toBe(21)
    const { records } = readPcap(all)
    expect(records.map((r) => r.data.length)).toEqual([...Array(20).fill(100), 5000])
    expect(records[3].tsNs).toBe(3_000_003n)
    expect(
      toHex(
        encodePcap(
          records.map((r) => ({ data: r.data, ts: r.tsNs })),
          { resolution: 'ns' },
        ),
      ),
    ).toBe(toHex(all))
  })

  it('to a Node Writable: passes backpressure on, ends it on close()', async () => {
    const parts: Buffer[] = []
    const pt = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk)
        setImmediate(cb)
      },
    })
    const ended = new Promise((r) => pt.on('finish', r))
    const w = new PcapWriter(pt, { bufferSize: 64 })
    let sawFalse = false
    for (let i = 0; i < 10; i++) if (!w.writePacket(pkt(50, i), 0n)) sawFalse = true
    w.close()
    await ended
    expect(sawFalse).toBe(true)
    expect(readPcap(Buffer.concat(parts)).records).toHaveLength(10)
  })

  it('file helpers: writePcapFileSync, openPcapFileSync, readCaptureFileSync', () => {
    const a = join(dir, 'a.pcap')
    writePcapFileSync(a, [{ data: pkt(10), ts: 1n }], { resolution: 'ns' })
    expect(readCaptureFileSync(a)).toMatchObject({ format: 'pcap', pcapHeader: { resolution: 'ns' } })
    const b = join(dir, 'b.pcap')
    const w = openPcapFileSync(b, { linkType: LinkType.LINUX_SLL2, bufferSize: 128 })
    for (let i = 0; i < 50; i++) w.writePacket(pkt(i), BigInt(i) * 1000n)
    w.close()
    w.close()
    const f = readCaptureFileSync(b)
    expect(f.records.map((r) => r.caplen)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(f.records[0].linkType).toBe(276)
    expect(readFileSync(b).length).toBe(w.bytesWritten)
  })
})

// ---- pcapng ----

function block(type: number, body: Uint8Array, le = true): Uint8Array {
  const padded = (body.length + 3) & ~3
  const total = 12 + padded
  const b = new Uint8Array(total)
  const dv = new DataView(b.buffer)
  dv.setUint32(0, type, le)
  dv.setUint32(4, total, le)
  b.set(body, 8)
  dv.setUint32(total - 4, total, le)
  return b
}
function shb(le = true): Uint8Array {
  const body = new Uint8Array(16)
  const dv = new DataView(body.buffer)
  dv.setUint32(0, 0x1a2b3c4d, le)
  dv.setUint16(4, 1, le)
  dv.setUint16(6, 0, le)
  dv.setBigInt64(8, -1n, le)
  return block(BlockType.SHB, body, le)
}
function idb(linkType: number, snaplen: number, options: Uint8Array = new Uint8Array(0), le = true): Uint8Array {
  const body = new Uint8Array(8 + options.length)
  const dv = new DataView(body.buffer)
  dv.setUint16(0, linkType, le)
  dv.setUint32(4, snaplen, le)
  body.set(options, 8)
  return block(BlockType.IDB, body, le)
}
function opt(code: number, value: Uint8Array, le = true): Uint8Array {
  const b = new Uint8Array(4 + ((value.length + 3) & ~3))
  const dv = new DataView(b.buffer)
  dv.setUint16(0, code, le)
  dv.setUint16(2, value.length, le)
  b.set(value, 4)
  return b
}
const endOpt = new Uint8Array(4)

describe('pcapng: layout', () => {
  it('SHB + IDB + EPB bytes, 32-bit padded, options ended', () => {
    const f = encodePcapng([{ linkType: 1, snaplen: 0 }], [{ data: hex('aabbcc'), ts: { sec: 0, frac: 1 } }])
    expect(toHex(f)).toBe(
      // SHB: type, total 28, BOM, 1.0, section length -1, total
      '0a0d0d0a' +
        '1c000000' +
        '4d3c2b1a' +
        '0100' +
        '0000' +
        'ffffffffffffffff' +
        '1c000000' +
        // IDB: type 1, total 20, linktype 1, reserved, snaplen 0, total
        '01000000' +
        '14000000' +
        '0100' +
        '0000' +
        '00000000' +
        '14000000' +
        // EPB: type 6, total 36, if 0, ts hi 0, ts lo 1, caplen 3, len 3, data + 1 pad byte, total
        '06000000' +
        '24000000' +
        '00000000' +
        '00000000' +
        '01000000' +
        '03000000' +
        '03000000' +
        'aabbcc00' +
        '24000000',
    )
  })

  it('options: if_tsresol 9 for ns, comments, epb_flags; padding to 4 and opt_endofopt', () => {
    const f = encodePcapng(
      [{ linkType: 101, name: 'eth0', tsresol: 'ns' }],
      [{ data: pkt(5), ts: 1_700_000_000_000_000_001n, comment: 'hello', flags: 1 }],
      { userAppl: 'framing-test', hardware: 'hw', os: 'linux', comment: 'sec' },
    )
    const { sections, interfaces, records } = readPcapng(f)
    expect(sections[0]).toMatchObject({
      userAppl: 'framing-test',
      hardware: 'hw',
      os: 'linux',
      comment: 'sec',
      endian: 'little',
    })
    expect(interfaces[0]).toMatchObject({ linkType: 101, name: 'eth0', tsresol: 9, unitsPerSec: 1_000_000_000n })
    expect(records[0]).toMatchObject({
      tsNs: 1_700_000_000_000_000_001n,
      tsSec: 1_700_000_000,
      tsFrac: 1,
      flags: 1,
      caplen: 5,
    })
    expect(new TextDecoder().decode(records[0].options!.find((o) => o.code === 1)!.value)).toBe('hello')
    expect(f.length % 4).toBe(0)
  })
})

describe('pcapng: reading', () => {
  it('round trip: several interfaces (µs, ns, 2^-20), snaplen, big-endian, arbitrary chunking', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            interfaceId: fc.nat(2),
            data: fc.uint8Array({ maxLength: 300 }),
            ts: fc.bigInt({ min: 0n, max: 10n ** 19n }),
          }),
          { maxLength: 12 },
        ),
        fc.constantFrom('little' as const, 'big' as const),
        cutsArb,
        (ps, endian, cuts) => {
          const ifs = [
            { tsresol: 'us' as const },
            { tsresol: 'ns' as const, snaplen: 100 },
            { tsresol: 0x80 | 20, linkType: 147 },
          ]
          const f = encodePcapng(ifs, ps, { endian })
          const rd = new PcapngReader()
          const got: unknown[] = []
          for (const c of splitAt(f, cuts))
            for (const r of rd.push(c)) got.push([r.interfaceId, toHex(r.data), r.origLen, r.tsNs])
          rd.end()
          const units = [1_000_000n, 1_000_000_000n, 1n << 20n]
          expect(got).toEqual(
            ps.map((p) => {
              const u = units[p.interfaceId]
              const ticks = (p.ts / 1_000_000_000n) * u + ((p.ts % 1_000_000_000n) * u) / 1_000_000_000n
              const d = p.interfaceId === 1 ? p.data.subarray(0, 100) : p.data
              return [p.interfaceId, toHex(d), p.data.length, (ticks * 1_000_000_000n) / u]
            }),
          )
          expect(rd.sections[0].endian).toBe(endian)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('several sections with different byte orders; interfaces are per section', () => {
    const a = encodePcapng([{ linkType: 1 }], [{ data: hex('01'), ts: 1000n }], { endian: 'little' })
    const b = encodePcapng(
      [{ linkType: 101, tsresol: 'ns' }, { linkType: 1 }],
      [{ interfaceId: 1, data: hex('0203'), ts: 5n }],
      {
        endian: 'big',
      },
    )
    const { sections, records } = readPcapng(concat(a, b))
    expect(sections.map((s) => s.endian)).toEqual(['little', 'big'])
    expect(records.map((r) => [r.section, r.interfaceId, r.linkType, toHex(r.data)])).toEqual([
      [0, 0, 1, '01'],
      [1, 1, 1, '0203'],
    ])
    // with the writer's startSection()
    const chunks: Uint8Array[] = []
    const w = new PcapngWriter((c) => chunks.push(c))
    w.addInterface({ linkType: 1 })
    w.startSection({ comment: 'two' })
    expectFraming(() => w.writePacket(0, hex('00'), 0n), 'ERR_BAD_VALUE')
    w.addInterface({ linkType: 105 })
    w.writePacket(0, hex('00'), 0n)
    w.close()
    const g = readPcapng(concat(...chunks))
    expect(g.sections).toHaveLength(2)
    expect(g.records[0]).toMatchObject({ section: 1, linkType: 105 })
  })

  it('Simple Packet Blocks, obsolete Packet Blocks, if_tsoffset, unknown blocks skipped (or seen via onBlock)', () => {
    for (const le of [true, false]) {
      const u32 = (v: number) => {
        const b = new Uint8Array(4)
        new DataView(b.buffer).setUint32(0, v, le)
        return b
      }
      const u16 = (v: number) => {
        const b = new Uint8Array(2)
        new DataView(b.buffer).setUint16(0, v, le)
        return b
      }
      const off = new Uint8Array(8)
      new DataView(off.buffer).setBigInt64(0, 100n, le)
      const spb = block(BlockType.SPB, concat(u32(5), hex('0102030405')), le)
      const spbCut = block(BlockType.SPB, concat(u32(9000), pkt(64)), le) // snaplen 64 on interface 0
      const pb = block(BlockType.PB, concat(u16(0), u16(0), u32(0), u32(2_000_000), u32(2), u32(4), hex('aabb')), le)
      const nrb = block(BlockType.NRB, concat(u16(0), u16(0)), le)
      const custom = block(0x40000bad, hex('00112233'), le)
      const f = concat(
        shb(le),
        idb(1, 64, concat(opt(14, off, le), opt(2, new TextEncoder().encode('lo'), le), endOpt), le),
        nrb,
        spb,
        custom,
        spbCut,
        pb,
      )
      const seen: number[] = []
      const rd = new PcapngReader({ onBlock: (t) => seen.push(t) })
      const recs = rd.push(f)
      rd.end()
      expect(recs.map((r) => [toHex(r.data), r.origLen])).toEqual([
        ['0102030405', 5],
        [toHex(pkt(64)), 9000],
        ['aabb', 4],
      ])
      expect(recs[2]).toMatchObject({ tsSec: 102, tsFrac: 0, tsNs: 102_000_000_000n })
      expect(rd.interfaces[0]).toMatchObject({ name: 'lo', tsOffset: 100n, snaplen: 64 })
      expect(seen).toEqual([BlockType.NRB, 0x40000bad])
      expect(rd.skippedBlocks).toBe(2)
    }
  })

  it('errors: no SHB, bad BOM, bad total length, trailer mismatch, unknown interface, option overrun, oversize', () => {
    expectFraming(() => readPcapng(idb(1, 0)), 'ERR_BAD_MAGIC', 0)
    const badBom = Uint8Array.from(shb())
    badBom[8] = 0
    expectFraming(() => readPcapng(badBom), 'ERR_BAD_MAGIC', 8)
    const odd = Uint8Array.from(shb())
    odd[4] = 30
    expectFraming(() => readPcapng(odd), 'ERR_BAD_LENGTH', 4)
    const trail = concat(shb(), idb(1, 0))
    trail[trail.length - 4] = 24
    expectFraming(() => readPcapng(trail), 'ERR_BAD_LENGTH')
    const epb = encodePcapng([{}], [{ data: hex('01'), ts: 0n }])
    const noIf = concat(shb(), epb.subarray(28 + 20))
    expectFraming(() => readPcapng(noIf), 'ERR_BAD_VALUE', 36)
    const overrun = concat(shb(), idb(1, 0, opt(2, new Uint8Array(40)).subarray(0, 12)))
    expectFraming(() => readPcapng(overrun), 'ERR_BAD_LENGTH', 28)
    const big = encodePcapng([{}], [{ data: pkt(2000), ts: 0n }])
    expectFraming(() => readPcapng(big, { maxBlock: 1000 }), 'ERR_FRAME_TOO_LARGE', 48 + 4)
    expectFraming(() => readPcapng(big.subarray(0, big.length - 4)), 'ERR_TRUNCATED', 48)
    expectFraming(() => readPcapng(new Uint8Array(0)), 'ERR_TRUNCATED')
    const caplenOver = Uint8Array.from(epb)
    caplenOver[48 + 20] = 200
    expectFraming(() => readPcapng(caplenOver), 'ERR_BAD_LENGTH', 68)
    expectFraming(() => new PcapngWriter(() => {}).addInterface({ tsresol: 0x80 | 64 }), 'ERR_BAD_VALUE')
  })
})

describe('CaptureReader', () => {
  it('detects the format, even when the magic arrives a byte at a time', () => {
    const pcap = encodePcap([{ data: pkt(30), ts: 7n }])
    const ng = encodePcapng([{}], [{ data: pkt(30), ts: 7000n }])
    expect([detectCaptureFormat(pcap), detectCaptureFormat(ng), detectCaptureFormat(hex('0000'))]).toEqual([
      'pcap',
      'pcapng',
      null,
    ])
    for (const f of [pcap, ng]) {
      for (const chunks of [bytewise(f), [f], splitAt(f, [1, 3, 5])]) {
        const rd = new CaptureReader()
        const got: string[] = []
        for (const c of chunks) rd.push(c, (r) => got.push(toHex(r.data)))
        rd.end()
        expect(got).toEqual([toHex(pkt(30))])
      }
    }
    expect(readCapture(ng).format).toBe('pcapng')
    expectFraming(() => readCapture(hex('01020304')), 'ERR_BAD_MAGIC')
    expectFraming(() => readCapture(hex('0102')), 'ERR_TRUNCATED')
  })

  it('pcapng file helpers', () => {
    const p = join(dir, 'c.pcapng')
    writePcapngFileSync(p, [{ tsresol: 'ns' }], [{ data: pkt(3), ts: 3n }])
    expect(readCaptureFileSync(p).records[0].tsNs).toBe(3n)
    const q = join(dir, 'd.pcapng')
    const w = openPcapngFileSync(q, { userAppl: 'x' })
    w.addInterface({})
    w.writePacket(0, pkt(9000), 1n)
    w.close()
    expect(readCaptureFileSync(q).records[0].caplen).toBe(9000)
  })
})

describe('capture garbage: only FramingError', () => {
  const pcap = encodePcap(
    [
      { data: pkt(40), ts: 1n },
      { data: pkt(3), ts: 2n },
    ],
    { endian: 'big' },
  )
  const ng = encodePcapng(
    [{ tsresol: 'ns' }, {}],
    [
      { data: pkt(40), ts: 1n, comment: 'c' },
      { interfaceId: 1, data: pkt(3), ts: 2n },
    ],
  )
  const mutate = (base: Uint8Array) =>
    fc
      .tuple(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }), fc.nat(), fc.boolean())
      .map(([flips, cut, doCut]) => {
        const b = Uint8Array.from(base)
        for (const [i, v] of flips) b[i % b.length] = v
        return doCut ? b.subarray(0, cut % (b.length + 1)) : b
      })
  const inputs = fc.oneof(fc.uint8Array({ maxLength: 300 }), mutate(pcap), mutate(ng))

  it('mutated and random files through every reader, whole and chunked', () => {
    fc.assert(
      fc.property(inputs, cutsArb, (g, cuts) => {
        const runs: Array<() => unknown> = [
          () => readPcap(g),
          () => readPcapng(g),
          () => readCapture(g),
          () => {
            for (const R of [PcapReader, PcapngReader, CaptureReader]) {
              const rd = new R()
              try {
                for (const c of splitAt(g, cuts)) rd.push(c)
                rd.end()
              } catch (e) {
                if (!(e instanceof FramingError)) throw e
              }
            }
          },
        ]
        for (const f of runs) {
          try {
            f()
          } catch (e) {
            expect(e).toBeInstanceOf(FramingError)
          }
        }
      }),
      { numRuns: 400 },
    )
  })
})
