import { RingError, SPSC_DATA_OFFSET, type SpscDescriptor, SpscRing } from '@x/ring'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { spinUntil, startWorker } from './helpers.js'

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    if (e instanceof RingError) return e.code
    throw e
  }
  return undefined
}

const value = (r: number, w: number) => (Math.imul(r, 0x9e3779b1) + w) >>> 0
const NOT_EMPTY_WAITERS = 49
const NOT_FULL_WAITERS = 65

describe('SpscRing: single thread', () => {
  it('is FIFO, bounded, and reports full and empty without throwing', () => {
    const r = new SpscRing({ capacity: 4 })
    expect(r.capacity).toBe(4)
    expect(r.tryPop()).toBe(-1)
    for (let i = 0; i < 4; i++) expect(r.tryPush(i * 1000)).toBe(true)
    expect(r.tryPush(9)).toBe(false)
    expect(r.size).toBe(4)
    expect(r.free).toBe(0)
    expect([r.tryPop(), r.tryPop()]).toEqual([0, 1000])
    expect(r.tryPush(0xffffffff)).toBe(true) // full u32 range
    expect([r.tryPop(), r.tryPop(), r.tryPop(), r.tryPop()]).toEqual([2000, 3000, 0xffffffff, -1])
  })

  it('rounds capacity up to a power of two and validates options', () => {
    expect(new SpscRing({ capacity: 1000 }).capacity).toBe(1024)
    expect(SpscRing.byteLength(1000, 3)).toBe(SPSC_DATA_OFFSET + 1024 * 3 * 4)
    expect(code(() => new SpscRing({ capacity: 0 }))).toBe('ERR_INVALID_ARG')
    expect(code(() => new SpscRing({ capacity: 8, recordWords: 0 }))).toBe('ERR_INVALID_ARG')
    expect(code(() => new SpscRing({ capacity: 8, recordWords: 3 }).tryPush(1))).toBe('ERR_INVALID_ARG')
  })

  it('moves batches across the wrap point and publishes partial batches when short of space', () => {
    const r = new SpscRing({ capacity: 8 })
    const src = Uint32Array.from({ length: 20 }, (_, i) => i + 1)
    const dst = new Uint32Array(20)
    expect(r.pushBatch(src, 6)).toBe(6)
    expect(r.popBatch(dst, 5)).toBe(5)
    expect([...dst.subarray(0, 5)]).toEqual([1, 2, 3, 4, 5])
    expect(r.pushBatch(src, 20, 6)).toBe(7) // 7 free, wraps
    expect(r.pushBatch(src, 1)).toBe(0)
    expect(r.popBatch(dst, 20)).toBe(8)
    expect([...dst.subarray(0, 8)]).toEqual([6, 7, 8, 9, 10, 11, 12, 13])
    // Batches of >= 64 words take the TypedArray.set path, across the wrap too.
    const big = new SpscRing({ capacity: 128 })
    const s2 = Uint32Array.from({ length: 100 }, (_, i) => i)
    const d2 = new Uint32Array(100)
    big.pushBatch(s2, 100)
    big.popBatch(d2, 100)
    expect(big.pushBatch(s2, 100)).toBe(100)
    expect(big.popBatch(d2, 100)).toBe(100)
    expect([...d2]).toEqual([...s2])
  })

  it('carries multi-word records (3-word tokens), from Int32Array sources too', () => {
    const r = new SpscRing({ capacity: 4, recordWords: 3 })
    const src = Int32Array.from([1, 2, 3, -1, 5, 6])
    expect(r.pushBatch(src, 2)).toBe(2)
    const dst = new Uint32Array(6)
    expect(r.popBatch(dst, 4)).toBe(2)
    expect([...dst]).toEqual([1, 2, 3, 0xffffffff, 5, 6])
    expect(r.pushBatch(new Uint32Array(5), 2)).toBe(1) // only one whole record in the source
  })

  it('matches a bounded FIFO model (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 })), { maxLength: 100 }),
        (capLog, words, ops) => {
          const cap = 1 << capLog
          const r = new SpscRing({ capacity: cap, recordWords: words })
          const model: number[] = []
          let next = 1
          for (const [push, n] of ops) {
            if (push) {
              const src = new Uint32Array(n * words)
              for (let i = 0; i < src.length; i++) src[i] = next + i
              const k = r.pushBatch(src, n)
              expect(k).toBe(Math.min(n, cap - model.length / words))
              for (let i = 0; i < k * words; i++) model.push(src[i])
              next += n * words
            } else {
              const dst = new Uint32Array(n * words)
              const k = r.popBatch(dst, n)
              expect(k).toBe(Math.min(n, model.length / words))
              expect([...dst.subarray(0, k * words)]).toEqual(model.splice(0, k * words))
            }
            expect(r.size).toBe(model.length / words)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('closes: pushes throw ERR_CLOSED, pops drain and then report the end', async () => {
    const r = new SpscRing({ capacity: 4 })
    r.tryPush(7)
    r.close()
    expect(r.closed).toBe(true)
    expect(code(() => r.tryPush(1))).toBe('ERR_CLOSED')
    expect(code(() => r.pushBatch(new Uint32Array(1), 1))).toBe('ERR_CLOSED')
    expect(r.done).toBe(false)
    const dst = new Uint32Array(4)
    expect(r.popBatchWait(dst, 4)).toBe(1)
    expect(r.done).toBe(true)
    expect(r.popBatchWait(dst, 4)).toBe(-1)
    expect(await r.popBatchAsync(dst, 4)).toBe(-1)
    expect(r.pop()).toBe(-1)
    expect(await r.readable()).toBe(true)
  })

  it('times out blocking and async waits on an empty or full ring', async () => {
    const r = new SpscRing({ capacity: 1 })
    const dst = new Uint32Array(1)
    expect(r.pop(5)).toBe(-1)
    expect(r.popBatchWait(dst, 1, 5)).toBe(0)
    expect(await r.readable(5)).toBe(false)
    expect(await r.popBatchAsync(dst, 1, 5)).toBe(0)
    expect(r.push(1)).toBe(true)
    expect(r.push(2, 5)).toBe(false)
    expect(r.waitWritable(1, 0)).toBe(false)
    expect(await r.writable(1, 5)).toBe(false)
    expect(await r.pushBatchAsync(Uint32Array.of(3), 1, 5)).toBe(0)
    expect(code(() => r.waitReadable(-1))).toBe('ERR_INVALID_ARG')
  })

  it('attaches from a descriptor and rejects anything else', () => {
    const r = new SpscRing({ capacity: 16, recordWords: 2 })
    const d = r.share()
    const other = SpscRing.attach(structuredClone(d))
    expect(other.capacity).toBe(16)
    expect(other.recordWords).toBe(2)
    r.pushBatch(Uint32Array.of(1, 2), 1)
    const dst = new Uint32Array(2)
    expect(other.popBatch(dst, 1)).toBe(1)
    expect([...dst]).toEqual([1, 2])
    expect(code(() => SpscRing.attach({ ...d, version: 2 } as unknown as SpscDescriptor))).toBe('ERR_BAD_DESCRIPTOR')
    expect(code(() => SpscRing.attach({ ...d, buffer: new SharedArrayBuffer(1024) }))).toBe('ERR_BAD_DESCRIPTOR')
  })
})

describe('SpscRing: between worker threads', () => {
  it('moves millions of items between two workers with no loss, duplication or reordering', async () => {
    const ring = new SpscRing({ capacity: 1024 })
    const total = 3_000_000
    const consumer = startWorker<{ popped: number; bad: number; sum: number }>('spsc-worker.mjs', {
      mode: 'consume',
      ring: ring.share(),
      maxBatch: 300,
    })
    const producer = startWorker<{ pushed: number; sum: number }>('spsc-worker.mjs', {
      mode: 'produce',
      ring: ring.share(),
      total,
      maxBatch: 256,
    })
    const [p, c] = await Promise.all([producer.result, consumer.result])
    await Promise.all([producer.worker.terminate(), consumer.worker.terminate()])
    expect(p.pushed).toBe(total)
    expect(c).toEqual({ popped: total, bad: 0, sum: p.sum })
  })

  it('moves 3-word records between two workers, the consumer waiting asynchronously', async () => {
    const ring = new SpscRing({ capacity: 256, recordWords: 3 })
    const total = 500_000
    const consumer = startWorker<{ popped: number; bad: number; sum: number }>('spsc-worker.mjs', {
      mode: 'consume',
      ring: ring.share(),
      maxBatch: 64,
      useAsync: true,
    })
    const producer = startWorker<{ pushed: number; sum: number }>('spsc-worker.mjs', {
      mode: 'produce',
      ring: ring.share(),
      total,
      maxBatch: 100,
    })
    const [p, c] = await Promise.all([producer.result, consumer.result])
    await Promise.all([producer.worker.terminate(), consumer.worker.terminate()])
    expect(c).toEqual({ popped: total, bad: 0, sum: p.sum })
  })

  it('main thread: a blocking pop sleeps (Atomics.wait) until a worker pushes', async () => {
    const ring = new SpscRing({ capacity: 8 })
    const w = startWorker<{ pushed: number }>('spsc-worker.mjs', {
      mode: 'pushWhenConsumerSleeps',
      ring: ring.share(),
      values: [42, 43],
    })
    await w.online
    // The worker pushes only once it sees this thread registered as a sleeper, so this pop must sleep and be woken.
    expect(ring.pop()).toBe(42)
    expect(ring.pop()).toBe(43)
    expect((await w.result).pushed).toBe(2)
    await w.worker.terminate()
    expect(Atomics.load(new Int32Array(ring.buffer), NOT_EMPTY_WAITERS)).toBe(0)
  })

  it('main thread: await readable() / popAsync resolve when a worker pushes, and see the close', async () => {
    const ring = new SpscRing({ capacity: 8 })
    const w = startWorker<{ pushed: number }>('spsc-worker.mjs', {
      mode: 'pushWhenConsumerSleeps',
      ring: ring.share(),
      values: [7],
      close: true,
    })
    expect(await ring.readable()).toBe(true)
    expect(await ring.popAsync()).toBe(7)
    const dst = new Uint32Array(8)
    expect(await ring.popBatchAsync(dst, 8)).toBe(-1)
    expect(ring.done).toBe(true)
    await w.result
    await w.worker.terminate()
  })

  it('backpressure: a producer worker blocks on a full ring until the main thread pops', async () => {
    const ring = new SpscRing({ capacity: 4 })
    const total = 50
    const w = startWorker<{ pushed: number; sleptOnFull: boolean }>('spsc-worker.mjs', {
      mode: 'fillAndBlock',
      ring: ring.share(),
      total,
    })
    const ctl = new Int32Array(ring.buffer)
    spinUntil(() => Atomics.load(ctl, NOT_FULL_WAITERS) > 0, 'the producer to sleep on the full ring')
    expect(ring.size).toBe(4)
    const got: number[] = []
    for (;;) {
      const v = ring.pop()
      if (v < 0 && ring.done) break
      if (v >= 0) got.push(v)
    }
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i))
    expect(await w.result).toEqual({ pushed: total, sleptOnFull: true })
    await w.worker.terminate()
  })

  it('backpressure: await writable() on the main thread resolves when a worker drains', async () => {
    const ring = new SpscRing({ capacity: 4 })
    for (let i = 0; i < 4; i++) ring.push(i)
    expect(ring.tryPush(99)).toBe(false)
    const w = startWorker<{ got: number[] }>('spsc-worker.mjs', {
      mode: 'consumeWhenProducerSleeps',
      ring: ring.share(),
    })
    // writable() registers on the not-full doorbell; the worker pops only after it sees that.
    expect(await ring.writable(4)).toBe(true)
    expect(ring.free).toBe(4)
    expect(await ring.pushBatchAsync(Uint32Array.of(4, 5), 2)).toBe(2)
    ring.close()
    const { got } = await w.result
    await w.worker.terminate()
    expect(got).toEqual([0, 1, 2, 3, 4, 5])
    void value
  })
})
