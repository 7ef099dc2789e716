// End to end in two network namespaces, guest (G) and host (H) joined only by the emulated device's socket: the
// `cmio` guest program in G and `cmio-host` in H, as separate processes. Needs root; skipped otherwise.
// Runs the built package (dist/, bin/): `npx tsc -p tsconfig.build.json` first.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { has, Lab, probeNetns } from './netns.js'

const pkg = fileURLToPath(new URL('..', import.meta.url))
const node = process.execPath
const guestCli = join(pkg, 'bin', 'cmio.mjs')
const hostCli = join(pkg, 'bin', 'cmio-host.mjs')
const fixture = (f: string): string => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url))
const probe = probeNetns()
const built = existsSync(join(pkg, 'dist', 'cli', 'cmio.js'))
const ready = probe.ok && built && has('ping')
const why = !probe.ok
  ? probe.reason
  : !built
    ? 'needs the build (dist/)'
    : !has('ping')
      ? 'needs ping (iputils-ping)'
      : probe.reason

let lab: Lab
let dir = ''
beforeEach(() => {
  lab = new Lab()
  dir = mkdtempSync(join(tmpdir(), 'xcmio-x-'))
})
afterEach(async () => {
  await lab.teardown()
  rmSync(dir, { recursive: true, force: true })
})

/** G and H with tapcmio0 10.77.0.2 / taphost0 10.77.0.1, cmio-host on taphost0 in H, `cmio network` in G. */
async function tapBridge(extraHost: string[] = [], extraGuest: string[] = [], vnet = false) {
  const G = lab.netns('xg')
  const H = lab.netns('xh')
  lab.tap(G, 'tapcmio0', '10.77.0.2/24', { vnetHdr: vnet })
  lab.tap(H, 'taphost0', '10.77.0.1/24', { vnetHdr: vnet })
  const sock = join(dir, 'cmio.sock')
  const host = lab.spawn(H, node, [hostCli, '--socket', sock, '--tap', 'taphost0', ...extraHost])
  await host.waitFor(/listening on/)
  const guest = lab.spawn(G, node, [guestCli, 'network', '--tap', 'tapcmio0', ...extraGuest], { CMIO_DEVICE: sock })
  await guest.waitFor(/bridging tapcmio0/)
  await host.waitFor(/guest attached/)
  return { G, H, sock, host, guest }
}

describe.skipIf(!ready)(`TAP bridge across two namespaces (${why})`, () => {
  it('pings the host TAP from the guest, full-MTU frames included, and echoes TCP across the bridge', async () => {
    const { G, H } = await tapBridge()
    const ping = await lab.run(G, 'ping', ['-c', '3', '-i', '0.2', '-W', '5', '10.77.0.1'])
    expect(ping.output).toMatch(/3 received/)
    expect(ping.code).toBe(0)
    // 1472 bytes of ICMP payload + 28 = a 1500-byte IP packet, DF set: a 1514-byte Ethernet frame each way
    const big = await lab.run(G, 'ping', ['-c', '2', '-i', '0.2', '-W', '5', '-s', '1472', '-M', 'do', '10.77.0.1'])
    expect(big.output).toMatch(/2 received/)
    const server = lab.spawn(H, node, [fixture('echo-server.mjs'), '10.77.0.1:7777'])
    await server.waitFor(/ready/)
    const client = await lab.run(G, node, [fixture('echo-client.mjs'), '10.77.0.1:7777', String(4 << 20)])
    expect(client.output).toMatch(/"ok":true,"bytes":4194304/)
    expect(client.code).toBe(0)
  }, 60_000)

  it("carries tapcmio's [tun_pi | frame] bytes when both ends ask for --packet-info", async () => {
    const { G } = await tapBridge(['--packet-info'], ['--packet-info'])
    const ping = await lab.run(G, 'ping', ['-c', '2', '-i', '0.2', '-W', '5', '-s', '1472', '-M', 'do', '10.77.0.1'])
    expect(ping.output).toMatch(/2 received/)
  }, 60_000)

  it('carries 64 KiB GSO super-frames with --vnet-hdr on both ends', async () => {
    const { G, H, host } = await tapBridge(['--vnet-hdr'], ['--vnet-hdr'], true)
    const ping = await lab.run(G, 'ping', ['-c', '2', '-i', '0.2', '-W', '5', '-s', '1472', '-M', 'do', '10.77.0.1'])
    expect(ping.output).toMatch(/2 received/)
    const server = lab.spawn(H, node, [fixture('echo-server.mjs'), '10.77.0.1:7777'])
    await server.waitFor(/ready/)
    const client = await lab.run(G, node, [fixture('echo-client.mjs'), '10.77.0.1:7777', String(8 << 20)])
    expect(client.output).toMatch(/"ok":true,"bytes":8388608/)
    host.proc.kill('SIGTERM')
    expect(await host.exited).toBe(0)
    const m = /largest (\d+)\/(\d+); \d+ yields, 0 dropped, 0 oversize/.exec(host.output)
    expect(m, host.output).not.toBeNull()
    expect(Math.max(Number(m![1]), Number(m![2]))).toBeGreaterThan(1514 + 10) // super-frames crossed
  }, 60_000)

  it('guest killed mid-stream: the host reports it and exits cleanly, nothing left behind', async () => {
    const { G, H, sock, host, guest } = await tapBridge()
    const server = lab.spawn(H, node, [fixture('echo-server.mjs'), '10.77.0.1:7777'])
    await server.waitFor(/ready/)
    const client = lab.spawn(G, node, [fixture('echo-client.mjs'), '10.77.0.1:7777', '0', 'slow'])
    await client.waitFor(/streaming/)
    guest.proc.kill('SIGKILL')
    expect(await host.exited).toBe(0)
    expect(host.output).toMatch(/guest detached \(session 1\): the guest closed the device/)
    expect(existsSync(sock)).toBe(false) // the host removed its socket
    expect(lab.ip(H, 'link', 'show', 'taphost0')).toMatch(/taphost0/) // the test's own TAP is still there
  }, 60_000)

  it('host killed mid-stream: the guest reports it and exits cleanly', async () => {
    const { G, H, host, guest } = await tapBridge()
    const server = lab.spawn(H, node, [fixture('echo-server.mjs'), '10.77.0.1:7777'])
    await server.waitFor(/ready/)
    const client = lab.spawn(G, node, [fixture('echo-client.mjs'), '10.77.0.1:7777', '0', 'slow'])
    await client.waitFor(/streaming/)
    host.proc.kill('SIGKILL')
    expect(await guest.exited).toBe(1)
    expect(guest.output).toMatch(/cmio: CMIO yield failed: ECONNRESET/)
    expect(lab.ip(G, 'link', 'show', 'tapcmio0')).toMatch(/tapcmio0/)
  }, 60_000)
})

describe.skipIf(!ready)(`socket multiplexer across two namespaces (${why})`, () => {
  it("reaches a Unix and a TCP echo server inside the guest through the host's --forward", async () => {
    const G = lab.netns('xg')
    const H = lab.netns('xh')
    const sock = join(dir, 'cmio.sock')
    const guestEcho = join(dir, 'guest-echo.sock')
    const local = join(dir, 'local.sock')
    const unixEcho = lab.spawn(G, node, [fixture('echo-server.mjs'), guestEcho])
    const tcpEcho = lab.spawn(G, node, [fixture('echo-server.mjs'), '127.0.0.1:7000'])
    await Promise.all([unixEcho.waitFor(/ready/), tcpEcho.waitFor(/ready/)])
    const host = lab.spawn(H, node, [
      hostCli,
      '--socket',
      sock,
      '--forward',
      `${local}=${guestEcho}`,
      '--forward',
      '127.0.0.1:7100=127.0.0.1:7000',
    ])
    await host.waitFor(/listening on/)
    const guest = lab.spawn(G, node, [guestCli, 'unix', '--device', sock])
    await guest.waitFor(/serving sockets/)
    await host.waitFor(/guest attached/)
    // the Unix forward from this (root-namespace) process: a path crosses namespaces
    const viaUnix = await lab.run(null, node, [fixture('echo-client.mjs'), local, String(1 << 20)])
    expect(viaUnix.output).toMatch(/"ok":true,"bytes":1048576/)
    // the TCP forward listens on H's loopback: the client runs in H
    const viaTcp = await lab.run(H, node, [fixture('echo-client.mjs'), '127.0.0.1:7100', String(256 << 10)])
    expect(viaTcp.output).toMatch(/"ok":true,"bytes":262144/)
    guest.proc.kill('SIGTERM')
    expect(await guest.exited).toBe(0)
    expect(await host.exited).toBe(0)
  }, 60_000)
})
