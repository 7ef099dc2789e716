// The TAP bridge end to end, side by side with the same two namespaces joined by a plain veth pair:
// iperf3 TCP throughput each way and ping RTT. Guest (`cmio network`) and host (`cmio-host --tap`) are separate
// processes in separate namespaces, joined only by the emulated device's socket. Needs root, iperf3 and ping.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Lab } from './lab.mjs'

const pkg = fileURLToPath(new URL('..', import.meta.url))
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const has = (c) => {
  try {
    execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
if (process.getuid?.() !== 0 || !has('iperf3') || !has('ping')) {
  console.log('cmio: bridge benchmark skipped (needs root, iperf3 and ping)')
  process.exit(0)
}

const lab = new Lab()
const dir = mkdtempSync(join(tmpdir(), 'xcmio-bb-'))
const stop = async () => {
  await lab.teardown()
  rmSync(dir, { recursive: true, force: true })
}
process.once('SIGINT', () => stop().then(() => process.exit(130)))
process.once('exit', () => rmSync(dir, { recursive: true, force: true })) // also when a signal ends it before stop()

async function iperf(client, server, addr, reverse) {
  const s = lab.spawn(server, 'iperf3', ['-s', '-1', '--forceflush', '-B', addr])
  await s.waitFor(/Server listening/)
  const r = await lab.run(client, 'timeout', [
    String(SECONDS + 15),
    'iperf3',
    '-c',
    addr,
    '-t',
    String(SECONDS),
    '-J',
    ...(reverse ? ['-R'] : []),
  ])
  await s.exited
  const j = JSON.parse(r.output)
  return j.end.sum_received.bits_per_second / 1e9
}

async function rtt(from, addr) {
  const r = await lab.run(from, 'ping', ['-c', '50', '-i', '0.02', '-q', '-W', '2', addr])
  const m = /= [\d.]+\/([\d.]+)\//.exec(r.output)
  return m ? Number(m[1]) : Number.NaN
}

/** G (tapcmio0 10.77.0.2) and H (taphost0 10.77.0.1) joined by `cmio network` / `cmio-host --tap`. */
async function bridge(vnet) {
  const G = lab.netns('xbg')
  const H = lab.netns('xbh')
  lab.tap(G, 'tapcmio0', '10.77.0.2/24', vnet)
  lab.tap(H, 'taphost0', '10.77.0.1/24', vnet)
  const sock = join(dir, `cmio${vnet ? '-vnet' : ''}.sock`)
  const extra = vnet ? ['--vnet-hdr'] : []
  const host = lab.spawn(H, process.execPath, [
    join(pkg, 'bin/cmio-host.mjs'),
    '--socket',
    sock,
    '--tap',
    'taphost0',
    ...extra,
  ])
  await host.waitFor(/listening on/)
  const guest = lab.spawn(G, process.execPath, [join(pkg, 'bin/cmio.mjs'), 'network', '--device', sock, ...extra])
  await guest.waitFor(/bridging/)
  return { G, H }
}

try {
  const plain = await bridge(false)
  const vnet = await bridge(true)
  // the reference: A and B joined by a veth pair, same addresses
  const A = lab.netns('xba')
  const B = lab.netns('xbb')
  lab.veth(A, 'veth0', '10.77.0.2/24', B, 'veth1', '10.77.0.1/24')

  const upRef = await iperf(A, B, '10.77.0.1', false)
  const downRef = await iperf(A, B, '10.77.0.1', true)
  const up = await iperf(plain.G, plain.H, '10.77.0.1', false)
  const down = await iperf(plain.G, plain.H, '10.77.0.1', true)
  const upV = await iperf(vnet.G, vnet.H, '10.77.0.1', false)
  const downV = await iperf(vnet.G, vnet.H, '10.77.0.1', true)
  const r = await rtt(plain.G, '10.77.0.1')
  const rRef = await rtt(A, '10.77.0.1')
  const g = (x) => `${x.toFixed(2)} Gbit/s`
  const line = (what, x, ref) =>
    console.log(`cmio: ${what}: ${g(x)} | ref veth: ${g(ref)} | ratio ${(x / ref).toFixed(3)}x | goal ≥ 1 Gbit/s`)
  line(`TAP bridge TCP guest→host (iperf3 ${SECONDS} s)`, up, upRef)
  line(`TAP bridge TCP host→guest (iperf3 -R ${SECONDS} s)`, down, downRef)
  line(`TAP bridge --vnet-hdr TCP guest→host (iperf3 ${SECONDS} s)`, upV, upRef)
  line(`TAP bridge --vnet-hdr TCP host→guest (iperf3 -R ${SECONDS} s)`, downV, downRef)
  console.log(
    `cmio: TAP bridge ping RTT guest→host (50 pings): ${r.toFixed(3)} ms | ref veth: ${rRef.toFixed(3)} ms | ratio ${(r / rRef).toFixed(1)}x | goal ≤ 2 ms (idle hold 1 ms)`,
  )
} finally {
  await stop()
}
