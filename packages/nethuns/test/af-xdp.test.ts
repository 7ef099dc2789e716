// af_xdp over veth in our own namespace, SKB (generic) and DRV (native veth) modes: af_packet → af_xdp and
// af_xdp → af_packet byte for byte; the XSKMAP program is shared per interface and gone after close and after the
// process dies (SIGKILL); bind retries through EBUSY; frames of queues without a socket pass to the stack; holding
// every UMEM frame starves the fill ring and releasing resumes; tokens consumed in a Worker; BPF filters.
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { havePcap } from '../src/index.js'
import { createNetns, type Netns, probeNetns, startPeer } from './netns.js'
import { runPair, type Stats } from './pair.js'

function probeXdp(): { ok: boolean; reason: string } {
  const p = probeNetns()
  if (!p.ok) return p
  try {
    // socket(AF_XDP) in a throwaway child: EAFNOSUPPORT means no CONFIG_XDP_SOCKETS.
    execFileSync(process.execPath, ['-e', "require('node:net');"], { stdio: 'ignore' })
  } catch {
    return { ok: false, reason: 'node does not run' }
  }
  return { ok: true, reason: 'root, iproute2' }
}
const probe = probeXdp()

function xdpOnLink(ns: Netns, dev: string): string | null {
  const out = execFileSync('ip', ['-n', ns.name, '-d', 'link', 'show', dev], { encoding: 'utf8' })
  const m = /prog\/xdp id \d+ name (\S+)/.exec(out)
  return m ? `${/ (xdpgeneric|xdpdrv|xdp) /.exec(out)?.[1] ?? 'xdp'}:${m[1]}` : null
}

describe.skipIf(!probe.ok)(`af_xdp over veth in a netns (${probe.reason})`, () => {
  let ns: Netns
  beforeAll(() => {
    ns = createNetns()
  })
  afterAll(() => ns?.destroy())

  const rxOn = { backend: 'af_xdp', iface: 'a1', queue: 0, timeoutMs: 6000 }
  const txOn = { backend: 'af_packet', iface: 'a0', timeoutMs: 6000 }

  describe.each(['skb', 'drv'] as const)('%s mode', (xdpMode) => {
    it('af_packet → af_xdp: every frame, byte for byte; the program is there while open, gone after close', async () => {
      const r = startPeer(ns, { role: 'rx', ...rxOn, count: 2000, flags: { xdpMode } })
      try {
        const ready = await r.ready
        expect(ready.attachments).toEqual([{ ifindex: expect.any(Number), mode: xdpMode, queues: [0] }])
        expect(xdpOnLink(ns, 'a1')).toBe(`${xdpMode === 'skb' ? 'xdpgeneric' : 'xdp'}:nethuns_xsk`)
        const t = startPeer(ns, { role: 'tx', ...txOn, count: 2000, size: 64 })
        await t.done
        const rx = await r.done
        expect(rx).toMatchObject({ ours: 2000, unique: 2000, corrupt: 0, dup: 0, min: 0, max: 1999 })
        expect((rx.stats as Stats).kernelDrops).toBe(0)
      } finally {
        r.kill()
      }
      expect(xdpOnLink(ns, 'a1')).toBeNull()
    })

    it('af_xdp → af_packet (copy mode TX), send and zero-copy reserveTx', async () => {
      const a = await runPair(
        ns,
        { ...txOn, iface: 'a1', count: 3000 },
        { ...rxOn, iface: 'a0', count: 3000, flags: { xdpMode } },
      )
      expect((a.tx.stats as Stats).sent).toBe(3000)
      expect(a.rx).toMatchObject({ ours: 3000, unique: 3000, corrupt: 0 })
      const b = await runPair(
        ns,
        { ...txOn, iface: 'a1', count: 300 },
        { ...rxOn, iface: 'a0', count: 300, size: 1400, how: 'zerocopy', flags: { xdpMode, frameSize: 2048 } },
      )
      expect(b.rx).toMatchObject({ ours: 300, unique: 300, corrupt: 0 })
      expect(xdpOnLink(ns, 'a0')).toBeNull() // TX-only use attaches nothing
    })
  })

  it('coalesceMs: fewer wake-ups, every frame still delivered', async () => {
    const { rx } = await runPair(
      ns,
      { ...rxOn, count: 1500, how: 'batch', flags: { coalesceMs: 2 } },
      { ...txOn, count: 1500, burst: 16, pace: 1 },
    )
    expect(rx).toMatchObject({ ours: 1500, unique: 1500, corrupt: 0 })
  })

  it('no program is left on the link when the process dies without closing (SIGKILL)', async () => {
    const r = startPeer(ns, { role: 'rx', ...rxOn, count: 1e9, timeoutMs: 30_000 })
    await r.ready
    expect(xdpOnLink(ns, 'a1')).not.toBeNull()
    r.child.kill('SIGKILL')
    await r.done.catch(() => {})
    expect(xdpOnLink(ns, 'a1')).toBeNull() // bpf_link: detached when the kernel closed the fds
  })

  it('rebinding a queue right after close retries through EBUSY', async () => {
    const r = startPeer(ns, { role: 'rebind', ...rxOn, cycles: 3 })
    const done = await r.done
    expect((done.retries as number[]).length).toBe(3)
    expect(done.attachments).toEqual([])
    // And across processes: a new process binds the queue the killed one held.
    const k = startPeer(ns, { role: 'rx', ...rxOn, count: 1e9, timeoutMs: 30_000 })
    await k.ready
    k.child.kill('SIGKILL')
    await k.done.catch(() => {})
    const again = startPeer(ns, { role: 'rx', ...rxOn, count: 10 })
    try {
      await again.ready
      await startPeer(ns, { role: 'tx', ...txOn, count: 10 }).done
      expect((await again.done).ours).toBe(10)
    } finally {
      again.kill()
    }
  })

  it('holding every UMEM frame starves the fill ring; releasing resumes', async () => {
    const r = startPeer(ns, {
      role: 'rx',
      ...rxOn,
      how: 'hold-stall',
      count: 1e9,
      phase2Start: 100_000,
      phase2Count: 100,
      timeoutMs: 12_000,
      flags: { numFrames: 256, fillSize: 64, rxSize: 64, batchSize: 16, mode: 'rx_only' },
    })
    try {
      await r.ready
      await startPeer(ns, { role: 'tx', ...txOn, count: 3000, burst: 16, pace: 1 }).done
      const stalled = await r.event('stalled')
      expect(stalled.held).toBe(256) // every frame of the UMEM is in the application's hands
      expect(stalled.readableWhileStalled).toBe(false)
      const st = stalled.stats as Stats
      expect(st.received).toBe(256)
      expect(st.kernelDrops + st.fillRingEmpty).toBeGreaterThan(0)
      await r.event('released')
      await startPeer(ns, { role: 'tx', ...txOn, count: 100, seqStart: 100_000, burst: 8, pace: 10 }).done
      expect((await r.event('phase2')).got).toBe(100)
    } finally {
      r.kill()
    }
  })

  it('hands zero-copy UMEM tokens to a Worker', async () => {
    const { rx, rxEvent } = await runPair(ns, { ...rxOn, count: 500, how: 'worker' }, { ...txOn, count: 500 })
    expect(rx.ours).toBe(500)
    // (The pool's free count is no measure here: the fill ring takes buffers back as soon as they are released.)
    expect(await rxEvent('worker')).toMatchObject({ checked: 500, bad: 0 })
  })

  it.skipIf(!havePcap)('runs a BPF filter string on each frame (user space: XSKs have no socket filter)', async () => {
    const { rx } = await runPair(
      ns,
      { ...rxOn, count: 125, flags: { filter: 'ether[21] & 3 = 0' } },
      { ...txOn, count: 500 },
    )
    expect(rx).toMatchObject({ ours: 125, unique: 125, corrupt: 0, min: 0, max: 496 })
    expect((rx.stats as Stats).filtered).toBeGreaterThanOrEqual(375 - 3)
  })

  it('XDP_ZEROCOPY on veth is EOPNOTSUPP (errno 95), typed', async () => {
    const r = startPeer(ns, { role: 'rx', ...rxOn, count: 1, flags: { bindFlags: 4 } })
    await expect(r.ready).rejects.toThrow(/XDP_ZEROCOPY needs driver support.*(EOPNOTSUPP|ENOTSUP)/) // errno 95, either name
    expect(xdpOnLink(ns, 'a1')).toBeNull()
  })
})

describe.skipIf(!probe.ok)(`af_xdp on a two-queue veth (${probe.reason})`, () => {
  let ns: Netns
  beforeAll(() => {
    ns = createNetns({ queues: 2 })
  })
  afterAll(() => ns?.destroy())

  it('two queues share one program; a queue without a socket passes its frames to the stack', async () => {
    const r = startPeer(ns, { role: 'queues', iface: 'a1', queues: [1], afPacket: true, count: 1000, timeoutMs: 8000 })
    try {
      const ready = await r.ready
      expect(ready.attachments).toEqual([{ ifindex: expect.any(Number), mode: 'skb', queues: [1] }])
      await startPeer(ns, { role: 'tx', backend: 'af_packet', iface: 'a0', count: 1000 }).done
      const done = await r.done
      const [xsk1, afp] = done.per as number[]
      // Every frame exactly once: redirected on queue 1, or passed (XDP_PASS) on queue 0 to the af_packet socket.
      expect(done.unique).toBe(1000)
      expect(xsk1 + afp).toBe(1000)
      expect(afp).toBeGreaterThan(0)
      expect(done.attachmentsAfter).toEqual([])
    } finally {
      r.kill()
    }
    const both = startPeer(ns, { role: 'queues', iface: 'a1', queues: [0, 1], count: 500, timeoutMs: 8000 })
    try {
      const ready = await both.ready
      expect(ready.attachments).toEqual([{ ifindex: expect.any(Number), mode: 'skb', queues: [0, 1] }])
      await startPeer(ns, { role: 'tx', backend: 'af_packet', iface: 'a0', count: 500 }).done
      expect((await both.done).unique).toBe(500)
    } finally {
      both.kill()
    }
  })
})
