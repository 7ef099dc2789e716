// Tour step for @x/framing: a pcap file written and read back (zero-copy records), and a length-prefixed
// stream decoded from chunks split at arbitrary bytes.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeFrames, LengthPrefixedDecoder, readCaptureFileSync, writePcapFileSync } from '@x/framing'

const dir = mkdtempSync(join(tmpdir(), 'x-tour-'))
try {
  const file = join(dir, 'tour.pcap')
  const frames = [60, 1514, 9000].map((n, i) => {
    const f = new Uint8Array(n).fill(i + 1)
    f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5]) // dst, src, experimental EtherType 0x88b5
    return f
  })
  const t0 = 1_700_000_000_123_456_789n
  writePcapFileSync(
    file,
    frames.map((data, i) => ({ data, ts: t0 + BigInt(i) * 1000n })),
    { resolution: 'ns', linkType: 1 },
  )
  const back = readCaptureFileSync(file)
  const same = back.records.every(
    (r, i) => Buffer.compare(r.data, frames[i]) === 0 && r.tsNs === t0 + BigInt(i) * 1000n,
  )
  console.log(
    `  wrote ${frames.length} Ethernet frames (60, 1514, 9000 bytes) with ns timestamps to a pcap (${statSync(file).size} bytes)`,
  )
  console.log(`  read back ${back.records.length} records, bytes and timestamps identical: ${same}`)

  const stream = encodeFrames(
    Array.from({ length: 1000 }, (_, i) => new Uint8Array(i % 300)),
    { width: 4, endian: 'big' },
  )
  const dec = new LengthPrefixedDecoder({ width: 4, endian: 'big' })
  let n = 0
  for (let off = 0; off < stream.length; ) {
    const step = 1 + ((off * 7919) % 97)
    n += dec.push(stream.subarray(off, off + step)).length
    off += step
  }
  dec.end()
  console.log(`  decoded ${n} length-prefixed frames from ${stream.length} bytes fed in odd-sized chunks`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
