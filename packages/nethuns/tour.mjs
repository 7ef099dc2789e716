// Tour step for @x/nethuns: the same Socket API over a netmap pipe (@x/netmap's shared-memory backend, no root);
// then capture UDP datagrams on loopback with the af_packet backend (TPACKET_V3 ring, a user-space filter), write
// them to a pcap file with @x/framing, read the file back (root: AF_PACKET).
import { createSocket } from 'node:dgram'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPcapFileSync, readCaptureFileSync } from '@x/framing'
import { AfPacketSocket, NetmapSocket } from '@x/nethuns'

{
  const pipe = `tour${process.pid}`
  const tx = NetmapSocket.create(`netmap:${pipe}{1`)
  const rx = NetmapSocket.create(`netmap:${pipe}}1`)
  const M = 1000
  const frame = new Uint8Array(60)
  let got = 0
  let inOrder = true
  for (let i = 0; i < M; ) {
    for (; i < M; i++) {
      new DataView(frame.buffer).setUint32(0, i, true)
      if (!tx.send(frame)) break
    }
    tx.flush()
    for (let r = rx.recv(); r !== null; r = rx.recv()) {
      const p = r[0]
      if (new DataView(p.bytes.buffer, p.bytes.byteOffset, 4).getUint32(0, true) !== got++) inOrder = false
      p.release()
    }
  }
  tx.close()
  rx.close()
  console.log(
    `  netmap backend: ${got} frames of 60 B over the pipe netmap:${pipe}{1 → }1, ${inOrder ? 'in order' : 'OUT OF ORDER'}`,
  )
  if (got !== M || !inOrder) process.exit(1)
}

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
