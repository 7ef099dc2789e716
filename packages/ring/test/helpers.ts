// helpers.ts: run a worker fixture (plain .mjs importing '@x/ring' from dist/) and collect its result.

import { type TransferListItem, Worker } from 'node:worker_threads'

export interface Started<T> {
  readonly worker: Worker
  /** The first message the worker posts (its result); rejects if the worker throws or exits first. */
  readonly result: Promise<T>
  /** Resolves when the worker thread is running. */
  readonly online: Promise<void>
}

export function startWorker<T = unknown>(
  fixture: string,
  workerData: unknown,
  transferList: TransferListItem[] = [],
): Started<T> {
  const worker = new Worker(new URL(`./fixtures/${fixture}`, import.meta.url), {
    workerData,
    transferList,
  })
  const result = new Promise<T>((resolve, reject) => {
    worker.once('message', (m: T) => resolve(m))
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`worker ${fixture} exited with ${code} before posting a result`)))
  })
  const online = new Promise<void>((resolve) => worker.once('online', () => resolve()))
  // The exit after the result is expected: keep the rejection from being unhandled.
  result.catch(() => {})
  return { worker, result, online }
}

export async function runWorker<T = unknown>(fixture: string, workerData: unknown): Promise<T> {
  const w = startWorker<T>(fixture, workerData)
  try {
    return await w.result
  } finally {
    await w.worker.terminate()
  }
}

/** Busy-wait (spinning, then in short Atomics.wait naps) until `cond()` holds; for what another thread makes true. */
export function spinUntil(cond: () => boolean, what: string, limitMs = 10_000): void {
  for (let i = 0; i < 20_000; i++) if (cond()) return
  const nap = new Int32Array(new SharedArrayBuffer(4))
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`)
    Atomics.wait(nap, 0, 0, 0.1)
  }
}
