// af_packet → af_packet over a veth pair inside a namespace of our own: byte equality, counts, kernel statistics,
// every receive style, TX styles, fanout, promiscuous membership, the direction, user-space filters, payloads
// held until the Context runs dry (backpressure, kernel drops) and released again, tokens consumed in a Worker.
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { havePcap } from '../src/index.js'
import { createNetns, type Netns, probeNetns, startPeer } from './netns.js'
import { runPair, type Stats } from './pair.js'

const probe = probeNetns()

describe.skipIf(!probe.ok)(`af_packet over veth in a netns (${probe.reason})`, () => {
  let ns: Netns
  beforeAll(() => {
    ns = createNetns()
  })
  afterAll(() => ns?.destroy())

  const base = { backend: 'af_packet', timeoutMs: 6000 }
  const rxOn = { ...base, iface: 'a1' }
  const txOn = { ...base, iface: 'a0' }

  it('delivers every frame byte for byte (async iterator ← send/flush)', async () => {
    const { rx, tx } = await runPair(ns, { ...rxOn, count: 2000 }, { ...txOn, count: 2000, size: 64 })
    expect(tx.sent).toBe(2000)
    expect((tx.stats as Stats).sent).toBe(2000)
    expect(rx).toMatchObject({ ours: 2000, unique: 2000, corrupt: 0, dup: 0, min: 0, max: 1999 })
    const st = rx.stats as Stats
    expect(st.received).toBeGreaterThanOrEqual(2000)
    expect(st.kernelDrops).toBe(0)
    expect(st.kernelSeen).toBe(st.received)
  })

  it('receives in caller-owned batches, 1500-byte frames, zero-copy TX (reserveTx/commitTx)', async () => {
    const { rx, tx } = await runPair(
      ns,
      { ...rxOn, count: 500, how: 'batch', batch: 32 },
      { ...txOn, count: 500, size: 1500, how: 'zerocopy', flags: { qdiscBypass: true } },
    )
    expect(tx.sent).toBe(500)
    expect(rx).toMatchObject({ ours: 500, unique: 500, corrupt: 0 })
  })

  it("drains on 'readable' events", async () => {
    const { rx } = await runPair(ns, { ...rxOn, count: 300, how: 'events' }, { ...txOn, count: 300, size: 100 })
    expect(rx).toMatchObject({ ours: 300, unique: 300, corrupt: 0 })
  })

  it('truncates frames longer than the Context buffer and says so', async () => {
    // bufferSize 256: 1000-byte frames arrive cut (checkFrame sees a size mismatch), metadata keeps the wire length.
    const { rx } = await runPair(
      ns,
      { ...rxOn, count: 50, flags: { bufferSize: 256, bufferCount: 256 } },
      { ...txOn, count: 50, size: 1000 },
    )
    expect(rx.ours).toBe(50)
    expect(rx.corrupt).toBe(50)
  })

  it('spreads one interface over a fanout group (lb): every frame once, both sockets busy', async () => {
    const { rx, rxEvent } = await runPair(
      ns,
      { ...rxOn, count: 1000, how: 'fanout', sockets: 2, flags: { fanout: { group: 4242, mode: 'lb' } } },
      { ...txOn, count: 1000 },
    )
    expect(rx).toMatchObject({ ours: 1000, unique: 1000, dup: 0 })
    const per = (await rxEvent('fanout')).per as number[]
    expect(per).toHaveLength(2)
    expect(per[0] + per[1]).toBe(1000)
    expect(per[0]).toBeGreaterThan(0)
    expect(per[1]).toBeGreaterThan(0)
  })

  it('applies a user-space filter: 0 drops, < 0 delivers the header only', async () => {
    const { rx, rxEvent } = await runPair(
      ns,
      { ...rxOn, count: 300, how: 'virtual', filterFnKind: 'tri' },
      { ...txOn, count: 400, size: 80 },
    )
    // 400 sent: 100 dropped (seq % 4 == 1), 100 virtual, 200 delivered.
    expect((await rxEvent('virtual')).virtuals).toBe(100)
    expect(rx.ours).toBe(300)
    expect(rx.unique).toBe(200)
    expect(rx.corrupt).toBe(0)
    expect((rx.stats as Stats).filtered).toBe(100)
  })

  it('holding payloads drains the Context, then the kernel drops; releasing resumes', async () => {
    const r = startPeer(ns, {
      role: 'rx',
      ...rxOn,
      how: 'hold-stall',
      count: 1e9,
      phase2Start: 100_000,
      phase2Count: 100,
      timeoutMs: 10_000,
      flags: { bufferCount: 128, batchSize: 32, blockSize: 4096, numBlocks: 2, timeoutMs: 2 },
    })
    try {
      await r.ready
      const t1 = startPeer(ns, { role: 'tx', ...txOn, count: 3000, burst: 16, pace: 1 })
      await t1.done
      const stalled = await r.event('stalled')
      expect(stalled.held).toBe(128) // every buffer of the Context
      expect(stalled.available).toBe(0)
      expect(stalled.readableWhileStalled).toBe(false) // recv() gives nothing while all buffers are held
      const st = stalled.stats as Stats
      expect(st.received).toBe(128)
      expect(st.kernelDrops).toBeGreaterThan(0) // the ring filled up behind the held payloads
      await r.event('released')
      const t2 = startPeer(ns, { role: 'tx', ...txOn, count: 100, seqStart: 100_000, burst: 4, pace: 25 })
      await t2.done
      // Receiving resumes, and nothing is lost silently: every frame sent after the release either arrives or is
      // counted by the kernel as a drop (a receiver descheduled on a loaded machine can fall behind its small ring).
      const phase2 = await r.event('phase2')
      expect(phase2.got).toBeGreaterThan(0)
      expect(100 - (phase2.got as number)).toBeLessThanOrEqual(phase2.drops as number) // each missing frame is a counted drop
      expect((await r.done).corrupt).toBe(0)
    } finally {
      r.kill()
    }
  })

  it.skipIf(!havePcap)('attaches a BPF filter string in the kernel (SO_ATTACH_FILTER)', async () => {
    // Even sequence numbers only: the low byte of the u32 seq at offset 18 is at 21.
    const { rx } = await runPair(
      ns,
      { ...rxOn, count: 250, flags: { filter: 'ether proto 0x88b5 and ether[21] & 1 = 0' } },
      { ...txOn, count: 500 },
    )
    expect(rx).toMatchObject({ ours: 250, unique: 250, corrupt: 0, foreign: 0, min: 0, max: 498 })
    const st = rx.stats as Stats
    expect(st.kernelSeen).toBe(250) // the kernel counts only what passed the filter
    expect(st.kernelDrops).toBe(0)
  })

  it('direction "out" delivers the frames this host sends on the interface', async () => {
    const { rx } = await runPair(
      ns,
      { ...base, iface: 'a0', count: 200, flags: { direction: 'out' } },
      { ...txOn, count: 200 },
    )
    expect(rx).toMatchObject({ ours: 200, unique: 200, corrupt: 0 })
  })

  it('promiscuous membership lasts as long as the socket', async () => {
    const promiscuity = (): number =>
      Number(
        /promiscuity (\d+)/.exec(
          execFileSync('ip', ['-n', ns.name, '-d', 'link', 'show', 'a1'], { encoding: 'utf8' }),
        )?.[1],
      )
    expect(promiscuity()).toBe(0)
    const r = startPeer(ns, { role: 'rx', ...rxOn, count: 10, flags: { promiscuous: true } })
    try {
      await r.ready
      expect(promiscuity()).toBe(1)
      const t = startPeer(ns, { role: 'tx', ...txOn, count: 10 })
      await t.done
      expect((await r.done).ours).toBe(10)
      expect(promiscuity()).toBe(0)
    } finally {
      r.kill()
    }
  })

  it('hands tokens to a Worker that consumes them in the shared Context', async () => {
    const { rx, rxEvent } = await runPair(ns, { ...rxOn, count: 500, how: 'worker' }, { ...txOn, count: 500 })
    expect(rx.ours).toBe(500)
    expect(await rxEvent('worker')).toMatchObject({ checked: 500, bad: 0, poolBack: true })
  })
})
