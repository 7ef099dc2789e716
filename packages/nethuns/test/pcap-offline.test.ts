// pcap offline: files written with @x/framing (pcap µs, pcap ns, pcapng) read to EOF through the pcap backend:
// every byte, count, timestamp and wire length; BPF filter strings; EOF ends iterators and emits 'end'.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writePcapFileSync, writePcapngFileSync } from '@x/framing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { create, havePcap, NethunsError, PacketBatch, PcapSocket } from '../src/index.js'
// @ts-expect-error plain .mjs fixture
import { checkFrame, makeFrame } from './fixtures/frames.mjs'

const check = checkFrame as (b: Uint8Array) => number | null
const frame = makeFrame as (seq: number, size: number) => Uint8Array
const N = 300
const T0 = 1_700_000_000

describe.skipIf(!havePcap)('pcap offline (libpcap)', () => {
  let dir: string
  const files: Record<string, string> = {}
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nethuns-pcap-'))
    const packets = Array.from({ length: N }, (_, i) => ({
      data: frame(i, 60 + (i % 200)),
      ts: BigInt(T0 + i) * 1_000_000_000n + BigInt(i * 1001),
    }))
    files.us = join(dir, 'us.pcap')
    writePcapFileSync(files.us, packets)
    files.ns = join(dir, 'ns.pcap')
    writePcapFileSync(files.ns, packets, { resolution: 'ns' })
    files.ng = join(dir, 'x.pcapng')
    writePcapngFileSync(
      files.ng,
      [{ linkType: 1, tsresol: 9 } as never],
      packets.map((p) => ({ ...p, interfaceId: 0 })),
    )
    // Truncated records: 40 of 200 bytes captured.
    files.cut = join(dir, 'cut.pcap')
    writePcapFileSync(
      files.cut,
      packets.slice(0, 10).map((p) => ({ data: p.data.subarray(0, 40), ts: p.ts, origLen: p.data.length })),
    )
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it.each([
    ['us', 'pcap, microseconds', 1000],
    ['ns', 'pcap, nanoseconds', 1],
    ['ng', 'pcapng, nanoseconds', 1],
  ])('reads %s (%s) to EOF, every byte and timestamp', async (key, _what, unit) => {
    const s = PcapSocket.create(files[key])
    expect(s.offline).toBe(true)
    expect(s.linkType).toBe(1)
    let i = 0
    for await (const [p, meta] of s) {
      expect(check(p.bytes)).toBe(i)
      expect(meta.caplen).toBe(60 + (i % 200))
      expect(meta.len).toBe(meta.caplen)
      expect(meta.timestamp.sec).toBe(T0 + i)
      expect(meta.nsec).toBe(Math.floor((i * 1001) / unit) * unit)
      expect(meta.timestamp.usec).toBe(Math.floor((i * 1001) / 1000))
      p.release()
      i++
    }
    expect(i).toBe(N)
    expect(s.eof).toBe(true)
    expect(s.recv()).toBeNull()
    expect(s.stats().received).toBe(N)
    s.close()
    expect(s.context().pool.available).toBe(s.context().pool.count) // the stash went back at close
  })

  it('reads in batches and applies a BPF filter string', () => {
    const s = create('pcap', `file:${files.ns}`, null, { filter: 'ether[21] & 1 = 1' })
    const b = new PacketBatch(32)
    let n = 0
    for (;;) {
      const k = s.recvBatch(b)
      if (k === 0) break
      for (let j = 0; j < b.count; j++) expect(check(b.bytes(j))! % 2).toBe(1)
      n += k
      b.release()
    }
    expect(n).toBe(N / 2)
    expect(s.eof).toBe(true)
    s.close()
  })

  it("marks truncated records and emits 'end'", async () => {
    const s = PcapSocket.create(files.cut)
    const seen: number[] = []
    await new Promise<void>((resolve) => {
      s.on('readable', () => {
        for (let r = s.recv(); r !== null; r = s.recv()) {
          const [p, m] = r
          expect(m.truncated).toBe(true)
          expect(m.caplen).toBe(40)
          seen.push(m.len)
          p.release()
        }
      })
      s.on('end', resolve)
    })
    expect(seen).toHaveLength(10)
    expect(seen[3]).toBe(63)
    s.close()
  })

  it('refuses to transmit, and a missing file is ENOENT', () => {
    const s = PcapSocket.create(files.us)
    expect(() => s.send(new Uint8Array(60))).toThrow(/cannot transmit/)
    s.close()
    expect(() => PcapSocket.create(join(dir, 'nope.pcap'))).toThrow(NethunsError)
    try {
      PcapSocket.create(join(dir, 'nope.pcap'))
    } catch (e) {
      expect((e as NethunsError).code).toBe('ENOENT')
    }
    expect(() => create('af_packet', files.us)).toThrow(/capture file: open it with the pcap backend/)
    expect(() => PcapSocket.create(files.us, 0)).toThrow(/any queue/)
    expect(() => PcapSocket.create(files.us, null, { filter: 'bogus (' })).toThrow(/bad filter/)
  })
})
