import {
  BufferPool,
  CHANNEL_DATA_OFFSET,
  Channel,
  type ChannelDescriptor,
  Popper,
  Pusher,
  RingError,
  token,
} from '@x/ring'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { startWorker } from './helpers.js'

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    if (e instanceof RingError) return e.code
    throw e
  }
  return undefined
}

describe('Channel: single thread', () => {
  it('queues whole batches, FIFO, and refuses a batch when full (backpressure)', () => {
    const ch = new Channel({ batchSize: 4, capacity: 2, recordWords: 1 })
    const { pusher, popper } = ch
    expect(ch.capacity).toBe(2)
    expect(pusher.tryPush(Uint32Array.of(1, 2, 3), 3)).toBe(true)
    expect(pusher.tryPush(Uint32Array.of(9, 4, 5), 2, 1)).toBe(true)
    expect(pusher.tryPush(Uint32Array.of(6), 1)).toBe(false)
    expect(ch.size).toBe(2)
    const dst = new Uint32Array(4)
    expect(popper.tryPop(dst)).toBe(3)
    expect([...dst.subarray(0, 3)]).toEqual([1, 2, 3])
    expect(pusher.tryPush(Uint32Array.of(6), 1)).toBe(true)
    expect(popper.tryPop(dst)).toBe(2)
    expect([...dst.subarray(0, 2)]).toEqual([4, 5])
    expect(popper.tryPop(dst)).toBe(1)
    expect(dst[0]).toBe(6)
    expect(popper.tryPop(dst)).toBe(0)
  })

  it('validates batches, destinations and options', () => {
    const ch = new Channel({ batchSize: 4, capacity: 2 })
    expect(ch.recordWords).toBe(3)
    expect(Channel.byteLength({ batchSize: 4, capacity: 2 })).toBe(CHANNEL_DATA_OFFSET + 2 * 16 * 4)
    expect(code(() => ch.pusher.tryPush(new Uint32Array(15), 5))).toBe('ERR_INVALID_ARG')
    expect(code(() => ch.pusher.tryPush(new Uint32Array(12), 0))).toBe('ERR_INVALID_ARG')
    expect(code(() => ch.pusher.tryPush(new Uint32Array(5), 2))).toBe('ERR_INVALID_ARG')
    expect(code(() => ch.popper.tryPop(new Uint32Array(11)))).toBe('ERR_INVALID_ARG')
    expect(code(() => ch.pusher.tryPushTokens(Array.from({ length: 5 }, () => token(0, 0, 0))))).toBe('ERR_INVALID_ARG')
    expect(code(() => new Channel({ batchSize: 0 }))).toBe('ERR_INVALID_ARG')
    expect(code(() => new Channel({ recordWords: 2 }).popper.tryPopTokens())).toBe('ERR_INVALID_ARG')
  })

  it('carries tokens, with extra record words zeroed', () => {
    const ch = new Channel({ batchSize: 3, capacity: 4, recordWords: 4 })
    const batch = [token(1, 60, 77), token(2, 1500, 77), token(0xffffffff, 0, 0xfffffffe)]
    expect(ch.pusher.tryPushTokens(batch)).toBe(true)
    expect(ch.popper.tryPopTokens()).toEqual(batch)
    expect(ch.pusher.tryPushTokens([token(5, 5, 5)])).toBe(true)
    const raw = new Uint32Array(12).fill(9)
    expect(ch.popper.tryPop(raw)).toBe(1)
    expect([...raw.subarray(0, 4)]).toEqual([5, 5, 5, 0])
    expect(ch.popper.tryPopTokens()).toEqual([])
  })

  it('matches a bounded FIFO of batches (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(0)), { maxLength: 80 }),
        (batchSize, capLog, ops) => {
          const ch = new Channel({ batchSize, capacity: 1 << capLog, recordWords: 2 })
          const model: number[][] = []
          const dst = new Uint32Array(batchSize * 2)
          let next = 0
          for (const op of ops) {
            if (op > 0) {
              const n = Math.min(op, batchSize)
              const src = Uint32Array.from({ length: n * 2 }, () => next++)
              const ok = ch.pusher.tryPush(src, n)
              expect(ok).toBe(model.length < ch.capacity)
              if (ok) model.push([...src])
            } else {
              const n = ch.popper.tryPop(dst)
              const want = model.shift()
              expect(n).toBe(want === undefined ? 0 : want.length / 2)
              if (want) expect([...dst.subarray(0, n * 2)]).toEqual(want)
            }
            expect(ch.size).toBe(model.length)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('close: pushes throw ERR_CLOSED, poppers drain, then see the end', async () => {
    const ch = new Channel({ batchSize: 2, capacity: 4 })
    ch.pusher.pushTokens([token(1, 1, 1)])
    ch.pusher.pushTokens([token(2, 2, 1), token(3, 3, 1)])
    ch.pusher.close()
    expect(ch.closed).toBe(true)
    expect(code(() => ch.pusher.tryPushTokens([token(4, 4, 1)]))).toBe('ERR_CLOSED')
    await expect(ch.pusher.pushTokensAsync([token(4, 4, 1)])).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    expect(ch.done).toBe(false)
    const seen: number[] = []
    for await (const batch of ch.popper.tokens()) seen.push(...batch.map((t) => t.desc))
    expect(seen).toEqual([1, 2, 3])
    expect(ch.popper.done).toBe(true)
    expect(ch.popper.tryPopTokens()).toBeNull()
    expect(ch.popper.popTokens()).toBeNull()
    expect(await ch.popper.popTokensAsync()).toBeNull()
    expect(ch.popper.pop(new Uint32Array(6))).toBe(-1)
  })

  it('iterates raw batches as fresh arrays', async () => {
    const ch = new Channel({ batchSize: 2, capacity: 4, recordWords: 1 })
    await ch.pusher.pushAsync(Uint32Array.of(1, 2), 2)
    await ch.pusher.pushAsync(Uint32Array.of(3), 1)
    ch.close()
    const batches: number[][] = []
    for await (const b of ch.popper) batches.push([...b])
    expect(batches).toEqual([[1, 2], [3]])
  })

  it('times out waits on an empty or full channel', async () => {
    const ch = new Channel({ batchSize: 1, capacity: 1, recordWords: 1 })
    expect(ch.capacity).toBe(2) // at least 2 slots
    const dst = new Uint32Array(1)
    expect(ch.popper.pop(dst, 5)).toBe(0)
    expect(await ch.popper.popAsync(dst, 5)).toBe(0)
    expect(await ch.popper.readable(5)).toBe(false)
    expect(ch.pusher.push(Uint32Array.of(1), 1)).toBe(true)
    expect(ch.pusher.push(Uint32Array.of(1), 1)).toBe(true)
    expect(ch.pusher.push(Uint32Array.of(2), 1, 5)).toBe(false)
    expect(await ch.pusher.pushAsync(Uint32Array.of(2), 1, 5)).toBe(false)
    expect(await ch.pusher.writable(5)).toBe(false)
    expect(ch.pusher.waitWritable(0)).toBe(false)
    expect(ch.popper.waitReadable(0)).toBe(true)
  })

  it('attaches any end from a descriptor and rejects anything else', () => {
    const ch = new Channel({ batchSize: 8, capacity: 8 })
    const d = structuredClone(ch.share())
    const pusher = Pusher.attach(d)
    const popper = Popper.attach(d)
    const again = Channel.attach(d)
    expect(again.batchSize).toBe(8)
    expect(pusher.share().kind).toBe('x-ring/channel')
    pusher.pushTokens([token(1, 2, 3)])
    expect(popper.tryPopTokens()).toEqual([token(1, 2, 3)])
    expect(code(() => Popper.attach({ ...d, kind: 'x-ring/spsc' } as unknown as ChannelDescriptor))).toBe(
      'ERR_BAD_DESCRIPTOR',
    )
    expect(code(() => Pusher.attach({ ...d, buffer: new SharedArrayBuffer(4096) }))).toBe('ERR_BAD_DESCRIPTOR')
  })
})

describe('Channel: between worker threads', () => {
  it('two pusher workers into one popper (main thread, async iterator): every token once, each pusher in order', async () => {
    const ch = new Channel({ batchSize: 32, capacity: 8 })
    const total = 100_000
    const pushers = [1, 2].map((id) =>
      startWorker<{ pushed: number }>('channel-worker.mjs', { mode: 'pushTokens', channel: ch.share(), id, total }),
    )
    const closeWhenDone = Promise.all(pushers.map((p) => p.result)).then(() => ch.close())
    const next = new Map<number, number>([
      [1, 0],
      [2, 0],
    ])
    let count = 0
    let bad = 0
    for await (const batch of ch.popper.tokens()) {
      for (const t of batch) {
        if (t.desc !== next.get(t.poolId) || t.len !== t.desc % 1500) bad++
        next.set(t.poolId, t.desc + 1)
        count++
      }
    }
    await closeWhenDone
    await Promise.all(pushers.map((p) => p.worker.terminate()))
    expect(bad).toBe(0)
    expect(count).toBe(2 * total)
    expect([...next.values()]).toEqual([total, total])
  })

  it('one pusher (main thread, async backpressure) to two popper workers: every token exactly once', async () => {
    const ch = new Channel({ batchSize: 16, capacity: 4 })
    const poppers = [false, true].map((iterate) =>
      startWorker<{ seen: number[] }>('channel-worker.mjs', { mode: 'popTokens', channel: ch.share(), iterate }),
    )
    const total = 20_000
    let fullSeen = false
    for (let seq = 0; seq < total; ) {
      const batch = Array.from({ length: Math.min(16, total - seq) }, (_, i) => token(seq + i, 0, 9))
      if (!ch.pusher.tryPushTokens(batch)) {
        fullSeen = true
        expect(await ch.pusher.pushTokensAsync(batch)).toBe(true)
      }
      seq += batch.length
    }
    ch.close()
    const results = await Promise.all(poppers.map((p) => p.result))
    await Promise.all(poppers.map((p) => p.worker.terminate()))
    const all = results.flatMap((r) => r.seen).sort((a, b) => a - b)
    expect(all.length).toBe(total)
    expect(all.every((v, i) => v === i)).toBe(true)
    for (const r of results) {
      // Each popper sees its share in push order.
      expect(r.seen.every((v, i) => i === 0 || v > r.seen[i - 1])).toBe(true)
    }
    expect(fullSeen).toBe(true)
  })

  it('moves pool buffers zero-copy: a worker fills and pushes tokens, the main thread reads and releases', async () => {
    const pool = new BufferPool({ bufSize: 256, count: 64 })
    const ch = new Channel({ batchSize: 16, capacity: 4 })
    const total = 20_000
    const w = startWorker<{ pushed: number }>('channel-worker.mjs', {
      mode: 'poolProducer',
      channel: ch.share(),
      pool: pool.share(),
      total,
    })
    let seq = 0
    let bad = 0
    for await (const batch of ch.popper.tokens()) {
      for (const t of batch) {
        const p = pool.packet(t)
        if (p.len !== 1 + (seq % 256) || p.bytes.some((b) => b !== (seq & 0xff))) bad++
        p.release()
        seq++
      }
    }
    expect((await w.result).pushed).toBe(total)
    await w.worker.terminate()
    expect(bad).toBe(0)
    expect(seq).toBe(total)
    expect(pool.available).toBe(64)
  })
})
