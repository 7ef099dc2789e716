import { fileURLToPath } from 'node:url'
import { NetmapBuilder, NetmapError } from '@x/netmap'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addVeth, createNetns, deleteNetns, ipn, netnsName, netnsProbe, nodeInNs, spawnNode } from './netns.js'

const bin = fileURLToPath(new URL('../bin/pkt-gen.mjs', import.meta.url))
const peer = fileURLToPath(new URL('./fixtures/nic-peer.mjs', import.meta.url))
const queues = fileURLToPath(new URL('./fixtures/nic-queues.mjs', import.meta.url))
const hostRings = fileURLToPath(new URL('./fixtures/host-rings.mjs', import.meta.url))

const p = netnsProbe()

describe('NIC ports without the module: errors (no interface is touched)', () => {
  it('host rings on a non-TAP interface are Unsupported, naming the module and saying TAP devices work', () => {
    for (const spec of ['netmap:lo^', 'netmap:lo*', 'netmap:lo^1', 'netmap:lo^0']) {
      let err: unknown
      try {
        new NetmapBuilder(spec).backend('nic').build()
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(NetmapError)
      expect((err as NetmapError).kind).toBe('UnsupportedPlatform')
      expect((err as NetmapError).message).toMatch(/netmap kernel module/)
      expect((err as NetmapError).message).toMatch(/TAP devices/)
    }
  })

  it('a ring pair the interface does not have is BindFail "no such ring" (the kernel: EINVAL at register)', () => {
    // lo has one queue (sysfs queues/rx-0, tx-0): ring pair 0 only
    expect(() => new NetmapBuilder('netmap:lo-1').backend('nic').build()).toThrow(
      expect.objectContaining({ kind: 'BindFail', message: expect.stringMatching(/no such ring 1 .*1 ring pair/) }),
    )
  })

  it('a missing interface is BindFail', () => {
    expect(() => new NetmapBuilder('netmap:nosuchif0').backend('nic').build()).toThrow(
      expect.objectContaining({ kind: 'BindFail' }),
    )
  })
})

describe.skipIf(!p.ok)(`NIC ports on a veth pair (${p.reason})`, () => {
  const ns = netnsName('nm')
  const inNs = (args: string[]): Promise<{ stdout: string }> => nodeInNs(ns, args, 30_000)
  beforeAll(() => createNetns(ns, () => addVeth(ns, 'a0', 'a1', { queues: 0 }))) // the kernel's queue count
  afterAll(() => deleteNetns(ns))

  it('ping_pong over netmap:a0 → netmap:a1 (rings of the kernel layout, AF_PACKET copies)', async () => {
    const r = await inNs([peer, 'pingpong'])
    expect(r.stdout).toContain('nic ok')
  })

  it('pkt-gen tx on netmap:a0, rx on netmap:a1: sequence numbers, zero mismatches', async () => {
    // the sender starts when the receiver's port is open (its `ready` line), not after a fixed sleep
    const rxArgs = [bin, '-i', 'netmap:a1', '-f', 'rx', '-n', '2000', '-q']
    const rxc = spawnNode(ns, rxArgs)
    const timer = setTimeout(() => rxc.kill('SIGKILL'), 30_000)
    try {
      let out = ''
      const done = new Promise<number | null>((r) => rxc.once('exit', r))
      await new Promise<void>((resolve, reject) => {
        rxc.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          if (/^ready netmap:a1$/m.test(out)) resolve()
        })
        rxc.once('exit', (c) => reject(new Error(`pkt-gen rx exited (${c}) before ready: ${out}`)))
      })
      await inNs([bin, '-i', 'netmap:a0', '-f', 'tx', '-n', '2000', '-b', '16', '-R', '20000', '-q'])
      expect(await done).toBe(0)
      expect(out).toMatch(/^2000 packets in/m)
      expect(out).toMatch(/^0 mismatches$/m)
    } finally {
      clearTimeout(timer)
      if (rxc.exitCode === null && rxc.signalCode === null) rxc.kill('SIGKILL')
    }
  }, 60_000)
})

describe.skipIf(!p.ok)(`multi-queue NIC ports on a 4-queue veth pair (${p.reason})`, () => {
  const ns = netnsName('nmq')
  const inNs = async (args: string[]): Promise<Record<string, unknown>> => {
    const r = await nodeInNs(ns, args)
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!)
  }
  beforeAll(() => createNetns(ns, () => addVeth(ns, 'a0', 'a1', { queues: 4 })))
  afterAll(() => deleteNetns(ns))

  it('netmap:a1 binds 4 ring pairs; RX ring N gets exactly the frames of RX queue N, in sequence', async () => {
    const r = await inNs([queues, 'all', '40'])
    expect(r.numRxRings).toBe(4)
    // one AF_PACKET socket per ring pair: `fd` is ring 0's, ringFds has them all
    expect(r.ringFds).toEqual([
      [
        [0, true],
        [1, false],
        [2, false],
        [3, false],
      ],
    ])
    expect(r.niRings).toEqual([[4, 4, 1, 1]]) // ni_tx_rings, ni_rx_rings, ni_host_tx_rings, ni_host_rx_rings
    expect(r.ringOfs).toEqual([[0, 0, 0, 0, 0, 1, 1, 1, 1, 0]]) // /R: NIC RX rings only
    expect(r.received).toEqual([640, 640, 640, 640])
    expect(r.wrongRing).toBe(0)
    expect(r.gaps).toBe(0)
    expect(r.other).toBe(0)
    expect(r.badIndex).toEqual(Array(4).fill('InvalidRingIndex'))
    // one flow without steering: the kernel puts it on one TX queue, and exactly one ring sees it (no copies)
    const unsteered = r.unsteered as number[]
    expect(unsteered.reduce((a, b) => a + b, 0)).toBe(64)
    expect(unsteered.filter((v) => v > 0)).toEqual([64])
  }, 60_000)

  it('netmap:a1-N (ONE_NIC): one fd per ring, independent, only ring N bound', async () => {
    const r = await inNs([queues, 'one', '20'])
    expect(new Set(r.fds as number[]).size).toBe(4)
    expect(r.ringOfs).toEqual([0, 1, 2, 3].map((i) => Array.from({ length: 10 }, (_, k) => (k === 5 + i ? 1 : 0))))
    expect((r.received as number[]).every((v) => v >= 320)).toBe(true)
    expect(r.wrongRing).toBe(0)
    expect(r.gaps).toBe(0)
    expect(r.badIndex).toBe('InvalidRingIndex')
    expect(r.heldWhileRing0Synced).toEqual([0, 0, 0]) // syncing ring 0's fd takes nothing from the others
    expect(r.afterClose).toEqual([16, 16, 16]) // closing ring 1's port leaves rings 0, 2, 3 working
  }, 60_000)

  it('pkt-gen rx on netmap:a1 walks all 4 RX rings (the flow lands on one queue): 0 mismatches', async () => {
    expect(await inNs([queues, 'pktgen'])).toEqual({ tx: 2000, rx: 2000, mismatches: 0 })
  }, 60_000)

  it('errors: a ring the veth lacks is BindFail; host rings on a veth are Unsupported naming the module', async () => {
    const r = (await inNs([queues, 'errors'])) as Record<string, { kind: string; message: string }>
    expect(r['netmap:a1-4']).toMatchObject({
      kind: 'BindFail',
      message: expect.stringMatching(/no such ring 4 .*4 ring pairs/),
    })
    for (const spec of ['netmap:a1^', 'netmap:a1*', 'netmap:a1^0']) {
      expect(r[spec]!.kind).toBe('UnsupportedPlatform')
      expect(r[spec]!.message).toMatch(/netmap kernel module/)
      expect(r[spec]!.message).toMatch(/not a TUN\/TAP device/)
    }
    expect(r['netmap:nosuch0-1']!.kind).toBe('BindFail')
  }, 60_000)
})

describe.skipIf(!p.ok)(`host rings over a TAP device (${p.reason})`, () => {
  const ns = netnsName('nmh')
  const inNs = async (args: string[]): Promise<Record<string, unknown>> => {
    const r = await nodeInNs(ns, args)
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!)
  }
  beforeAll(() =>
    createNetns(ns, () => {
      ipn(ns, 'tuntap', 'add', 'dev', 'tp0', 'mode', 'tap')
      ipn(ns, 'tuntap', 'add', 'dev', 'tn0', 'mode', 'tun')
      ipn(ns, 'tuntap', 'add', 'dev', 'mq0', 'mode', 'tap', 'multi_queue')
      ipn(ns, 'link', 'set', 'mq0', 'up')
      ipn(ns, 'addr', 'add', '10.77.0.1/24', 'dev', 'tp0')
      ipn(ns, 'link', 'set', 'tp0', 'up')
      ipn(ns, 'neigh', 'add', '10.77.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', 'tp0', 'nud', 'permanent')
    }),
  )
  afterAll(() => deleteNetns(ns))

  it('netmap:tp0^ — the host RX ring sees what the stack transmits (a UDP datagram, checksums valid)', async () => {
    const r = await inNs([hostRings, 'rx'])
    expect(r.isHostIf).toBe(true)
    expect(r.rings).toEqual([0, 0])
    expect(r.hostRx).toEqual({ src: '10.77.0.1', dst: '10.77.0.2', dstPort: 9999, ipOk: true, udpOk: true })
    expect(r.badIndex).toBe('InvalidRingIndex')
  }, 60_000)

  it('netmap:tp0^0 — a frame on the host TX ring reaches a UDP socket in the namespace', async () => {
    const r = await inNs([hostRings, 'tx'])
    expect(r.hostTx).toEqual({ text: true, from: '10.77.0.2:5555' })
  }, 60_000)

  it("netmap:tp0* is refused: a TAP's NIC rings and host rings would see the same frames (a forwarder loops)", async () => {
    const r = (await inNs([hostRings, 'star'])) as { star: { kind: string; message: string } }
    expect(r.star).toMatchObject({
      kind: 'UnsupportedPlatform',
      message: expect.stringMatching(/netmap kernel module.*same frames.*disjoint/),
    })
  }, 60_000)

  it('a multi-queue TAP: NIC RX ring K gets the frames written on queue K (queue_mapping K + 1)', async () => {
    const r = await inNs([hostRings, 'mq'])
    expect(r.numRxRings).toBe(2) // queue 0: the host ring pair's fd; queue 1: a second attach in the fixture
    expect(r.seen).toEqual([[0], [1]])
  }, 60_000)

  it('errors: no host ring 1, TUN devices, ring pair 1 of a one-queue tap, host ring indices', async () => {
    const r = (await inNs([hostRings, 'errors'])) as Record<string, { kind: string; message: string }>
    expect(r['netmap:tp0^1']).toMatchObject({ kind: 'BindFail', message: expect.stringMatching(/no such host ring 1/) })
    for (const spec of ['netmap:tn0^', 'netmap:tn0*']) {
      expect(r[spec]).toMatchObject({
        kind: 'UnsupportedPlatform',
        message: expect.stringMatching(/a TUN device, not a TAP/),
      })
      expect(r[spec]!.message).toMatch(/netmap kernel module/)
    }
    expect(r['netmap:tp0-1']).toMatchObject({ kind: 'BindFail', message: expect.stringMatching(/no such ring 1/) })
    expect(r.badIndex).toBe('InvalidRingIndex')
  }, 60_000)
})
