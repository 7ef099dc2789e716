import { Worker } from 'node:worker_threads'
import { EventFd, FdWatcher, pipe, read, waitReadable, write } from '@x/native'
import { describe, expect, it } from 'vitest'
import { openFds } from './helpers.js'

describe('FdWatcher', () => {
  it('emits readable when data arrives and stops after close', async () => {
    const [r, w] = pipe()
    const watcher = new FdWatcher(r, { readable: true })
    let count = 0
    const buf = new Uint8Array(16)
    const got = new Promise<void>((resolve) => {
      watcher.on('readable', () => {
        count++
        while (read(r, buf) > 0) {}
        resolve()
      })
    })
    write(w, Uint8Array.of(1))
    await got
    watcher.close()
    watcher.close()
    write(w, Uint8Array.of(2))
    await new Promise((res) => setTimeout(res, 50))
    expect(count).toBe(1)
    expect(watcher.closed).toBe(true)
    expect(() => watcher.watch({ readable: true })).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    r.close()
    w.close()
  })

  it('emits writable, and wait() honours AbortSignal', async () => {
    const [r, w] = pipe()
    using ww = new FdWatcher(w)
    await ww.wait('writable')
    using rw = new FdWatcher(r)
    const ac = new AbortController()
    const p = rw.wait('readable', ac.signal)
    ac.abort(new Error('stop'))
    await expect(p).rejects.toThrow('stop')
    expect(rw.watching.readable).toBe(false)
    r.close()
    w.close()
  })

  it('an unref()ed watcher does not keep the process alive; close rejects waiters', async () => {
    using e = new EventFd()
    const w = new FdWatcher(e, { ref: false })
    const p = w.wait('readable')
    w.close()
    await expect(p).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it('delivers an eventfd doorbell rung from a worker thread', async () => {
    using e = new EventFd()
    const p = waitReadable(e)
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads'); const fs = require('node:fs');
       const b = Buffer.alloc(8); b.writeBigUInt64LE(1n); fs.writeSync(workerData, b)`,
      { eval: true, workerData: e.fd },
    )
    await p
    expect(e.read()).toBe(1)
    await new Promise((res) => worker.on('exit', res))
  })
})

describe('addon in worker threads', () => {
  it('loads in several workers at once and tears down open watchers and mappings cleanly', async () => {
    const before = openFds()
    const url = new URL('./fixtures/worker-teardown.mjs', import.meta.url)
    const results = await Promise.all(
      [0, 1, 2, 3].map(
        (i) =>
          new Promise<{ code: number; msg: unknown }>((resolve, reject) => {
            const w = new Worker(url, { workerData: { i } })
            let msg: unknown
            w.on('message', (m) => {
              msg = m
            })
            w.on('error', reject)
            w.on('exit', (code) => resolve({ code, msg }))
          }),
      ),
    )
    for (const r of results) {
      expect(r.code).toBe(0)
      expect(r.msg).toMatchObject({ ok: true })
    }
    // terminate() while a watcher is active: the async cleanup hook closes the uv handle
    const w = new Worker(url, { workerData: { i: 9, hang: true } })
    await new Promise((res) => w.once('message', res))
    await w.terminate()
    // fds the workers closed explicitly are gone; only the leaked-on-purpose ones (closed by GC/exit) may remain
    expect(openFds()).toBeLessThanOrEqual(before + 10)
  })
})
