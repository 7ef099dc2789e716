// Tour step for @x/nethuns: capture UDP datagrams on loopback with the af_packet backend (TPACKET_V3 ring, a
// user-space filter), write them to a pcap file with @x/framing, read the file back. Needs root (AF_PACKET).
import { createSocket } from 'node:dgram'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPcapFileSync, readCaptureFileSync } from '@x/framing'
import { AfPacketSocket } from '@x/nethuns'

if (process.getuid?.() !== 0) {
  console.log('  skipped: capturing on lo needs root (CAP_NET_RAW)')
  process.exit(0)
}

const N = 5
const udp = createSocket('udp4')
await new Promise((resolve) => udp.bind(0, '127.0.0.1', resolve))
udp.on('message', () => {})
const port = udp.address().port
// Only our datagrams: IPv4 (0x0800), UDP (17), destination port `port`.
const ours = (b) =>
  b.length > 37 && b[12] === 8 && b[13] === 0 && b[23] === 17 && ((b[36] << 8) | b[37]) === port ? 1 : 0
const sock = AfPacketSocket.create('lo', null, {
  blockSize: 1 << 16,
  numBlocks: 4,
  timeoutMs: 1,
  txFrames: 0,
  bufferCount: 256,
  filterFn: ours,
})
const dir = mkdtempSync(join(tmpdir(), 'nethuns-tour-'))
const file = join(dir, 'lo.pcap')
const writer = openPcapFileSync(file, { resolution: 'ns' })
const timer = setTimeout(() => sock.close(), 2500)
for (let i = 0; i < N; i++) udp.send(`nethuns tour #${i}`, port, '127.0.0.1')
let n = 0
for await (const [payload, meta] of sock) {
  writer.writePacket(payload.bytes, { sec: meta.sec, frac: meta.nsec }, meta.len)
  payload.release()
  if (++n === N) break
}
clearTimeout(timer)
const stats = sock.stats()
sock.close()
writer.close()
udp.close()
const cap = readCaptureFileSync(file)
const texts = cap.records.map((r) => Buffer.from(r.data.subarray(42)).toString())
console.log(`  captured ${n} datagrams on lo (af_packet, TPACKET_V3; ${stats.filtered} other frames filtered out)`)
console.log(`  wrote ${file} (${statSync(file).size} bytes), read back ${cap.records.length} ${cap.format} records:`)
console.log(`  "${texts[0]}" … "${texts[texts.length - 1]}", ${cap.records[0]?.caplen} bytes each on the wire`)
rmSync(dir, { recursive: true, force: true })
if (cap.records.length !== N) process.exit(1)
