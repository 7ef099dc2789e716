// Interop with Wireshark's tools: files written here must open in tshark with the same packets, and files tshark,
// editcap and text2pcap write must read back here as tshark itself reads them. Skipped when the tools are missing.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  encodePcapng,
  LinkType,
  type PcapngInterfaceOptions,
  type PcapngPacket,
  PcapngWriter,
  type PcapPacket,
  readCaptureFileSync,
  writePcapFileSync,
  writePcapngFileSync,
} from '@x/framing'
import { afterAll, describe, expect, it } from 'vitest'
import { concat, toHex } from './helpers.js'

function probe(): { ok: boolean; reason: string } {
  for (const tool of ['tshark', 'editcap', 'text2pcap']) {
    const r = spawnSync(tool, ['-v'], { encoding: 'utf8' })
    if (r.error || r.status !== 0) return { ok: false, reason: `needs ${tool} (apt-get install tshark)` }
  }
  const v = spawnSync('tshark', ['-v'], { encoding: 'utf8' })
    .stdout.split('\n')
    .find((l) => l.startsWith('TShark'))
  return { ok: true, reason: v ?? 'tshark' }
}
const tools = probe()

function run(cmd: string, args: string[], env?: Record<string, string>): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, ...env } })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

interface View {
  len: number
  caplen: number
  ns: bigint
  raw: string
}

/** What tshark sees in a file: wire length, captured length, time (ns since the epoch) and the captured bytes. */
function tsharkView(file: string): View[] {
  const json = JSON.parse(run('tshark', ['-r', file, '-T', 'json', '-x', '-j', 'frame'])) as Array<{
    _source: { layers: { frame: Record<string, string>; frame_raw: [string, ...unknown[]] } }
  }>
  return json.map(({ _source: { layers } }) => {
    const [sec, frac = ''] = layers.frame['frame.time_epoch'].split('.')
    return {
      len: Number(layers.frame['frame.len']),
      caplen: Number(layers.frame['frame.cap_len']),
      ns: BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9)),
      raw: layers.frame_raw[0],
    }
  })
}

/** The same, as this package reads the file. */
function ourView(file: string): View[] {
  return readCaptureFileSync(file).records.map((r) => ({
    len: r.origLen,
    caplen: r.caplen,
    ns: r.tsNs,
    raw: toHex(r.data),
  }))
}

const pkt = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed * 7 + (i >> 8)) & 0xff)
const T0 = 1_700_000_000_123_456_789n
const lengths = [42, 60, 64, 1514, 1518, 9000, 9018, 4000, 65535]

describe.skipIf(!tools.ok)(`tshark interop (${tools.reason})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'framing-tshark-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const packets: PcapPacket[] = lengths.map((n, i) => ({ data: pkt(n, i), ts: T0 + BigInt(i) * 1_000_333_001n }))

  for (const [resolution, endian] of [
    ['us', 'little'],
    ['ns', 'big'],
    ['ns', 'little'],
    ['us', 'big'],
  ] as const) {
    it(`our pcap (${resolution}, ${endian}-endian, up to 65,535-byte frames) opens in tshark with the same packets`, () => {
      const f = join(dir, `ours-${resolution}-${endian}.pcap`)
      writePcapFileSync(f, packets, { resolution, endian })
      const unit = resolution === 'us' ? 1000n : 1n
      expect(tsharkView(f)).toEqual(
        packets.map((p) => ({
          len: p.data.length,
          caplen: p.data.length,
          ns: ((p.ts as bigint) / unit) * unit,
          raw: toHex(p.data),
        })),
      )
    })
  }

  it('our pcap with snaplen 1500 and origLen > caplen: tshark sees both lengths', () => {
    const f = join(dir, 'snap.pcap')
    const ps: PcapPacket[] = [
      { data: pkt(9000, 1), ts: T0 },
      { data: pkt(100, 2), ts: T0 + 1n, origLen: 1514 },
    ]
    writePcapFileSync(f, ps, { snaplen: 1500, resolution: 'ns', linkType: LinkType.ETHERNET })
    expect(tsharkView(f)).toEqual([
      { len: 9000, caplen: 1500, ns: T0, raw: toHex(ps[0].data.subarray(0, 1500)) },
      { len: 1514, caplen: 100, ns: T0 + 1n, raw: toHex(ps[1].data) },
    ])
    expect(run('capinfos', ['-l', f])).toMatch(/1500/)
  })

  const ifaces: PcapngInterfaceOptions[] = [
    { linkType: LinkType.ETHERNET, name: 'eth0', tsresol: 'us' },
    { linkType: LinkType.RAW, name: 'raw0', tsresol: 'ns', snaplen: 2000 },
    { linkType: LinkType.USER0, tsresol: 0x80 | 20, snaplen: 0 },
  ]
  const ngPackets: PcapngPacket[] = lengths.map((n, i) => ({
    interfaceId: i % 3,
    data: pkt(n, i),
    ts: T0 + BigInt(i) * 777_777_777n,
    comment: i === 2 ? 'third packet' : undefined,
    flags: i === 3 ? 1 : undefined,
  }))
  const ngExpected = (ps: PcapngPacket[]) =>
    ps.map((p) => {
      const itf = ifaces[p.interfaceId ?? 0]
      const units = itf.tsresol === 'us' ? 1_000_000n : itf.tsresol === 'ns' ? 1_000_000_000n : 1n << 20n
      const ts = p.ts as bigint
      const ticks = (ts / 1_000_000_000n) * units + ((ts % 1_000_000_000n) * units) / 1_000_000_000n
      const snap = itf.snaplen ?? 262144
      const cap = snap > 0 ? Math.min(snap, p.data.length) : p.data.length
      return {
        len: p.data.length,
        caplen: cap,
        ns: (ticks * 1_000_000_000n) / units,
        raw: toHex(p.data.subarray(0, cap)),
      }
    })

  for (const endian of ['little', 'big'] as const) {
    it(`our pcapng (${endian}-endian; µs, ns and 2^-20 s interfaces; comments, flags, snaplen) opens in tshark`, () => {
      const f = join(dir, `ours-${endian}.pcapng`)
      writePcapngFileSync(f, ifaces, ngPackets, { endian, userAppl: '@x/framing test' })
      expect(tsharkView(f)).toEqual(ngExpected(ngPackets))
      const fields = run('tshark', [
        '-r',
        f,
        '-T',
        'fields',
        '-e',
        'frame.interface_id',
        '-e',
        'frame.comment',
        '-E',
        'separator=|',
      ])
      const rows = fields.trim().split('\n')
      expect(rows.map((r) => r.split('|')[0])).toEqual(ngPackets.map((p) => String(p.interfaceId)))
      expect(rows[2].split('|')[1]).toBe('third packet')
      const info = run('capinfos', [f])
      expect(info).toMatch(/Name = eth0/)
      expect(info).toMatch(/Time precision = nanoseconds \(9\)/)
    })
  }

  it('a pcapng with two sections (little- then big-endian) opens in tshark', () => {
    const a: Uint8Array[] = []
    const w = new PcapngWriter((c) => a.push(c))
    w.addInterface({ linkType: 1, tsresol: 'ns' })
    w.writePacket(0, pkt(100, 1), T0)
    w.close()
    const b = encodePcapng([{ linkType: 1 }], [{ data: pkt(200, 2), ts: T0 + 5_000_000n }], { endian: 'big' })
    const f = join(dir, 'two-sections.pcapng')
    writeFileSync(f, concat(...a, b))
    expect(tsharkView(f)).toEqual([
      { len: 100, caplen: 100, ns: T0, raw: toHex(pkt(100, 1)) },
      { len: 200, caplen: 200, ns: ((T0 + 5_000_000n) / 1000n) * 1000n, raw: toHex(pkt(200, 2)) },
    ])
    expect(ourView(f)).toEqual(tsharkView(f))
  })

  it('files tshark and editcap write (pcapng, µs pcap, ns pcap) read back here exactly as tshark reads them', () => {
    const src = join(dir, 'ours-ns-big.pcap')
    writePcapFileSync(src, packets, { resolution: 'ns', endian: 'big' })
    const outs = {
      'tshark -F pcapng': join(dir, 'theirs.pcapng'),
      'editcap -F nsecpcap': join(dir, 'theirs-ns.pcap'),
      'editcap -F pcap': join(dir, 'theirs-us.pcap'),
      'editcap -F pcapng from pcapng': join(dir, 'theirs2.pcapng'),
    }
    run('tshark', ['-r', src, '-F', 'pcapng', '-w', outs['tshark -F pcapng']])
    run('editcap', ['-F', 'nsecpcap', src, outs['editcap -F nsecpcap']])
    run('editcap', ['-F', 'pcap', src, outs['editcap -F pcap']])
    const ng = join(dir, 'ours-multi.pcapng')
    writePcapngFileSync(ng, ifaces, ngPackets)
    run('editcap', ['-F', 'pcapng', ng, outs['editcap -F pcapng from pcapng']])
    for (const [how, f] of Object.entries(outs)) {
      const theirs = tsharkView(f)
      expect(theirs.length, how).toBeGreaterThan(0)
      expect(ourView(f), how).toEqual(theirs)
    }
    // and the content survived the trip
    expect(ourView(outs['tshark -F pcapng'])).toEqual(tsharkView(src))
    expect(readCaptureFileSync(outs['tshark -F pcapng']).sections[0].userAppl).toMatch(/TShark|Wireshark|Editcap/i)
    // editcap re-quantizes 2^-20 s timestamps through ns, so compare lengths and bytes there
    const noTime = (v: View[]) => v.map(({ len, caplen, raw }) => ({ len, caplen, raw }))
    expect(noTime(ourView(outs['editcap -F pcapng from pcapng']))).toEqual(noTime(ngExpected(ngPackets)))
  })

  it('text2pcap output from a hex dump (pcapng and pcap) reads back here as tshark reads it', () => {
    const frames = [pkt(60, 1), pkt(1514, 2), pkt(9000, 3)]
    const dump = frames
      .map((f, k) => {
        const lines = [`2023-11-14 22:13:2${k}.`]
        for (let o = 0; o < f.length; o += 16) {
          const bytes = Array.from(f.subarray(o, o + 16), (b) => b.toString(16).padStart(2, '0')).join(' ')
          lines.push(`${o.toString(16).padStart(6, '0')} ${bytes}`)
        }
        return lines.join('\n')
      })
      .join('\n')
    const txt = join(dir, 'dump.txt')
    writeFileSync(txt, `${dump}\n`)
    for (const fmt of ['pcapng', 'pcap']) {
      const out = join(dir, `text2pcap.${fmt}`)
      run('text2pcap', ['-F', fmt, '-t', '%Y-%m-%d %H:%M:%S.', txt, out], { TZ: 'UTC' })
      const theirs = tsharkView(out)
      expect(theirs.map((v) => v.raw)).toEqual(frames.map(toHex))
      expect(ourView(out)).toEqual(theirs)
      expect(readCaptureFileSync(out).records.map((r) => r.tsSec)).toEqual([
        1_700_000_000, 1_700_000_001, 1_700_000_002,
      ])
    }
  })
})
