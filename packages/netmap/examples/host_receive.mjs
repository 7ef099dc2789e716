// host_receive: the host RX ring of a TAP device sees what the OS stack transmits. `netmap:tap0^` binds the host ring
// pair (NR_REG_SW); without the netmap module the tap fd is the stack side of the interface, so the host RX ring is
// fed by read(2) on it. (With the module, host RX sees stack output only for NIC TX queues in netmap mode; a TAP
// fd sees all of it.)
//
// Run as root: `node examples/host_receive.mjs`. It makes a network namespace holding a persistent TAP `tap0`
// (10.78.0.1/24, up, a permanent neighbour 10.78.0.2), runs itself inside it, sends a UDP datagram to 10.78.0.2
// through the stack, prints the frame the host RX ring got, and removes the namespace.
import { createSocket } from 'node:dgram'
import { fileURLToPath } from 'node:url'
import { NetmapBuilder } from '@x/netmap'
import { assertInNetns, runInNetns } from './_netns.mjs'

const self = fileURLToPath(import.meta.url)

if (process.argv[2] !== '--in-netns') {
  const code = await runInNetns({
    name: 'host_receive',
    tag: 'hrx',
    self,
    setup: (ip) => {
      ip('tuntap', 'add', 'dev', 'tap0', 'mode', 'tap')
      ip('addr', 'add', '10.78.0.1/24', 'dev', 'tap0')
      ip('link', 'set', 'tap0', 'up')
      ip('neigh', 'add', '10.78.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', 'tap0', 'nud', 'permanent')
    },
  })
  process.exit(code)
}

// inside the namespace (checked, not taken on trust)
assertInNetns('host_receive', 'hrx')

const nm = new NetmapBuilder('netmap:tap0^').build()
const sock = createSocket('udp4')
const text = 'hello from the stack'
try {
  const rx = nm.rxRing(0) // host RX ring 0 = NETMAP_RXRING(nifp, ni_rx_rings + 0)
  let got = null
  for (let i = 0; i < 40 && !got; i++) {
    await new Promise((r) => sock.send(text, 9, '10.78.0.2', r)) // the stack transmits out of tap0
    const signal = AbortSignal.timeout(250)
    try {
      for (;;) {
        const p = (await rx.next(signal)).payload()
        // Ethernet / IPv4 / UDP to 10.78.0.2:9 carrying our text?
        if (p.length < 42 || p[12] !== 0x08 || p[13] !== 0x00 || p[23] !== 17) continue
        const u = 14 + (p[14] & 15) * 4
        const dport = (p[u + 2] << 8) | p[u + 3]
        const payload = new TextDecoder().decode(p.subarray(u + 8))
        if (p.subarray(30, 34).join('.') === '10.78.0.2' && dport === 9 && payload === text) {
          got = { len: p.length, src: p.subarray(26, 30).join('.'), sport: (p[u] << 8) | p[u + 1], payload }
          break
        }
      }
    } catch {
      // not within 250 ms: send again
    }
  }
  if (got) {
    console.log(`host RX ring: ${got.len}-byte frame, UDP ${got.src}:${got.sport} -> 10.78.0.2:9 '${got.payload}'`)
    console.log('host_receive ok')
  } else {
    console.log('host_receive FAILED')
    process.exitCode = 1
  }
} finally {
  sock.close()
  nm.close()
}
