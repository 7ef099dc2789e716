// No sockets: address rules, errors, stats, timestamps, config, builder, the message queue, the wire codec.
import { decodeRtt, encodePing, encodePong, isPing, isPong, pongFor } from '@x/framing'
import {
  DEFAULT_BUFFER_SIZE,
  defaultConfig,
  isTransportError,
  MAX_UDP_PAYLOAD,
  parsePeer,
  resolveConfig,
  ThunderboltTransportBuilder,
  TransportError,
  TransportErrorKind,
  type ZoneResolver,
} from '@x/thunderbolt'
import { describe, expect, it } from 'vitest'
import { formatSocketAddress, numericZone } from '../src/address.js'
import { nextTimestamp } from '../src/clock.js'
import { MessageQueue } from '../src/queue.js'
import { StatsCounter } from '../src/stats.js'
import { hex } from './helpers.js'

const names: Record<string, number> = { lo: 1, thunderbolt0: 2, tc0: 3 }
const fake: ZoneResolver = {
  nameToIndex: (n) => names[n] ?? 0,
  indexToName: (i) => Object.keys(names).find((k) => names[k] === i) ?? null,
}
const parse = (s: string, def = 0) => parsePeer(s, def, fake)

function thrown(f: () => unknown): TransportError {
  try {
    f()
  } catch (e) {
    if (e instanceof TransportError) return e
    throw e
  }
  throw new Error('did not throw')
}

describe('golden RTT vectors (reference §2.3)', () => {
  it('ping and pong for ts 1234567890123456789 are byte-exact', () => {
    expect(hex(encodePing(1234567890123456789n))).toBe('0000005254545054112210f47de98115')
    const ping = encodePing(1234567890123456789n)
    expect(hex(pongFor(ping)!)).toBe('0000005254545053112210f47de98115')
    expect(hex(encodePong(1234567890123456789n))).toBe('0000005254545053112210f47de98115')
  })

  it("echoes a Lisp (SBCL sec·10⁹+µs) timestamp's 8 bytes unchanged", () => {
    const lisp = Buffer.from('000000525454505418EAD9757787A04D', 'hex')
    expect(isPing(lisp)).toBe(true)
    expect(decodeRtt(lisp)!.timestamp).toBe(1795486500000342093n)
    expect(hex(pongFor(lisp)!)).toBe('000000525454505318ead9757787a04d')
  })

  it('detects pings/pongs only at exactly 16 bytes with the exact magic', () => {
    const p = encodePing(1n)
    expect(isPing(p)).toBe(true)
    expect(isPing(p.subarray(0, 15))).toBe(false)
    expect(isPing(Buffer.concat([p, Buffer.of(0)]))).toBe(false)
    const off = Buffer.from(p)
    off[6] = 0x51
    expect(isPing(off)).toBe(false)
    expect(isPong(encodePong(1n))).toBe(true)
    expect(isPong(p)).toBe(false)
  })
})

describe('peer addresses (Rust parse_ipv6_with_scope)', () => {
  it('uses the default scope without a zone, and Rust unit-test values', () => {
    expect(parse('::1').scopeId).toBe(0)
    expect(parse('fe80::1', 2)).toMatchObject({ address: 'fe80::1', scopeId: 2, zone: null, linkLocal: true })
    expect(parse('fe80::1%2')).toMatchObject({ scopeId: 2, zone: '2' })
  })

  it('resolves zone names and numeric zones (leading + and zeros), and ::1%lo', () => {
    expect(parse('fe80::1%thunderbolt0').scopeId).toBe(2)
    expect(parse('fe80::1%lo').scopeId).toBe(1)
    expect(parse('::1%lo')).toMatchObject({ scopeId: 1, linkLocal: false })
    expect(parse('fe80::1%+3').scopeId).toBe(3)
    expect(parse('fe80::1%003').scopeId).toBe(3)
    expect(parse('fe80::1%0').scopeId).toBe(0)
    expect(parse('FE80:0:0:0:0:0:0:1%2').address).toBe('fe80::1')
    expect(parse('::ffff:1.2.3.4').address).toBe('::ffff:102:304')
  })

  it('splits at the first %', () => {
    expect(thrown(() => parse('fe80::1%lo%x'))).toMatchObject({ kind: 'InterfaceNotFound', detail: 'lo%x' })
  })

  it('rejects empty, unknown and too-large zones with InterfaceNotFound(zone)', () => {
    for (const [input, zone] of [
      ['fe80::1%', ''],
      ['fe80::1%nope', 'nope'],
      ['fe80::1%2abc', '2abc'],
      ['fe80::1%99', '99'],
      ['fe80::1%4294967296', '4294967296'],
      ['fe80::1%-1', '-1'],
    ] as const) {
      const e = thrown(() => parse(input))
      expect(e.kind).toBe('InterfaceNotFound')
      expect(e.message).toBe(`Network interface not found: ${zone}`)
    }
  })

  it('rejects what is not an IPv6 address with InvalidAddress(whole input)', () => {
    for (const input of [
      'invalid-address',
      '1.2.3.4',
      '[fe80::1]',
      '[::1]%lo',
      'fe80::1::2',
      '',
      'fe80:::1',
      '12345::1',
    ]) {
      const e = thrown(() => parse(input))
      expect(e.kind).toBe('InvalidAddress')
      expect(e.message).toBe(`Invalid IPv6 address: ${input}`)
    }
    expect(thrown(() => parsePeer(42 as unknown as string, 0, fake)).kind).toBe('InvalidAddress')
  })

  it('reads numeric zones like u32::from_str', () => {
    expect(numericZone('7')).toBe(7)
    expect(numericZone('+7')).toBe(7)
    expect(numericZone('4294967295')).toBe(4294967295)
    expect(numericZone('4294967296')).toBeNull()
    expect(numericZone(' 7')).toBeNull()
    expect(numericZone('')).toBeNull()
  })

  it("formats socket addresses like Rust's SocketAddrV6", () => {
    expect(formatSocketAddress('fe80::2', 5000, 3)).toBe('[fe80::2%3]:5000')
    expect(formatSocketAddress('::1', 5000, 0)).toBe('[::1]:5000')
  })
})

describe('TransportError', () => {
  it('has the ten kinds with the reference messages and Node-style codes', () => {
    expect(Object.keys(TransportErrorKind)).toHaveLength(10)
    const cases: [TransportError, string, string][] = [
      [TransportError.io(new Error('boom')), 'Io', 'IO error: boom'],
      [TransportError.invalidAddress('x'), 'InvalidAddress', 'Invalid IPv6 address: x'],
      [TransportError.interfaceNotFound('tb9'), 'InterfaceNotFound', 'Network interface not found: tb9'],
      [TransportError.messageTooLarge(65508, 65507), 'MessageTooLarge', 'Message too large: 65508 bytes (max 65507)'],
      [TransportError.connectionFailed('refused'), 'ConnectionFailed', 'Connection failed: refused'],
      [TransportError.notInitialized(), 'NotInitialized', 'Transport not initialized'],
      [TransportError.shutdown(), 'Shutdown', 'Transport shutdown'],
      [TransportError.invalidMessage('bad'), 'InvalidMessage', 'Invalid message format: bad'],
      [TransportError.timeout(), 'Timeout', 'Timeout'],
      [TransportError.socketOption('x'), 'SocketOption', 'Socket option error: x'],
    ]
    for (const [e, kind, message] of cases) {
      expect(e).toBeInstanceOf(Error)
      expect(e.kind).toBe(kind)
      expect(e.message).toBe(message)
      expect(e.name).toBe('TransportError')
      expect(isTransportError(e, kind as TransportErrorKind)).toBe(true)
    }
    expect(TransportError.messageTooLarge(70000, MAX_UDP_PAYLOAD)).toMatchObject({
      size: 70000,
      max: 65507,
      code: 'ERR_THUNDERBOLT_MESSAGE_TOO_LARGE',
    })
    expect(isTransportError(new Error('x'))).toBe(false)
  })

  it('keeps the OS error as cause, and its text without the syscall', () => {
    const os = Object.assign(new Error('ECONNREFUSED: connection refused, connect'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
    })
    const e = TransportError.io(os)
    expect(e.message).toBe('IO error: ECONNREFUSED: connection refused')
    expect(e.cause).toBe(os)
    expect(e.errno).toBe(-111)
  })
})

describe('stats (Rust unit test values)', () => {
  it('counts and resets', () => {
    const s = new StatsCounter()
    s.recordSent(100)
    s.recordReceived(50)
    s.recordError()
    s.recordConnection(true)
    s.recordConnection(false)
    expect(s.snapshot()).toMatchObject({
      messagesSent: 1,
      bytesSent: 100,
      messagesReceived: 1,
      bytesReceived: 50,
      errors: 1,
      connectionsInitiated: 1,
      connectionsAccepted: 1,
      uptimeSecs: 0,
    })
    s.reset()
    const z = s.snapshot()
    expect([z.messagesSent, z.bytesSent, z.messagesReceived, z.bytesReceived, z.errors]).toEqual([0, 0, 0, 0, 0])
    expect([z.connectionsAccepted, z.connectionsInitiated]).toEqual([0, 0])
    expect(z.uptimeMs).toBeGreaterThanOrEqual(0)
  })
})

describe('ping timestamps', () => {
  it('are ns since the epoch and strictly increasing, even for the same clock reading', () => {
    const now = BigInt(Date.now()) * 1_000_000n
    const a = nextTimestamp()
    expect(a > now - 5_000_000_000n && a < now + 5_000_000_000n).toBe(true)
    const t = process.hrtime.bigint()
    const b = nextTimestamp(t)
    const c = nextTimestamp(t)
    const d = nextTimestamp(t - 1_000_000n)
    expect(b > a && c > b && d > c).toBe(true)
  })
})

describe('configuration and builder', () => {
  it('has the document defaults', () => {
    expect(defaultConfig()).toMatchObject({
      interface: 'thunderbolt0',
      controlPort: 5000,
      dataPort: 5001,
      bufferSize: 64 * 1024 * 1024,
      tcpNodelay: true,
      tcpKeepalive: true,
      autoRespondPing: true,
    })
    expect(DEFAULT_BUFFER_SIZE).toBe(67108864)
  })

  it('sets every field through the builder (test_builder_pattern)', () => {
    const b = new ThunderboltTransportBuilder()
      .interface('tb1')
      .controlPort(6000)
      .dataPort(6001)
      .bufferSize(1 << 20)
      .tcpNodelay(false)
      .tcpKeepalive(false)
      .autoRespondPing(false)
      .forceBuffers()
      .options({ connectTimeoutMs: 500 })
    expect(b.config).toMatchObject({
      interface: 'tb1',
      controlPort: 6000,
      dataPort: 6001,
      bufferSize: 1 << 20,
      tcpNodelay: false,
      tcpKeepalive: false,
      autoRespondPing: false,
      forceBuffers: true,
      connectTimeoutMs: 500,
    })
  })

  it('checks values', () => {
    expect(() => resolveConfig({ controlPort: 70000 })).toThrow(RangeError)
    expect(() => resolveConfig({ dataPort: -1 })).toThrow(RangeError)
    expect(() => resolveConfig({ bufferSize: 2 ** 31 })).toThrow(RangeError)
    expect(() => resolveConfig({ tcpNodelay: 'yes' as unknown as boolean })).toThrow(TypeError)
    expect(() => resolveConfig({ interface: 3 as unknown as string })).toThrow(TypeError)
  })

  it('fails to build on a missing interface with InterfaceNotFound (test_invalid_interface)', () => {
    const e = thrown(() => new ThunderboltTransportBuilder().interface('nonexistent-interface-xyz123').build())
    expect(e.kind).toBe('InterfaceNotFound')
    expect(e.message).toBe('Network interface not found: nonexistent-interface-xyz123')
    expect(thrown(() => new ThunderboltTransportBuilder().interface('').build()).kind).toBe('InterfaceNotFound')
  })
})

describe('MessageQueue', () => {
  it('hands items to waiting readers, buffers up to max, then drops', async () => {
    const q = new MessageQueue<number>(2)
    const first = q.next()
    q.push(1)
    expect(await first).toEqual({ value: 1, done: false })
    expect([q.push(2), q.push(3), q.push(4)]).toEqual([true, true, false])
    expect(q.dropped).toBe(1)
    q.end()
    const got: number[] = []
    for await (const v of q) got.push(v)
    expect(got).toEqual([2, 3])
    expect(q.push(5)).toBe(false)
  })

  it('return() (break) ends it and runs onEnd once', async () => {
    let ended = 0
    const q = new MessageQueue<number>(8, () => ended++)
    q.push(1)
    for await (const v of q) {
      expect(v).toBe(1)
      break
    }
    expect(ended).toBe(1)
    expect(await q.next()).toEqual({ value: undefined, done: true })
    q.end()
    expect(ended).toBe(1)
  })
})
