// Two hosts in network namespaces, joined by a veth pair whose ends are both named thunderbolt0 (fe80::1 ↔ fe80::2),
// so the default configuration works unchanged; a second pair (A's tc0 ↔ C's thunderbolt0, C also fe80::2) for
// numeric zones. Each peer is a child process (`ip netns exec NS node fixtures/peer.mjs`, the built package);
// this process stays in the root namespace. Needs root; skipped with the reason otherwise.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Peer, probeNetns, Topology } from './fixtures/netns.mjs'

const probe = probeNetns()
const built = (() => {
  try {
    readFileSync(new URL('../dist/index.js', import.meta.url))
    return true
  } catch {
    return false
  }
})()
const reason = !probe.ok ? probe.reason : built ? probe.reason : 'build first: npx tsc -p tsconfig.build.json'

const MiB = 1024 * 1024

describe.skipIf(!probe.ok || !built)(`two namespaces over veth (${reason})`, () => {
  const topo = new Topology('tbt')
  let A: string
  let B: string
  let C: string
  let pa: Peer // A, thunderbolt0, defaults
  let pa2: Peer // A, tc0, same ports
  let pb: Peer // B, thunderbolt0, defaults
  let pc: Peer // C, thunderbolt0, defaults
  let tbIndexA: number
  let tc0IndexA: number
  const sysctlIn = (ns: string, name: string) =>
    Number(topo.exec(ns, 'cat', [`/proc/sys/${name.replaceAll('.', '/')}`]).trim())

  beforeAll(async () => {
    A = topo.ns('a')
    B = topo.ns('b')
    C = topo.ns('c')
    topo.veth(A, 'thunderbolt0', B, 'thunderbolt0')
    topo.veth(A, 'tc0', C, 'thunderbolt0')
    topo.addr(A, 'thunderbolt0', 'fe80::1/64')
    topo.addr(B, 'thunderbolt0', 'fe80::2/64')
    topo.addr(A, 'tc0', 'fe80::1/64')
    topo.addr(C, 'thunderbolt0', 'fe80::2/64')
    tbIndexA = topo.ifindex(A, 'thunderbolt0')
    tc0IndexA = topo.ifindex(A, 'tc0')
    ;[pa, pa2, pb, pc] = await Promise.all([
      topo.peer(A, {}),
      topo.peer(A, { interface: 'tc0' }),
      topo.peer(B, {}),
      topo.peer(C, {}),
    ])
    // neighbour discovery on the fresh links (the first solicitation may go out before the peer listens)
    await Promise.all([
      pa.call('rtt', { peer: 'fe80::2', timeout: 3000 }),
      pb.call('rtt', { peer: 'fe80::1', timeout: 3000 }),
      pa2.call('rtt', { peer: 'fe80::2', timeout: 3000 }),
      pc.call('rtt', { peer: 'fe80::1', timeout: 3000 }),
    ])
  }, 30_000)

  afterAll(async () => {
    await topo.destroy()
  })

  const msgAt = (p: Peer, h: string) => p.waitFor((e) => e.ev === 'message' && e.hex === h)

  it('uses the default configuration unchanged: thunderbolt0, 5000/5001, SO_BINDTODEVICE', () => {
    expect(pa.info).toMatchObject({ interface: 'thunderbolt0', index: tbIndexA, controlPort: 5000, dataPort: 5001 })
    expect(pa.info.sockets.control.device).toBe('thunderbolt0')
    expect(pa.info.sockets.listener.device).toBe('thunderbolt0')
    expect(pa2.info.sockets.control.device).toBe('tc0')
    expect(tc0IndexA).not.toBe(tbIndexA)
  })

  it('sends identical bytes to fe80::2, fe80::2%thunderbolt0 and fe80::2%<index>, from port 5000', async () => {
    const peers = ['fe80::2', 'fe80::2%thunderbolt0', `fe80::2%${tbIndexA}`]
    for (const [i, peer] of peers.entries()) {
      const h = `c0ffee0${i}`
      expect(await pa.call('send', { peer, hex: h })).toBe(4)
      const e = await msgAt(pb, h)
      expect(e.from).toMatchObject({ address: 'fe80::1', port: 5000, peer: 'fe80::1%thunderbolt0' })
    }
    expect(pc.events.filter((e) => e.ev === 'message' && /^c0ffee0/.test(e.hex ?? ''))).toHaveLength(0)
  })

  it('carries 0 bytes and 65,507 bytes (fragmented at MTU 1500)', async () => {
    await pa.call('send', { peer: 'fe80::2', hex: '' })
    await pb.waitFor((e) => e.ev === 'message' && e.length === 0)
    await pa.call('send', { peer: 'fe80::2', size: 65507, fill: 0xab })
    const big = await pb.waitFor((e) => e.ev === 'message' && e.length === 65507)
    const { createHash } = await import('node:crypto')
    expect(big.sha256).toBe(createHash('sha256').update(Buffer.alloc(65507, 0xab)).digest('hex'))
    const e = await pa.call('send', { peer: 'fe80::2', size: 65508 }).catch((x) => x)
    expect(e).toMatchObject({ kind: 'MessageTooLarge' })
  })

  it('sends a numeric zone out of that interface: fe80::2%<tc0 index> reaches C, not B', async () => {
    await pa.call('send', { peer: `fe80::2%${tc0IndexA}`, hex: 'dd01' })
    await msgAt(pc, 'dd01')
    await pa.call('send', { peer: 'fe80::2%tc0', hex: 'dd02' })
    await msgAt(pc, 'dd02')
    await pa.call('send', { peer: 'fe80::2', hex: 'dd03' }) // barrier on the other link
    await msgAt(pb, 'dd03')
    expect(pb.events.some((e) => e.ev === 'message' && (e.hex === 'dd01' || e.hex === 'dd02'))).toBe(false)
  })

  it('keeps interfaces apart: what C sends to A arrives at the tc0 transport only', async () => {
    await pc.call('send', { peer: 'fe80::1', hex: 'ee01' })
    const e = await msgAt(pa2, 'ee01')
    expect(e.from).toMatchObject({ address: 'fe80::2', port: 5000, peer: 'fe80::2%tc0', scopeId: tc0IndexA })
    await pb.call('send', { peer: 'fe80::1', hex: 'ee02' })
    await msgAt(pa, 'ee02')
    expect(pa.events.some((x) => x.ev === 'message' && x.hex === 'ee01')).toBe(false)
    expect(pa2.events.some((x) => x.ev === 'message' && x.hex === 'ee02')).toBe(false)
  })

  it('measures RTT A→B (pings answered, never delivered to B), concurrently too', async () => {
    const before = (await pb.call('stats')).messagesReceived
    const rtt = await pa.call('rtt', { peer: 'fe80::2', timeout: 2000 })
    expect(typeof rtt).toBe('number')
    expect(rtt).toBeGreaterThan(0)
    expect(rtt).toBeLessThan(0.05)
    const many = await pa.call('rttConcurrent', { peer: 'fe80::2%thunderbolt0', count: 16, timeout: 2000 })
    expect(many.every((x: unknown) => typeof x === 'number')).toBe(true)
    expect((await pb.call('stats')).messagesReceived).toBe(before + 17)
    expect(pb.events.some((e) => e.ev === 'message' && e.length === 16 && e.hex.startsWith('0000005254545054'))).toBe(
      false,
    )
  })

  it('puts the exact ping/pong bytes on the wire (captured with AF_PACKET on A)', async () => {
    await pa.call('captureStart', { ifname: 'thunderbolt0', port: 5000 })
    expect(typeof (await pa.call('rtt', { peer: 'fe80::2', timeout: 2000 }))).toBe('number')
    // golden vector: B sends the reference ping as plain data; A answers it with the reference pong
    await pb.call('send', { peer: 'fe80::1', hex: '0000005254545054112210f47de98115' })
    const pong = await msgAt(pb, '0000005254545053112210f47de98115') // an unmatched pong is delivered
    expect(pong.from.peer).toBe('fe80::1%thunderbolt0')
    // the Lisp (SBCL) ping vector: its 8 timestamp bytes come back untouched
    await pb.call('send', { peer: 'fe80::1', hex: '000000525454505418ead9757787a04d' })
    await msgAt(pb, '000000525454505318ead9757787a04d')
    const frames: { sport: number; dport: number; payload: string }[] = await pa.call('captureStop')
    const payloads = frames.map((f) => f.payload)
    const ping = payloads[0]! // the measureRtt ping went first
    expect(ping).toHaveLength(32)
    const ts = BigInt(`0x${ping.slice(16)}`)
    const now = BigInt(Date.now()) * 1_000_000n
    expect(ts > now - 60_000_000_000n && ts < now + 60_000_000_000n).toBe(true) // ns since the epoch
    expect(payloads).toContain(`0000005254545053${ping.slice(16)}`) // B's pong echoes it
    expect(payloads).toContain('0000005254545054112210f47de98115')
    expect(payloads).toContain('0000005254545053112210f47de98115')
    expect(payloads).toContain('000000525454505318ead9757787a04d')
    expect(payloads).toContain('000000525454505318ead9757787a04d'.replace(/54(18ead9757787a04d)$/, '53$1'))
    expect(frames.every((f) => f.sport === 5000 && f.dport === 5000)).toBe(true)
  })

  it('streams 256 MiB A→B intact, with the configured socket options on both ends', async () => {
    const sent = await pa.call('stream', { peer: 'fe80::2', bytes: 256 * MiB })
    const got = await pb.waitFor((e) => e.ev === 'stream-end' && e.bytes === 256 * MiB, 30_000)
    expect(got.sha256).toBe(sent.sha256)
    expect(got.from).toMatchObject({ address: 'fe80::1', peer: 'fe80::1%thunderbolt0' })
    expect(sent.info).toMatchObject({ nodelay: 1, keepalive: 1, keepidle: 60 })
    expect(sent.info.keepintvl).toBe(sysctlIn(A, 'net.ipv4.tcp_keepalive_intvl'))
    expect(sent.info.keepcnt).toBe(sysctlIn(A, 'net.ipv4.tcp_keepalive_probes'))
    expect(sent.info.rcvbuf).toBe(Math.min(2 * 64 * MiB, 2 * sysctlIn(A, 'net.core.rmem_max')))
    expect(got.info.nodelay).toBe(1)
    expect((await pa.call('stats')).connectionsInitiated).toBeGreaterThanOrEqual(1)
  }, 60_000)

  it('opens a stream through a numeric zone on the other interface (to C)', async () => {
    const info = await pa.call('openStream', { peer: `fe80::2%${tc0IndexA}` })
    expect(info.nodelay).toBe(1)
    await pc.waitFor((e) => e.ev === 'stream-end' && e.from.peer === 'fe80::1%thunderbolt0')
    expect(pb.events.filter((e) => e.ev === 'stream-end' && e.bytes === 0)).toHaveLength(0)
  })

  it('forceBuffers gives exactly 2 × bufferSize (CAP_NET_ADMIN)', async () => {
    const p = await topo.peer(A, { forceBuffers: true, controlPort: 7000, dataPort: 7001 })
    expect(p.info.sockets.control.rcvbuf).toBe(2 * 64 * MiB)
    expect(p.info.sockets.listener.sndbuf).toBe(2 * 64 * MiB)
    await p.exit()
  })

  it('Lisp mode on B (autoRespondPing false): A gets null, B gets the ping; then B dies: ConnectionFailed, null', async () => {
    const b6 = await topo.peer(B, { autoRespondPing: false, controlPort: 6000, dataPort: 6001 })
    const a6 = await topo.peer(A, { controlPort: 6000, dataPort: 6001 })
    expect(await a6.call('rtt', { peer: 'fe80::2', timeout: 200 })).toBeNull()
    const ping = await b6.waitFor((e) => e.ev === 'message' && e.length === 16)
    expect(ping.hex.startsWith('0000005254545054')).toBe(true)
    await b6.exit()
    const e = await a6.call('openStream', { peer: 'fe80::2' }).catch((x) => x)
    expect(e).toMatchObject({ kind: 'ConnectionFailed' })
    expect(e.message).toMatch(/ECONNREFUSED/)
    expect(await a6.call('rtt', { peer: 'fe80::2', timeout: 100 })).toBeNull()
    await a6.exit()
  })

  it('fails on an unreachable peer with ConnectionFailed, and close() rejects a pending one with Shutdown', async () => {
    const e = await pa.call('openStream', { peer: 'fe80::99', timeoutMs: 200 }).catch((x) => x)
    expect(e).toMatchObject({ kind: 'ConnectionFailed' })
    const p = await topo.peer(A, { controlPort: 7100, dataPort: 7101 })
    expect(await p.call('openThenClose', { peer: 'fe80::99' })).toBe('Shutdown')
    await p.exit()
  })

  it('reports a missing interface (InterfaceNotFound) and a vanished one (SocketOption)', async () => {
    const bad = await topo.peer(A, { interface: 'thunderbolt9' }).catch((x: Error) => x)
    expect(String(bad)).toMatch(/Network interface not found: thunderbolt9/)
    topo.ip(A, 'link', 'add', 'tmpa', 'type', 'veth', 'peer', 'name', 'tmpb')
    topo.ip(A, 'link', 'set', 'tmpb', 'up')
    topo.addr(A, 'tmpa', 'fe80::9/64')
    await pa.call('send', { peer: 'fe80::5%tmpa', hex: '01' }) // resolves and caches the peer
    topo.ip(A, 'link', 'del', 'tmpa')
    const e = await pa.call('openStream', { peer: 'fe80::5%tmpa' }).catch((x) => x)
    expect(e).toMatchObject({ kind: 'SocketOption' })
    expect(e.message).toMatch(/^Socket option error: Failed to bind to device tmpa: /)
  })
})
