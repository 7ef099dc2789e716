// host_transmit: a frame written to the host TX ring of a TAP device enters the OS stack as if received on it.
// `netmap:tap0^` binds the host ring pair (NR_REG_SW); without the netmap module the host TX ring is drained with
// one write(2) per frame into the tap fd, and the kernel receives the frame on tap0.
//
// Run as root: `node examples/host_transmit.mjs`. It makes a network namespace holding a persistent TAP `tap0`
// (10.78.0.1/24, up), runs itself inside it, binds a UDP socket on 10.78.0.1, injects an Ethernet/IPv4/UDP frame
// from 10.78.0.2 (checksums computed here) through the host TX ring, waits for the socket to get it, and removes
// the namespace.
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { NetmapBuilder } from '@x/netmap'
import { assertInNetns, runInNetns } from './_netns.mjs'

const self = fileURLToPath(import.meta.url)

if (process.argv[2] !== '--in-netns') {
  const code = await runInNetns({
    name: 'host_transmit',
    tag: 'htx',
    self,
    setup: (ip) => {
      ip('tuntap', 'add', 'dev', 'tap0', 'mode', 'tap')
      ip('addr', 'add', '10.78.0.1/24', 'dev', 'tap0')
      ip('link', 'set', 'tap0', 'up')
    },
  })
  process.exit(code)
}

// inside the namespace (checked, not taken on trust)
assertInNetns('host_transmit', 'htx')

/** One's-complement sum of big-endian 16-bit words, folded. */
function sum16(b, acc = 0) {
  for (let i = 0; i + 1 < b.length; i += 2) acc += (b[i] << 8) | b[i + 1]
  if (b.length & 1) acc += b[b.length - 1] << 8
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16)
  return acc
}

/** Ethernet + IPv4 (header checksum) + UDP (pseudo-header checksum). */
function udpFrame(dstMac, srcMac, srcIp, dstIp, srcPort, dstPort, payload) {
  const udpLen = 8 + payload.length
  const f = new Uint8Array(14 + 20 + udpLen)
  const dv = new DataView(f.buffer)
  f.set(dstMac, 0)
  f.set(srcMac, 6)
  dv.setUint16(12, 0x0800)
  f[14] = 0x45 // IPv4, 5-word header
  dv.setUint16(16, 20 + udpLen)
  dv.setUint16(18, 1) // id
  dv.setUint16(20, 0x4000) // DF
  f[22] = 64 // TTL
  f[23] = 17 // UDP
  f.set(srcIp, 26)
  f.set(dstIp, 30)
  dv.setUint16(24, ~sum16(f.subarray(14, 34)) & 0xffff)
  dv.setUint16(34, srcPort)
  dv.setUint16(36, dstPort)
  dv.setUint16(38, udpLen)
  f.set(payload, 42)
  const pseudo = new Uint8Array(12)
  pseudo.set(srcIp, 0)
  pseudo.set(dstIp, 4)
  pseudo[9] = 17
  new DataView(pseudo.buffer).setUint16(10, udpLen)
  const c = ~sum16(f.subarray(34), sum16(pseudo)) & 0xffff
  dv.setUint16(40, c === 0 ? 0xffff : c)
  return f
}

// inside the namespace
const nm = new NetmapBuilder('netmap:tap0^').build()
const sock = createSocket('udp4')
try {
  await new Promise((resolve, reject) => {
    sock.once('error', reject)
    sock.bind(0, '10.78.0.1', resolve)
  })
  const port = sock.address().port
  const tapMac = Uint8Array.from(
    readFileSync('/sys/class/net/tap0/address', 'utf8')
      .trim()
      .split(':')
      .map((h) => Number.parseInt(h, 16)),
  )
  const text = 'hello through the host TX ring'
  const frame = udpFrame(
    tapMac,
    Uint8Array.of(0x02, 0, 0, 0, 0, 0x02),
    Uint8Array.of(10, 78, 0, 2),
    Uint8Array.of(10, 78, 0, 1),
    4321,
    port,
    new TextEncoder().encode(text),
  )
  const received = new Promise((resolve) => sock.once('message', (m, from) => resolve({ m: m.toString(), from })))
  const tx = nm.txRing(0) // host TX ring 0 = NETMAP_TXRING(nifp, ni_tx_rings + 0)
  let got = null
  for (let i = 0; i < 40 && !got; i++) {
    tx.send(frame)
    tx.sync() // write(2) into the tap fd: the kernel receives the frame on tap0
    got = await Promise.race([received, new Promise((r) => setTimeout(() => r(null), 250))])
  }
  if (got && got.m === text) {
    console.log(`UDP socket 10.78.0.1:${port} got '${got.m}' from ${got.from.address}:${got.from.port}`)
    console.log('host_transmit ok')
  } else {
    console.log('host_transmit FAILED')
    process.exitCode = 1
  }
} finally {
  sock.close()
  nm.close()
}
