// The API without a network: portspecs, flags validation, typed errors, Context/Token/Payload checks, batches,
// BPF compilation. Runs unprivileged.
import { BufferPool, RingError } from '@x/ring'
import { describe, expect, it } from 'vitest'
import {
  AfPacketSocket,
  AfXdpSocket,
  Context,
  compileFilter,
  consume,
  create,
  filterInstructions,
  havePcap,
  isNethunsError,
  NethunsError,
  PacketBatch,
  parsePortspec,
  redirectProgram,
  token,
} from '../src/index.js'

describe('portspec', () => {
  it('parses interfaces, files, netmap and DPDK specs', () => {
    expect(parsePortspec('eth0')).toMatchObject({ kind: 'interface', name: 'eth0' })
    expect(parsePortspec('veth-a.1')).toMatchObject({ kind: 'interface', name: 'veth-a.1' })
    expect(parsePortspec('file:/tmp/x')).toMatchObject({ kind: 'file', path: '/tmp/x' })
    expect(parsePortspec('/tmp/cap.pcap')).toMatchObject({ kind: 'file', path: '/tmp/cap.pcap' })
    expect(parsePortspec('cap.PCAPNG')).toMatchObject({ kind: 'file', path: 'cap.PCAPNG' })
    expect(parsePortspec('netmap:eth0')).toMatchObject({ kind: 'netmap', name: 'eth0' })
    expect(parsePortspec('vale0:1')).toMatchObject({ kind: 'netmap', name: 'vale0:1' })
    expect(parsePortspec('0000:01:00.0')).toMatchObject({ kind: 'dpdk', device: '0000:01:00.0' })
    expect(parsePortspec('01:00.1')).toMatchObject({ kind: 'dpdk' })
    expect(parsePortspec('net_af_packet0,iface=a1')).toMatchObject({ kind: 'dpdk' })
    expect(parsePortspec('dpdk:0000:3b:00.0')).toMatchObject({ kind: 'dpdk', device: '0000:3b:00.0' })
  })

  it.each([
    ['', 'empty'],
    ['a'.repeat(16), 'not an interface name'],
    ['has space', 'not an interface name'],
    ['a/b', 'not an interface name'],
    ['foo:bar', "unknown prefix 'foo:'"],
    ['file:', 'needs a path'],
    ['netmap:', 'needs an interface'],
  ])('rejects %j (%s)', (spec, why) => {
    let err: unknown
    try {
      parsePortspec(spec)
    } catch (e) {
      err = e
    }
    expect(isNethunsError(err, 'ERR_NETHUNS_PORTSPEC')).toBe(true)
    expect((err as Error).message).toContain(why)
  })

  it('says DPDK is not available in this build, and sends netmap portspecs to the netmap backend', () => {
    for (const [backend, spec] of [
      ['af_packet', '0000:01:00.0'],
      ['dpdk', 'eth0'],
    ] as const) {
      expect(() => create(backend, spec)).toThrow(/not available in this build/)
      try {
        create(backend, spec)
      } catch (e) {
        expect((e as NethunsError).code).toBe('ERR_NETHUNS_NOT_AVAILABLE')
      }
    }
    for (const [backend, spec] of [
      ['af_packet', 'netmap:eth0'],
      ['af_packet', 'vale0:0'],
      ['af_xdp', 'netmap:eth0'],
      ['pcap', 'netmap:p{1'],
    ] as const) {
      expect(() => create(backend, spec)).toThrow(/is a netmap port: open it with the netmap backend/)
    }
    expect(() => AfPacketSocket.create('netmap:eth0')).toThrow(/is a netmap port/)
    // the netmap backend itself: VALE needs the kernel module (no such port is opened here)
    expect(() => create('netmap', 'vale0:0')).toThrow(/netmap kernel module/)
  })

  it('af_packet refuses files and queues', () => {
    expect(() => AfPacketSocket.create('x.pcap')).toThrow(/opens interfaces, not files/)
    expect(() => AfPacketSocket.create('lo', 0)).toThrow(NethunsError)
    try {
      AfPacketSocket.create('lo', 1)
    } catch (e) {
      expect((e as NethunsError).code).toBe('ERR_NETHUNS_QUEUE')
      expect((e as Error).message).toMatch(/fanout/)
    }
  })
})

describe('flags', () => {
  const bad = (flags: object): NethunsError => {
    try {
      AfPacketSocket.create('lo', null, flags as never)
    } catch (e) {
      return e as NethunsError
    }
    throw new Error('did not throw')
  }
  it.each([
    [{ blockSize: 5000 }, /multiple of the page size/],
    [{ numBlocks: 0 }, /numBlocks/],
    [{ frameSize: 100 }, /multiple of 16/],
    [{ txFrameSize: 1000 }, /txFrameSize/],
    [{ bufferSize: 10 }, /bufferSize/],
    [{ batchSize: 4000, bufferCount: 4096 }, /bufferCount >=/],
    [{ mode: 'sideways' }, /mode must be one of/],
    [{ direction: 'up' }, /direction must be one of/],
    [{ fanout: { group: 1, mode: 'magic' } }, /fanout.mode/],
    [{ fanout: { group: 70000 } }, /fanout.group/],
    [{ promiscuous: 'yes' }, /boolean/],
    [{ snaplen: 10 }, /unknown af_packet flag 'snaplen'/],
    [{ coalesceMs: -1 }, /coalesceMs must be an integer/],
    [{ mode: 'tx_only', txFrames: 0 }, /txFrames > 0/],
  ])('rejects %j', (flags, msg) => {
    const e = bad(flags)
    expect(e.code).toBe('ERR_NETHUNS_FLAGS')
    expect(e.message).toMatch(msg)
  })
})

// Validation runs before anything is opened; the interface name does not exist, so nothing can attach anywhere.
describe('af_xdp flags', () => {
  const xdpErr = (flags: object, queue: number | null = 0): NethunsError => {
    try {
      AfXdpSocket.create('nhnosuch0', queue, flags as never)
    } catch (e) {
      return e as NethunsError
    }
    throw new Error('did not throw')
  }
  it.each([
    [{ rxSize: 1000 }, /rxSize must be a power of two/],
    [{ txSize: 3 }, /txSize must be a power of two/],
    [{ numFrames: 1000 }, /numFrames must be a power of two/],
    [{ frameSize: 3000 }, /frameSize must be 2048 or 4096/],
    [{ frameSize: 8192 }, /frameSize/],
    [{ bufferSize: 2048 }, /set frameSize and numFrames/],
    [{ fillSize: 8192, numFrames: 4096 }, /exceeds numFrames/],
    [{ xdpMode: 'hw' }, /xdpMode must be one of/],
    [{ xdpFlags: 6 }, /exclusive/],
    [{ snaplen: 1 }, /unknown af_xdp flag/],
  ])('rejects %j', (flags, msg) => {
    const e = xdpErr(flags)
    expect(e.code).toBe('ERR_NETHUNS_FLAGS')
    expect(e.message).toMatch(msg)
  })
  it('rejects a bad queue, and a missing interface is ENODEV', () => {
    expect(xdpErr({}, -1).code).toBe('ERR_NETHUNS_QUEUE')
    expect(xdpErr({}, 1.5).code).toBe('ERR_NETHUNS_QUEUE')
    const e = xdpErr({ frameSize: 2048 }, 0)
    expect(e.code).toBe('ENODEV')
    expect(() => AfXdpSocket.create('x.pcapng')).toThrow(/opens interfaces, not files/)
  })
  it('the redirect program is the reference bytes with the map fd patched in', () => {
    const p = redirectProgram(0x01020304)
    expect(p.length).toBe(48)
    expect([...p.subarray(8, 16)]).toEqual([0x18, 0x11, 0, 0, 4, 3, 2, 1])
    expect([...p.subarray(24, 32)]).toEqual([0xb7, 0x03, 0, 0, 2, 0, 0, 0]) // XDP_PASS for empty slots
    expect(p[32]).toBe(0x85)
    expect(p[36]).toBe(51) // bpf_redirect_map
  })
})

describe('missing interface', () => {
  it('throws NethunsError ENODEV naming the portspec', () => {
    let err: NethunsError | undefined
    try {
      AfPacketSocket.create('nhnosuch0')
    } catch (e) {
      err = e as NethunsError
    }
    expect(err).toBeInstanceOf(NethunsError)
    expect(err!.code).toBe('ENODEV')
    expect(err!.syscall).toBe('if_nametoindex')
    expect(err!.portspec).toBe('nhnosuch0')
    expect(err!.message).toMatch(/no such interface/)
  })
})

describe('Context, Token, Payload', () => {
  it('packet(token) checks the pool, then owns the buffer until release', () => {
    const a = Context.create(256, 16)
    const b = Context.create(256, 16)
    expect(a.poolId).not.toBe(b.poolId)
    const d = a.pool.alloc()
    a.unsafeBuffer(d, 4).set([1, 2, 3, 4])
    const t = token(d, 4, a.poolId)
    expect(a.checkToken(t)).toBe(true)
    expect(b.checkToken(t)).toBe(false)
    expect(() => b.packet(t)).toThrow(RingError)
    try {
      b.packet(t)
    } catch (e) {
      expect((e as RingError).code).toBe('ERR_FOREIGN_POOL')
    }
    const p = consume(t, a)
    expect([...p.bytes]).toEqual([1, 2, 3, 4])
    const before = a.pool.available
    p.release()
    expect(a.pool.available).toBe(before + 1)
    expect(() => a.packet(t)).toThrow(/free buffer/) // a stale token
  })

  it('a Context shares into a descriptor and attaches', () => {
    const a = Context.create(128, 8)
    const c = Context.attach(a.share())
    expect(c.poolId).toBe(a.poolId)
    const d = a.pool.alloc()
    a.unsafeBuffer(d, 1)[0] = 42
    expect(c.packet(token(d, 1, a.poolId)).bytes[0]).toBe(42)
  })

  it('PacketBatch releases what it holds, skipping taken packets', () => {
    const ctx = new Context(new BufferPool({ bufSize: 64, count: 8 }))
    const batch = new PacketBatch(4)
    batch.bindTo(ctx, () => ({}) as never)
    for (let i = 0; i < 3; i++) batch.descs[i] = ctx.pool.alloc()
    batch.count = 3
    expect(ctx.pool.available).toBe(5)
    const t = batch.take(1)
    expect(() => batch.bytes(1)).toThrow(/taken/)
    batch.release()
    expect(batch.count).toBe(0)
    expect(ctx.pool.available).toBe(7)
    ctx.releaseToken(t)
    expect(ctx.pool.available).toBe(8)
    expect(() => new PacketBatch(0)).toThrow(RangeError)
  })
})

describe.skipIf(!havePcap)('BPF filter strings (libpcap)', () => {
  it('compiles tcpdump syntax to classic BPF', () => {
    const prog = compileFilter('ether proto 0x88b5')
    const ins = filterInstructions(prog)
    expect(ins.length).toBeGreaterThan(1)
    expect(ins[0]).toMatchObject({ code: 0x28, k: 12 }) // ldh [12]
    expect(ins.some((i) => i.k === 0x88b5)).toBe(true)
  })

  it('reports a syntax error as ERR_NETHUNS_BPF', () => {
    expect(() => compileFilter('ether proto and and')).toThrow(NethunsError)
    try {
      compileFilter('nonsense here')
    } catch (e) {
      expect((e as NethunsError).code).toBe('ERR_NETHUNS_BPF')
      expect((e as NethunsError).kind).toBe('Pcap')
    }
  })
})
