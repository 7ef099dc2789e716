// On the loopback interface of this namespace (no privileges needed: SO_BINDTODEVICE is unprivileged since Linux
// 5.7), with ephemeral ports so that nothing collides: the Rust plugin's own tests (Thunderbolt_tests.rs) made to
// check what they claim, plus the divergences (events, close semantics, iterators, fd hygiene).
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { encodePing, encodePong } from '@x/framing'
import { getsockoptInt, K } from '@x/native'
import {
  isTransportError,
  makeThunderboltTransport,
  type ThunderboltTransport,
  ThunderboltTransportBuilder,
  TransportError,
} from '@x/thunderbolt'
import { afterEach, describe, expect, it } from 'vitest'
import { createSocket } from '../src/sockets.js'
import { hex, openFds } from './helpers.js'
import { closed, Recorder, readAll } from './recorder.js'

const live: ThunderboltTransport[] = []
afterEach(async () => {
  await Promise.all(live.splice(0).map((t) => t.close()))
})
function rec(options = {}): Recorder {
  const r = new Recorder()
  live.push(r.build(options))
  return r
}
const PEER = '::1%lo'

async function rejects(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p
  } catch (e) {
    if (e instanceof TransportError) return e
    throw e
  }
  throw new Error('did not reject')
}

function fdOfStream(s: Socket): number {
  return (s as unknown as { _handle: { fd: number } })._handle.fd
}

function tcpOpts(s: Socket) {
  const fd = fdOfStream(s)
  const g = (level: string, name: string) => getsockoptInt(fd, K(level), K(name))
  return {
    nodelay: g('IPPROTO_TCP', 'TCP_NODELAY'),
    keepalive: g('SOL_SOCKET', 'SO_KEEPALIVE'),
    keepidle: g('IPPROTO_TCP', 'TCP_KEEPIDLE'),
    keepintvl: g('IPPROTO_TCP', 'TCP_KEEPINTVL'),
    keepcnt: g('IPPROTO_TCP', 'TCP_KEEPCNT'),
    rcvbuf: g('SOL_SOCKET', 'SO_RCVBUF'),
    sndbuf: g('SOL_SOCKET', 'SO_SNDBUF'),
  }
}

const sysctl = (name: string) => Number(readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim())

describe('building on lo', () => {
  it('runs and logs the start-up lines in order (test_create_transport_loopback)', () => {
    const r = rec()
    const t = r.transport
    expect(t.isRunning()).toBe(true)
    expect(t.interface).toBe('lo')
    expect(t.interfaceIndex).toBe(1)
    expect(r.log('Info').slice(0, 6)).toEqual([
      'Initialized interface lo (index 1)',
      `UDP socket bound to port ${t.controlPort} (non-blocking)`,
      `TCP listener bound to port ${t.dataPort}`,
      'Background threads started',
      'TCP acceptor loop started',
      'UDP receiver loop started',
    ])
    const info = t.socketInfo()
    expect(info.control.device).toBe('lo')
    expect(info.listener?.device).toBe('lo')
  })

  it('buffers: bufferSize on the control socket and the listener, capped by the kernel unless forced', () => {
    const r = rec({ bufferSize: 1 << 20 })
    const { control, listener } = r.transport.socketInfo()
    const want = Math.min(2 << 20, 2 * sysctl('net.core.rmem_max'))
    expect(control.rcvbuf).toBe(want)
    expect(listener!.rcvbuf).toBe(want)
    const z = rec({ bufferSize: 0 }).transport.socketInfo()
    expect(z.control.rcvbuf).toBeLessThanOrEqual(2 * sysctl('net.core.rmem_default'))
  })

  it('uses fixed ports and keeps the getters (test_custom_ports); a second build on them fails with Io', () => {
    const first = rec()
    const port = first.transport.controlPort
    const dport = first.transport.dataPort
    void first.transport.close()
    const t = new ThunderboltTransportBuilder().interface('lo').controlPort(port).dataPort(dport).build()
    live.push(t)
    expect([t.controlPort, t.dataPort, t.localControlPort]).toEqual([port, dport, port])
    let err: unknown
    try {
      live.push(new ThunderboltTransportBuilder().interface('lo').controlPort(port).dataPort(dport).build())
    } catch (e) {
      err = e
    }
    expect(isTransportError(err, 'Io')).toBe(true)
    expect((err as Error).message).toMatch(/^IO error: EADDRINUSE/)
  })

  it('makeThunderboltTransport is the factory of the reference', async () => {
    const seen: string[] = []
    const t = makeThunderboltTransport('lo', 0, 0, (type) => {
      seen.push(type)
    })
    live.push(t)
    expect(t.interface).toBe('lo')
    await t.sendMessage(Buffer.of(1), PEER)
    const it = t.messages()
    await it.next()
    expect(seen).toEqual(['ControlMessage'])
  })

  it('reports SO_BINDTODEVICE failure as SocketOption', () => {
    let err: unknown
    try {
      createSocket({ type: 'tcp', device: 'nonexistent0' })
    } catch (e) {
      err = e
    }
    expect(isTransportError(err, 'SocketOption')).toBe(true)
    expect((err as Error).message).toMatch(/^Socket option error: Failed to bind to device nonexistent0: ENODEV/)
  })
})

describe('control messages', () => {
  it('delivers 100 bytes sent to ::1%lo exactly once, unchanged (test_udp_loopback_echo)', async () => {
    const r = rec()
    const t = r.transport
    const data = Buffer.from(Array.from({ length: 100 }, (_, i) => i % 256))
    expect(await t.sendMessage(data, PEER)).toBe(100)
    await t.sendMessage(Buffer.from('marker'), PEER) // a barrier: everything before it has arrived
    await r.messageCount(2)
    expect(r.messages.map((m) => hex(m.data))).toEqual([hex(data), hex(Buffer.from('marker'))])
    expect(r.messages[0]!.from).toEqual({ address: '::1', port: t.controlPort, scopeId: 0, peer: '::1' })
    expect(r.log('Debug')).toContain('Sent 100 bytes to ::1%lo')
    expect(r.log('Debug')).toContain(`Received 100 bytes from [::1]:${t.controlPort}`)
    expect(t.getStats()).toMatchObject({ messagesSent: 2, bytesSent: 106, messagesReceived: 2, bytesReceived: 106 })
  })

  it('delivers 10 × 64 bytes (test_multiple_udp_messages), 0 bytes, and 65,507 bytes whole', async () => {
    const r = rec()
    const t = r.transport
    for (let i = 0; i < 10; i++) await t.sendMessage(Buffer.alloc(64, i), PEER)
    await t.sendMessage(new Uint8Array(0), PEER)
    const big = Buffer.alloc(65507)
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
    expect(await t.sendMessage(big, PEER)).toBe(65507)
    await r.messageCount(12)
    expect(r.messages.slice(0, 10).map((m) => m.data[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(r.messages[10]!.data.length).toBe(0)
    expect(createHash('sha256').update(r.messages[11]!.data).digest('hex')).toBe(
      createHash('sha256').update(big).digest('hex'),
    )
  })

  it('refuses more than 65,507 bytes with MessageTooLarge{size,max}, sending nothing (test_oversized_message)', async () => {
    const t = rec().transport
    for (const size of [65508, 100000]) {
      const e = await rejects(t.sendMessage(Buffer.alloc(size), PEER))
      expect(e).toMatchObject({ kind: 'MessageTooLarge', size, max: 65507 })
      expect(e.message).toBe(`Message too large: ${size} bytes (max 65507)`)
    }
    expect(t.getStats().messagesSent).toBe(0)
  })

  it('rejects bad peers and data (test_invalid_peer_address)', async () => {
    const t = rec().transport
    expect((await rejects(t.sendMessage(Buffer.of(1), 'invalid-address'))).kind).toBe('InvalidAddress')
    expect((await rejects(t.sendMessage(Buffer.of(1), 'fe80::1%nope'))).kind).toBe('InterfaceNotFound')
    expect((await rejects(t.sendMessage(Buffer.of(1), 'fe80::1%'))).message).toBe('Network interface not found: ')
    expect((await rejects(t.sendMessage('text' as unknown as Uint8Array, PEER))).kind).toBe('InvalidMessage')
    expect((await rejects(t.measureRtt('nope', 10))).kind).toBe('InvalidAddress')
    expect((await rejects(t.openDataStream('fe80::1%nope'))).kind).toBe('InterfaceNotFound')
  })

  it('counts 400 concurrent sends (test_concurrent_sends) and receives them all', async () => {
    const r = rec()
    const t = r.transport
    const sizes = await Promise.all(Array.from({ length: 400 }, (_, i) => t.sendMessage(Buffer.alloc(8, i), PEER)))
    expect(sizes.every((n) => n === 8)).toBe(true)
    await r.messageCount(400)
    expect(t.getStats()).toMatchObject({ messagesSent: 400, bytesSent: 3200, messagesReceived: 400 })
  })

  it('sends other views and ArrayBuffers as their bytes', async () => {
    const r = rec()
    const t = r.transport
    await t.sendMessage(new Uint16Array([0x0102, 0x0304]), PEER)
    await t.sendMessage(Uint8Array.of(9, 8, 7).buffer, PEER)
    await r.messageCount(2)
    expect(r.messages.map((m) => hex(m.data))).toEqual(['02010403', '090807'])
  })

  it('feeds every async iterator, ends them on close; break ends just that one', async () => {
    const r = rec()
    const t = r.transport
    const a = t.messages()
    const b = t[Symbol.asyncIterator]()
    await t.sendMessage(Buffer.of(1), PEER)
    await t.sendMessage(Buffer.of(2), PEER)
    const first = await a.next()
    expect(first.value.data[0]).toBe(1)
    expect((await b.next()).value.data[0]).toBe(1)
    for await (const m of a) {
      expect(m.data[0]).toBe(2)
      break
    }
    expect((await a.next()).done).toBe(true)
    expect((await b.next()).value.data[0]).toBe(2)
    const pending = b.next()
    await t.close()
    expect((await pending).done).toBe(true)
    expect((await t.messages().next()).done).toBe(true)
  })

  it('drops beyond maxQueued for a slow iterator consumer and counts it', async () => {
    const r = rec()
    const t = r.transport
    const q = t.messages({ maxQueued: 3 })
    for (let i = 0; i < 6; i++) await t.sendMessage(Buffer.of(i), PEER)
    await r.messageCount(6)
    expect(q.size).toBe(3)
    expect(q.dropped).toBe(3)
    const got = [(await q.next()).value.data[0], (await q.next()).value.data[0], (await q.next()).value.data[0]]
    expect(got).toEqual([0, 1, 2])
  })

  it('catches handler exceptions and rejections, logs them at Error and counts them', async () => {
    const r = rec()
    const t = r.transport
    let n = 0
    r.onMessage = () => {
      n++
      if (n === 1) throw new Error('boom')
      if (n === 2) return Promise.reject(new Error('later'))
      return undefined
    }
    await t.sendMessage(Buffer.of(1), PEER)
    await t.sendMessage(Buffer.of(2), PEER)
    await t.sendMessage(Buffer.of(3), PEER)
    await r.messageCount(3)
    await new Promise((res) => setImmediate(res))
    expect(r.log('Error')).toEqual(['Message handler failed: boom', 'Message handler failed: later'])
    expect(t.getStats().errors).toBe(2)
  })

  it('counts and resets (test_transport_statistics, test_full_workflow)', async () => {
    const r = rec()
    const t = r.transport
    expect(t.getStats()).toMatchObject({ messagesSent: 0, errors: 0, connectionsAccepted: 0 })
    expect(await t.sendMessage(Buffer.alloc(128), PEER)).toBe(128)
    await r.messageCount(1)
    expect(t.getStats()).toMatchObject({ messagesSent: 1, bytesSent: 128, messagesReceived: 1, bytesReceived: 128 })
    t.resetStats()
    expect(t.getStats()).toMatchObject({
      messagesSent: 0,
      bytesSent: 0,
      messagesReceived: 0,
      bytesReceived: 0,
      errors: 0,
    })
    expect(r.log('Info')).toContain('Statistics reset')
    await t.close()
    expect(t.isRunning()).toBe(false)
    expect(r.log('Info').at(-1)).toBe('Transport closed')
  })
})

describe('RTT', () => {
  it('a self-ping on ::1%lo is answered (Rust times out); the ping is counted, not delivered', async () => {
    const r = rec()
    const t = r.transport
    const rtt = await t.measureRtt(PEER, 2000)
    expect(typeof rtt).toBe('number')
    expect(rtt!).toBeGreaterThan(0)
    expect(rtt!).toBeLessThan(1)
    expect(r.messages).toHaveLength(0)
    // the ping was received (counted), its pong consumed by measureRtt (not counted); nothing "sent"
    expect(t.getStats()).toMatchObject({ messagesReceived: 1, bytesReceived: 16, messagesSent: 0 })
    expect(r.log('Debug').some((m) => /^RTT to ::1%lo: \d+\.\d{6} ms$/.test(m))).toBe(true)
  })

  it('matches concurrent measurements by their own timestamps', async () => {
    const t = rec().transport
    const all = await Promise.all(Array.from({ length: 32 }, () => t.measureRtt(PEER, 2000)))
    expect(all.every((x) => typeof x === 'number' && x > 0)).toBe(true)
  })

  it('delivers a pong nobody waits for, and answers a ping-shaped application message', async () => {
    const r = rec()
    const t = r.transport
    await t.sendMessage(encodePong(12345n), PEER)
    await t.sendMessage(encodePing(1234567890123456789n), PEER) // swallowed: answered with a pong to us
    await r.messageCount(2)
    expect(hex(r.messages[0]!.data)).toBe(hex(encodePong(12345n)))
    expect(hex(r.messages[1]!.data)).toBe('0000005254545053112210f47de98115')
  })

  it('with autoRespondPing false ("Lisp mode") pings reach the handler and measureRtt times out with null', async () => {
    const r = rec({ autoRespondPing: false })
    const t = r.transport
    expect(await t.measureRtt(PEER, 150)).toBeNull()
    await r.messageCount(1)
    expect(r.messages[0]!.data.length).toBe(16)
    expect(hex(r.messages[0]!.data.subarray(0, 8))).toBe('0000005254545054')
    expect(r.log('Debug')).toContain('RTT measurement timed out')
  })

  it('returns null from a silent peer', async () => {
    const silent = rec({ autoRespondPing: false, listen: false })
    const t = rec({ controlPort: silent.transport.controlPort, localControlPort: 0, listen: false }).transport
    expect(await t.measureRtt(PEER, 100)).toBeNull()
  })

  it('rejects a bad timeout', async () => {
    const t = rec().transport
    await expect(t.measureRtt(PEER, -1)).rejects.toThrow(RangeError)
  })
})

describe('data streams', () => {
  it('round-trips a byte through an echoing handler (test_tcp_loopback_stream, fixed)', async () => {
    const r = rec()
    const t = r.transport
    r.onStream = (s) => s.pipe(s)
    const s = await t.openDataStream(PEER)
    s.write(Buffer.of(42))
    const [b] = (await s[Symbol.asyncIterator]().next()).value as Buffer[]
    expect(b).toBe(42)
    s.end()
    await closed(s)
    expect(t.getStats()).toMatchObject({ connectionsInitiated: 1, connectionsAccepted: 1 })
    expect(r.log('Info')).toContain('Established data stream to ::1%lo')
    expect(r.log('Debug').some((m) => /^Accepted connection from \[::1\]:\d+$/.test(m))).toBe(true)
    expect(r.streams[0]!.from).toMatchObject({ address: '::1', scopeId: 0, peer: '::1' })
  })

  it('carries 48 MiB intact, and respects backpressure of a paused consumer', async () => {
    const r = rec()
    const t = r.transport
    let resume!: () => void
    const paused = new Promise<void>((res) => {
      resume = res
    })
    const received = new Promise<string>((resolve) => {
      r.onStream = (s) => {
        s.pause()
        const h = createHash('sha256')
        void paused.then(() => {
          s.on('data', (c: Buffer) => h.update(c))
          s.on('end', () => {
            s.end()
            resolve(h.digest('hex'))
          })
          s.resume()
        })
      }
    })
    const s = await t.openDataStream(PEER)
    const h = createHash('sha256')
    const chunk = Buffer.alloc(1 << 20)
    let full = false
    for (let i = 0; i < 48; i++) {
      chunk.fill(i)
      h.update(chunk)
      if (!s.write(Buffer.from(chunk))) full = true
    }
    s.end()
    await new Promise((res) => setTimeout(res, 50)) // let the paused reader's buffers fill
    expect(full).toBe(true)
    resume()
    expect(await received).toBe(h.digest('hex'))
    await closed(s)
  })

  it('configures initiated streams (nodelay, keepalive idle 60 s, kernel interval/count, buffers) and accepted ones', async () => {
    const r = rec()
    const t = r.transport
    const s = await t.openDataStream(PEER)
    await r.streamCount(1)
    const o = tcpOpts(s)
    expect(o).toMatchObject({ nodelay: 1, keepalive: 1, keepidle: 60 })
    expect(o.keepintvl).toBe(sysctl('net.ipv4.tcp_keepalive_intvl'))
    expect(o.keepcnt).toBe(sysctl('net.ipv4.tcp_keepalive_probes'))
    expect(o.rcvbuf).toBe(Math.min(2 * 64 * 1024 * 1024, 2 * sysctl('net.core.rmem_max')))
    const a = tcpOpts(r.streams[0]!.stream)
    expect(a.nodelay).toBe(1)
    expect(a.keepalive).toBe(0) // Rust sets only TCP_NODELAY on accepted streams
    expect(a.rcvbuf).toBe(o.rcvbuf) // inherited from the listener
    s.destroy()

    const r2 = rec({ tcpNodelay: false, tcpKeepalive: false })
    const s2 = await r2.transport.openDataStream(PEER)
    await r2.streamCount(1)
    expect(tcpOpts(s2)).toMatchObject({ nodelay: 0, keepalive: 0 })
    expect(tcpOpts(r2.streams[0]!.stream).nodelay).toBe(0)
    s2.destroy()
  })

  it('fails with ConnectionFailed when nothing listens (dead peer)', async () => {
    const gone = rec()
    const port = gone.transport.dataPort
    await gone.transport.close()
    const t = rec({ dataPort: port, listen: false }).transport
    const e = await rejects(t.openDataStream(PEER))
    expect(e.kind).toBe('ConnectionFailed')
    expect(e.message).toBe('Connection failed: ::1%lo: ECONNREFUSED: connection refused')
    expect((e.cause as { code: string }).code).toBe('ECONNREFUSED')
    expect(t.getStats().connectionsInitiated).toBe(0)
  })

  it('without a handler, drops accepted streams (as Rust does)', async () => {
    const t = new ThunderboltTransportBuilder().interface('lo').controlPort(0).dataPort(0).build()
    live.push(t)
    const s = await t.openDataStream(PEER)
    expect((await readAll(s)).length).toBe(0) // the peer closed it
    expect(t.getStats().connectionsAccepted).toBe(1)
  })

  it('leaves no fd open after 1000 streams opened and closed', async () => {
    const r = rec()
    const t = r.transport
    r.onStream = (s) => {
      s.on('error', () => {})
      s.destroy()
    }
    const warm = await t.openDataStream(PEER)
    await r.streamCount(1)
    warm.destroy()
    await closed(warm)
    await closed(r.streams[0]!.stream)
    const before = openFds()
    for (let i = 0; i < 100; i++) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => t.openDataStream(PEER)))
      for (const s of batch) s.destroy()
      await Promise.all(batch.map(closed))
    }
    await r.streamCount(1001)
    await Promise.all(r.streams.map((x) => closed(x.stream)))
    expect(t.getStats()).toMatchObject({ connectionsInitiated: 1001, connectionsAccepted: 1001 })
    expect(openFds()).toBe(before)
  }, 60_000)
})

describe('close()', () => {
  it('is idempotent, closes every socket and stream, resolves pending RTTs with null; later calls reject Shutdown', async () => {
    const r = rec({ autoRespondPing: false })
    const t = r.transport
    r.onStream = () => {}
    const before = openFds()
    const out = await t.openDataStream(PEER)
    await r.streamCount(1)
    const accepted = r.streams[0]!.stream
    const rtt = t.measureRtt(PEER, 10_000) // nobody answers
    const it = t.messages()
    const next = it.next()
    const p1 = t.close()
    const p2 = t.close()
    expect(p1).toBe(p2)
    expect(t.isRunning()).toBe(false)
    await p1
    expect(await rtt).toBeNull()
    expect((await next).done).toBe(true)
    expect(out.destroyed && accepted.destroyed).toBe(true)
    await Promise.all([closed(out), closed(accepted)])
    expect(openFds()).toBeLessThan(before)
    for (const p of [t.sendMessage(Buffer.of(1), PEER), t.measureRtt(PEER), t.openDataStream(PEER)]) {
      const e = await rejects(p)
      expect(e.kind).toBe('Shutdown')
      expect(e.message).toBe('Transport shutdown')
    }
    expect(() => t.socketInfo()).toThrow(TransportError)
    expect(t.getStats().connectionsInitiated).toBe(1)
    expect(r.log('Info').slice(-3)).toEqual([
      'TCP acceptor loop shutting down',
      'UDP receiver loop shutting down',
      'Transport closed',
    ])
  })

  it('frees its ports: a rebuild on the same ports works (test_graceful_shutdown)', async () => {
    const r = rec()
    const t = r.transport
    const { controlPort, dataPort } = t
    await t.close()
    await using again = new ThunderboltTransportBuilder()
      .interface('lo')
      .controlPort(controlPort)
      .dataPort(dataPort)
      .build()
    expect(again.isRunning()).toBe(true)
    await expect(t.close()).resolves.toBeUndefined()
  })
})
