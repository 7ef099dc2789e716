import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { MessageChannel, Worker } from 'node:worker_threads'
import {
  BUFFER_ALLOCATED,
  BUFFER_FREE,
  BUFFER_RESERVED,
  BufferPool,
  isRingError,
  isToken,
  type PoolDescriptor,
  RingError,
  type Token,
  token,
} from '@x/ring'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { runWorker, spinUntil, startWorker } from './helpers.js'

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    if (e instanceof RingError) return e.code
    throw e
  }
  return undefined
}

describe('BufferPool: single thread', () => {
  it('allocates every buffer once, then reports empty', () => {
    const pool = new BufferPool({ bufSize: 64, count: 5 })
    expect(pool.shared).toBe(true)
    expect(pool.available).toBe(5)
    const got = [pool.alloc(), pool.alloc(), pool.alloc(), pool.alloc(), pool.alloc()]
    expect(new Set(got).size).toBe(5)
    for (const d of got) expect(d >= 0 && d < 5).toBe(true)
    expect(pool.available).toBe(0)
    expect(pool.tryAlloc()).toBe(-1)
    expect(code(() => pool.alloc())).toBe('ERR_POOL_EMPTY')
    pool.release(got[2])
    expect(pool.available).toBe(1)
    expect(pool.alloc()).toBe(got[2])
  })

  it('detects double release and bad descriptors', () => {
    const pool = new BufferPool({ bufSize: 16, count: 4 })
    const d = pool.alloc()
    pool.release(d)
    expect(code(() => pool.release(d))).toBe('ERR_DOUBLE_RELEASE')
    expect(code(() => pool.release(4))).toBe('ERR_BAD_DESC')
    expect(code(() => pool.release(-1))).toBe('ERR_BAD_DESC')
    expect(code(() => pool.release(1.5))).toBe('ERR_BAD_DESC')
    // A buffer that was never allocated is "not allocated" too.
    const free = [0, 1, 2, 3].find((x) => pool.state(x) === BUFFER_FREE)
    expect(code(() => pool.release(free as number))).toBe('ERR_DOUBLE_RELEASE')
    expect(pool.available).toBe(4)
  })

  it('validates options', () => {
    expect(code(() => new BufferPool({ bufSize: 0, count: 1 }))).toBe('ERR_INVALID_ARG')
    expect(code(() => new BufferPool({ bufSize: 1, count: 0 }))).toBe('ERR_INVALID_ARG')
    expect(code(() => new BufferPool({ bufSize: 8, count: 4, buffer: new ArrayBuffer(31) }))).toBe('ERR_INVALID_ARG')
    expect(code(() => new BufferPool({ bufSize: 8, count: 4, buffer: new ArrayBuffer(40), byteOffset: 9 }))).toBe(
      'ERR_INVALID_ARG',
    )
    expect(code(() => new BufferPool({ bufSize: 8, count: 4, reserved: 4 }))).toBe('ERR_INVALID_ARG')
  })

  it('gives distinct pool ids, and keeps a caller-chosen one', () => {
    const ids = new Set(Array.from({ length: 100 }, () => new BufferPool({ bufSize: 1, count: 1 }).poolId))
    expect(ids.size).toBe(100)
    expect(ids.has(0)).toBe(false)
    expect(new BufferPool({ bufSize: 1, count: 1, poolId: 0xfeedbeef }).poolId).toBe(0xfeedbeef)
  })

  it('wraps a caller-provided buffer at an offset (e.g. an mmap region)', () => {
    const mem = new SharedArrayBuffer(4096 + 8 * 256)
    const pool = new BufferPool({ buffer: mem, byteOffset: 4096, bufSize: 256, count: 8 })
    expect(pool.buffer).toBe(mem)
    const d = pool.alloc()
    expect(pool.offsetOf(d)).toBe(4096 + d * 256)
    pool.view(d).fill(0xab)
    const raw = new Uint8Array(mem, 4096 + d * 256, 256)
    expect(raw.every((b) => b === 0xab)).toBe(true)
    expect(new Uint8Array(mem, 0, 4096).every((b) => b === 0)).toBe(true)
    // A non-shared buffer works but cannot be shared.
    const local = new BufferPool({ buffer: new ArrayBuffer(100), bufSize: 10, count: 10 })
    expect(local.shared).toBe(false)
    expect(local.alloc()).toBeGreaterThanOrEqual(0)
    expect(code(() => local.share())).toBe('ERR_NOT_SHARED')
    expect(new BufferPool({ bufSize: 4, count: 2, shared: false }).shared).toBe(false)
  })

  it('reserves low descriptors and can start with every buffer allocated', () => {
    const pool = new BufferPool({ bufSize: 8, count: 6, reserved: 2 })
    expect(pool.available).toBe(4)
    expect(pool.state(0)).toBe(BUFFER_RESERVED)
    const all = [pool.alloc(), pool.alloc(), pool.alloc(), pool.alloc()].sort()
    expect(all).toEqual([2, 3, 4, 5])
    expect(code(() => pool.release(1))).toBe('ERR_BAD_DESC')
    expect(code(() => pool.packet(token(0, 0, pool.poolId)))).toBe('ERR_BAD_DESC')

    const owned = new BufferPool({ bufSize: 8, count: 3, startAllocated: true })
    expect(owned.available).toBe(0)
    expect(owned.state(1)).toBe(BUFFER_ALLOCATED)
    owned.release(1)
    expect(owned.alloc()).toBe(1)
  })

  it('allocates and releases in batches', () => {
    const pool = new BufferPool({ bufSize: 8, count: 10 })
    const a = new Uint32Array(16)
    expect(pool.allocBatch(a, 4)).toBe(4)
    expect(pool.allocBatch(a.subarray(4), 16)).toBe(6)
    expect(pool.allocBatch(a, 3)).toBe(0)
    expect(new Set(a.subarray(0, 10)).size).toBe(10)
    pool.releaseBatch(a, 10)
    expect(pool.available).toBe(10)
    // A batch with bad entries releases the good ones, then throws the first error.
    const b = new Uint32Array(3)
    pool.allocBatch(b, 2)
    b[2] = 99
    expect(code(() => pool.releaseBatch(b))).toBe('ERR_BAD_DESC')
    expect(pool.available).toBe(10)
  })

  it('wraps its free list many times (positions are free-running counters)', () => {
    const pool = new BufferPool({ bufSize: 1, count: 3 })
    for (let i = 0; i < 10_000; i++) pool.release(pool.alloc())
    expect(pool.available).toBe(3)
  })

  it('behaves like a set of free buffers (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.constantFrom('alloc', 'release', 'double', 'batchAlloc', 'batchRelease'), fc.nat()), {
          maxLength: 200,
        }),
        (count, ops) => {
          const pool = new BufferPool({ bufSize: 4, count, shared: false })
          const held: number[] = []
          const freed = new Set<number>(Array.from({ length: count }, (_, i) => i))
          for (const [op, k] of ops) {
            if (op === 'alloc') {
              const d = pool.tryAlloc()
              if (freed.size === 0) expect(d).toBe(-1)
              else {
                expect(freed.delete(d)).toBe(true)
                held.push(d)
              }
            } else if (op === 'release' && held.length > 0) {
              const [d] = held.splice(k % held.length, 1)
              pool.release(d)
              freed.add(d)
            } else if (op === 'double' && freed.size > 0) {
              const d = [...freed][k % freed.size]
              expect(code(() => pool.release(d))).toBe('ERR_DOUBLE_RELEASE')
            } else if (op === 'batchAlloc') {
              const dst = new Uint32Array((k % 5) + 1)
              const n = pool.allocBatch(dst)
              expect(n).toBe(Math.min(dst.length, freed.size))
              for (const d of dst.subarray(0, n)) {
                expect(freed.delete(d)).toBe(true)
                held.push(d)
              }
            } else if (op === 'batchRelease' && held.length > 0) {
              const n = (k % held.length) + 1
              const out = held.splice(0, n)
              pool.releaseBatch(Uint32Array.from(out))
              for (const d of out) freed.add(d)
            }
            expect(pool.available).toBe(freed.size)
          }
          for (let d = 0; d < count; d++) expect(pool.isAllocated(d)).toBe(!freed.has(d))
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('Token and Payload', () => {
  it('turns tokens into payloads over the buffer bytes', () => {
    const pool = new BufferPool({ bufSize: 32, count: 4 })
    const p = pool.allocPayload(10)
    expect(p.len).toBe(10)
    expect(p.bytes.length).toBe(10)
    p.bytes.set([1, 2, 3])
    const t = p.intoToken()
    expect(t).toEqual({ desc: p.desc, len: 10, poolId: pool.poolId })
    expect(Object.isFrozen(t)).toBe(true)
    expect(code(() => p.bytes)).toBe('ERR_RELEASED')
    p[Symbol.dispose]() // a no-op: the token owns the buffer now
    expect(pool.isAllocated(t.desc)).toBe(true)
    const q = pool.packet(t)
    expect([...q.bytes.subarray(0, 3)]).toEqual([1, 2, 3])
    expect(q.bytes.buffer).toBe(pool.buffer) // zero-copy
    q.release()
    expect(q.released).toBe(true)
    expect(pool.available).toBe(4)
  })

  it('rejects foreign, malformed and stale tokens with typed errors', () => {
    const a = new BufferPool({ bufSize: 16, count: 2 })
    const b = new BufferPool({ bufSize: 16, count: 2 })
    const t = a.allocPayload(4).intoToken()
    expect(a.checkToken(t)).toBe(true)
    expect(b.checkToken(t)).toBe(false)
    expect(code(() => b.packet(t))).toBe('ERR_FOREIGN_POOL')
    expect(code(() => b.releaseToken(t))).toBe('ERR_FOREIGN_POOL')
    expect(code(() => a.packet({ ...t, len: 17 }))).toBe('ERR_BAD_LENGTH')
    expect(code(() => a.packet({ ...t, len: -1 }))).toBe('ERR_BAD_LENGTH')
    expect(code(() => a.packet({ ...t, desc: 2 }))).toBe('ERR_BAD_DESC')
    const other = t.desc === 0 ? 1 : 0
    expect(code(() => a.packet({ ...t, desc: other }))).toBe('ERR_STALE_TOKEN')
    a.releaseToken(t)
    expect(code(() => a.packet(t))).toBe('ERR_STALE_TOKEN')
    expect(code(() => a.releaseToken(t))).toBe('ERR_DOUBLE_RELEASE')
  })

  it('throws on double release of a payload, even after its buffer was reused', () => {
    const pool = new BufferPool({ bufSize: 8, count: 1 })
    const p = pool.allocPayload()
    p.release()
    const q = pool.allocPayload() // same buffer, new owner
    expect(q.desc).toBe(p.desc)
    expect(code(() => p.release())).toBe('ERR_DOUBLE_RELEASE')
    expect(pool.isAllocated(q.desc)).toBe(true) // q's buffer was not freed by p
    q.release()
  })

  it('releases on dispose, once', () => {
    const pool = new BufferPool({ bufSize: 8, count: 2 })
    {
      using p = pool.allocPayload(3)
      expect(pool.available).toBe(1)
      expect(p.bytes.length).toBe(3)
    }
    expect(pool.available).toBe(2)
    const q = pool.allocPayload()
    q.release()
    q[Symbol.dispose]()
    expect(pool.available).toBe(2)
    expect(code(() => pool.allocPayload(9))).toBe('ERR_BAD_LENGTH')
  })

  it('warns about a payload collected without release, and never releases it', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const pool = new BufferPool({ bufSize: 8, count: 2, detectLeaks: true })
    const warnings: Array<Error & { code?: string }> = []
    const onWarning = (w: Error & { code?: string }) => warnings.push(w)
    const printers = process.listeners('warning') // Node's own printer: keep the expected warning off stderr
    process.removeAllListeners('warning')
    process.on('warning', onWarning)
    try {
      pool.allocPayload().release() // released: no warning
      ;(() => {
        pool.allocPayload() // dropped on the floor
      })()
      for (let i = 0; i < 20 && warnings.length === 0; i++) {
        gc()
        await new Promise((r) => setTimeout(r, 5))
      }
    } finally {
      process.off('warning', onWarning)
      for (const l of printers) process.on('warning', l)
    }
    expect(warnings.map((w) => w.code)).toEqual(['X_RING_PAYLOAD_LEAK'])
    expect(pool.available).toBe(1) // the leaked buffer stays allocated
  })

  it('survives postMessage unchanged (structured clone)', async () => {
    const t = token(3, 1500, 0x12345678)
    const { port1, port2 } = new MessageChannel()
    const got = new Promise<Token>((resolve) => port2.once('message', resolve))
    port1.postMessage([t])
    const [back] = (await got) as unknown as Token[]
    port1.close()
    port2.close()
    expect(back).toEqual(t)
    expect(isToken(back)).toBe(true)
    expect(isToken({ desc: 1, len: 2 })).toBe(false)
  })

  it('round-trips tokens through a worker that reads and releases them', async () => {
    const pool = new BufferPool({ bufSize: 64, count: 16 })
    const other = new BufferPool({ bufSize: 64, count: 1 })
    const w = new Worker(new URL('./fixtures/pool-worker.mjs', import.meta.url), {
      workerData: { mode: 'payloads', pool: pool.share() },
    })
    const messages: unknown[] = []
    const next = () =>
      new Promise<unknown>((resolve, reject) => {
        if (messages.length > 0) return resolve(messages.shift())
        w.once('message', resolve)
        w.once('error', reject)
      })
    expect(await next()).toEqual({ ready: true })
    let expected = 0
    const tokens: Token[] = []
    for (let i = 0; i < 16; i++) {
      const p = pool.allocPayload(1 + i)
      p.bytes.fill(i + 1)
      expected += (i + 1) * (1 + i)
      tokens.push(p.intoToken())
    }
    w.postMessage(tokens.slice(0, 8))
    w.postMessage(tokens.slice(8))
    w.postMessage([other.allocPayload().intoToken()])
    w.postMessage('done')
    const result = (await next()) as { sum: number; count: number; foreign: string[] }
    await w.terminate()
    expect(result).toEqual({ sum: expected, count: 16, foreign: ['ERR_FOREIGN_POOL'] })
    expect(pool.available).toBe(16)
  })
})

describe('BufferPool: shared with worker threads', () => {
  it('attach validates descriptors', () => {
    const pool = new BufferPool({ bufSize: 8, count: 4 })
    const d = pool.share()
    const again = BufferPool.attach(d)
    expect(again.poolId).toBe(pool.poolId)
    expect(code(() => BufferPool.attach({ ...d, poolId: d.poolId + 1 }))).toBe('ERR_BAD_DESCRIPTOR')
    expect(code(() => BufferPool.attach({ ...d, kind: 'nope' } as unknown as PoolDescriptor))).toBe(
      'ERR_BAD_DESCRIPTOR',
    )
    expect(code(() => BufferPool.attach(null as unknown as PoolDescriptor))).toBe('ERR_BAD_DESCRIPTOR')
    expect(code(() => BufferPool.attach({ ...d, control: new SharedArrayBuffer(64) }))).toBe('ERR_BAD_DESCRIPTOR')
  })

  it('takes concurrent releases from several workers; counts are conserved', async () => {
    const count = 30_000
    const pool = new BufferPool({ bufSize: 4, count })
    const all = new Uint32Array(count)
    expect(pool.allocBatch(all)).toBe(count)
    const go = new SharedArrayBuffer(4)
    const parts = 3
    const workers = Array.from({ length: parts }, (_, i) => {
      const descs = Array.from(all.filter((_, j) => j % parts === i))
      return startWorker<{ ok: number; doubles: number; poolId: number }>('pool-worker.mjs', {
        mode: i === 0 ? 'releaseBatch' : 'release',
        pool: pool.share(),
        descs,
        go,
      })
    })
    await Promise.all(workers.map((w) => w.online))
    Atomics.store(new Int32Array(go), 0, 1)
    Atomics.notify(new Int32Array(go), 0)
    const results = await Promise.all(workers.map((w) => w.result))
    await Promise.all(workers.map((w) => w.worker.terminate()))
    expect(results.reduce((s, r) => s + r.ok, 0)).toBe(count)
    expect(pool.available).toBe(count)
    for (let d = 0; d < count; d++) expect(pool.state(d)).toBe(BUFFER_FREE)
    const again = new Uint32Array(count)
    expect(pool.allocBatch(again)).toBe(count)
    expect(new Set(again).size).toBe(count)
  })

  it('lets exactly one of two racing releases of a buffer succeed', async () => {
    const count = 20_000
    const pool = new BufferPool({ bufSize: 4, count })
    const all = new Uint32Array(count)
    pool.allocBatch(all)
    const go = new SharedArrayBuffer(4)
    const descs = Array.from(all)
    const workers = [0, 1].map(() =>
      startWorker<{ ok: number; doubles: number; poolId: number }>('pool-worker.mjs', {
        mode: 'release',
        pool: pool.share(),
        descs,
        go,
      }),
    )
    await Promise.all(workers.map((w) => w.online))
    Atomics.store(new Int32Array(go), 0, 1)
    Atomics.notify(new Int32Array(go), 0)
    const [a, b] = await Promise.all(workers.map((w) => w.result))
    await Promise.all(workers.map((w) => w.worker.terminate()))
    expect(a.poolId).toBe(pool.poolId)
    expect(a.ok + b.ok).toBe(count)
    expect(a.doubles + b.doubles).toBe(count)
    expect(pool.available).toBe(count)
  })

  it.each([1, 2, 64])(
    'survives 3 workers allocating and releasing %i buffers concurrently, one owner at a time',
    async (count) => {
      const pool = new BufferPool({ bufSize: 4, count })
      const go = new SharedArrayBuffer(4)
      const rounds = 40_000
      const workers = [1, 2, 3].map((id) =>
        startWorker<{ allocs: number; conflicts: number; empties: number }>('pool-worker.mjs', {
          mode: 'churn',
          pool: pool.share(),
          id,
          rounds,
          go,
        }),
      )
      await Promise.all(workers.map((w) => w.online))
      Atomics.store(new Int32Array(go), 0, 1)
      Atomics.notify(new Int32Array(go), 0)
      const results = await Promise.all(workers.map((w) => w.result))
      await Promise.all(workers.map((w) => w.worker.terminate()))
      for (const r of results) expect(r.conflicts).toBe(0)
      expect(results.reduce((s, r) => s + r.allocs, 0)).toBeGreaterThan(0)
      expect(pool.available).toBe(count)
      for (let d = 0; d < count; d++) expect(pool.state(d)).toBe(BUFFER_FREE)
    },
  )

  it('wakes an allocWait in a worker when the main thread releases', async () => {
    const pool = new BufferPool({ bufSize: 4, count: 1 })
    const d = pool.alloc()
    const w = startWorker<{ desc: number }>('pool-worker.mjs', { mode: 'allocAfterWait', pool: pool.share() })
    // The worker is asleep once it has registered on the pool's doorbell (control word 49, see README).
    const ctl = new Int32Array(pool.control)
    spinUntil(() => Atomics.load(ctl, 49) > 0, 'the worker to sleep in allocWait')
    pool.release(d)
    expect((await w.result).desc).toBe(d)
    await w.worker.terminate()
    expect(pool.isAllocated(d)).toBe(true)
  })

  it('resolves allocAsync on the main thread when a worker releases', async () => {
    const pool = new BufferPool({ bufSize: 4, count: 2 })
    const held = [pool.alloc(), pool.alloc()]
    expect(await pool.allocAsync(0)).toBe(-1)
    const pending = pool.allocAsync()
    const go = new SharedArrayBuffer(4)
    Atomics.store(new Int32Array(go), 0, 1)
    const r = await runWorker<{ ok: number }>('pool-worker.mjs', {
      mode: 'release',
      pool: pool.share(),
      descs: [held[1]],
      go,
    })
    expect(r.ok).toBe(1)
    expect(await pending).toBe(held[1])
    expect(isRingError(new RingError('ERR_CLOSED', 'x'), 'ERR_CLOSED')).toBe(true)
  })
})
