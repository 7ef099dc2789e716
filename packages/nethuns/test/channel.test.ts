// The channel API: pusher/popper over a Context (no network), and createWithChannel feeding a Worker in a netns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Context, channelFor, PacketBatch } from '../src/index.js'
import { createNetns, type Netns, probeNetns, startPeer } from './netns.js'

describe('channel over a Context', () => {
  it('moves payload batches zero-copy, gives a full batch back, refuses foreign payloads, ends after close', () => {
    const ctx = Context.create(128, 64)
    const { pusher, popper } = channelFor(ctx, { batchSize: 4, capacity: 2 })
    const batch = () =>
      Array.from({ length: 4 }, (_, i) => {
        const p = ctx.pool.allocPayload(8)
        p.bytes.fill(i + 1)
        return p
      })
    const a = batch()
    const b = batch()
    expect(pusher.push(a)).toBe(true)
    expect(a.every((p) => p.released)).toBe(true) // handed off
    expect(pusher.push(b)).toBe(true)
    const c = batch()
    expect(pusher.push(c)).toBe(false) // full: still ours
    expect(c.every((p) => !p.released)).toBe(true)
    const foreign = Context.create(128, 8).pool.allocPayload(4)
    expect(() => pusher.push([foreign])).toThrow(/Wrong payload/)
    const got = popper.tryPop()!
    expect(got).toHaveLength(4)
    expect(got.map((p) => p.bytes[0])).toEqual([1, 2, 3, 4])
    expect(got[0].bytes).toHaveLength(8)
    for (const p of got) p.release()
    expect(pusher.push(c)).toBe(true)
    pusher.close()
    expect(popper.tryPop()).toHaveLength(4)
    for (const p of popper.pop(0)!) p.release()
    for (const p of popper.tryPop() ?? []) p.release()
    expect(popper.tryPop()).toBeNull()
    expect(() => pusher.push(batch())).toThrow(/closed/)
  })

  it('pushBatch hands a PacketBatch over without objects per packet', () => {
    const ctx = Context.create(64, 32)
    const { pusher, popper } = channelFor(ctx, { batchSize: 8 })
    const pb = new PacketBatch(8)
    pb.bindTo(ctx, () => ({}) as never)
    for (let i = 0; i < 5; i++) {
      pb.descs[i] = ctx.pool.alloc()
      pb.meta[i * 8] = 10 + i // caplen
    }
    pb.count = 5
    pb.take(2) // taken packets stay out
    expect(pusher.pushBatch(pb)).toBe(true)
    expect(pb.count).toBe(0)
    const got = popper.tryPop()!
    expect(got.map((p) => p.len)).toEqual([10, 11, 13, 14])
  })
})

const probe = probeNetns()
describe.skipIf(!probe.ok)(`createWithChannel in a netns (${probe.reason})`, () => {
  let ns: Netns
  beforeAll(() => {
    ns = createNetns()
  })
  afterAll(() => ns?.destroy())

  it.each(['af_packet', 'af_xdp'])('%s socket → pusher → Worker popper', async (backend) => {
    const r = startPeer(ns, {
      role: 'channel',
      backend,
      iface: 'a1',
      queue: backend === 'af_xdp' ? 0 : null,
      count: 2000,
    })
    try {
      await r.ready
      await startPeer(ns, { role: 'tx', backend: 'af_packet', iface: 'a0', count: 2000 }).done
      const done = await r.done
      expect(done).toMatchObject({ pushed: 2000, ok: 2000, bad: 0 })
    } finally {
      r.kill()
    }
  })
})
