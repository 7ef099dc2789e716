// wait.ts: doorbells (sleep/wake words in shared memory) used by the pool, the SPSC ring and the channel (internal).
//
// A doorbell is two Int32 words: `seq` (the futex word sleepers wait on) and `waiters` (how many are asleep or about
// to be). A sleeper reads `seq`, increments `waiters`, re-checks its condition, then waits while `seq` is unchanged.
// A waker, after publishing, reads `waiters` and only if it is non-zero bumps `seq` and notifies. All Atomics
// operations are sequentially consistent, so either the sleeper's re-check sees the publication or the waker sees the
// sleeper: no lost wake-up, and no notify (no syscall) while nobody sleeps.

import { RingError } from './errors.js'

type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> }
type WaitAsyncFn = (ta: Int32Array, index: number, value: number, timeout?: number) => WaitAsyncResult
const waitAsyncFn: WaitAsyncFn | undefined = (Atomics as unknown as { waitAsync?: WaitAsyncFn }).waitAsync

// Atomics.waitAsync alone does not keep a thread's event loop alive: a worker (or the main thread) awaiting a ring
// with nothing else pending would exit (code 13, unfinished top-level await). One ref'd timer per thread while any
// async wait is pending.
let pending = 0
let keeper: ReturnType<typeof setInterval> | undefined
function keepAlive(delta: number): void {
  pending += delta
  if (pending > 0 && keeper === undefined) keeper = setInterval(() => {}, 0x7fffffff)
  else if (pending === 0 && keeper !== undefined) {
    clearInterval(keeper)
    keeper = undefined
  }
}

/** Wake sleepers of the doorbell at `seq` (with `seq + 1` the waiters word) if there are any. */
export function ring(i32: Int32Array, seq: number): void {
  if (Atomics.load(i32, seq + 1) !== 0) {
    Atomics.add(i32, seq, 1)
    Atomics.notify(i32, seq)
  }
}

/** Wake sleepers unconditionally (close). */
export function ringAll(i32: Int32Array, seq: number): void {
  Atomics.add(i32, seq, 1)
  Atomics.notify(i32, seq)
}

function checkTimeout(timeoutMs: number): void {
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new RingError('ERR_INVALID_ARG', `timeoutMs must be a number >= 0 (or Infinity), got ${String(timeoutMs)}`)
  }
}

function checkShared(i32: Int32Array): void {
  if (Object.prototype.toString.call(i32.buffer) !== '[object SharedArrayBuffer]') {
    throw new RingError('ERR_NOT_SHARED', 'blocking waits need memory in a SharedArrayBuffer')
  }
}

/**
 * Block (Atomics.wait) until `ready()` is true or `timeoutMs` passes; spins `spin` times first.
 * Returns the last value of `ready()`.
 */
export function waitSync(i32: Int32Array, seq: number, ready: () => boolean, timeoutMs: number, spin: number): boolean {
  checkTimeout(timeoutMs)
  if (ready()) return true
  for (let i = 0; i < spin; i++) if (ready()) return true
  if (timeoutMs === 0) return false
  checkShared(i32)
  const deadline = timeoutMs === Number.POSITIVE_INFINITY ? timeoutMs : performance.now() + timeoutMs
  for (;;) {
    const e = Atomics.load(i32, seq)
    Atomics.add(i32, seq + 1, 1)
    if (ready()) {
      Atomics.sub(i32, seq + 1, 1)
      return true
    }
    const left = deadline === Number.POSITIVE_INFINITY ? deadline : deadline - performance.now()
    if (left > 0) Atomics.wait(i32, seq, e, left)
    Atomics.sub(i32, seq + 1, 1)
    if (ready()) return true
    if (left <= 0 || performance.now() >= deadline) return false
  }
}

/**
 * Resolve when `ready()` is true (→ true) or after `timeoutMs` (→ false), without blocking the thread
 * (Atomics.waitAsync). A pending wait keeps the event loop alive, like a pending socket read.
 */
export async function waitAsync(
  i32: Int32Array,
  seq: number,
  ready: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  checkTimeout(timeoutMs)
  if (ready()) return true
  if (timeoutMs === 0) return false
  checkShared(i32)
  const deadline = timeoutMs === Number.POSITIVE_INFINITY ? timeoutMs : performance.now() + timeoutMs
  for (;;) {
    const e = Atomics.load(i32, seq)
    Atomics.add(i32, seq + 1, 1)
    let left = 0
    try {
      if (ready()) return true
      left = deadline === Number.POSITIVE_INFINITY ? deadline : deadline - performance.now()
      if (left > 0) {
        if (waitAsyncFn !== undefined) {
          const r = waitAsyncFn(i32, seq, e, left)
          if (r.async) {
            keepAlive(1)
            try {
              await r.value
            } finally {
              keepAlive(-1)
            }
          }
        } else {
          // Runtimes without Atomics.waitAsync: poll.
          await new Promise((resolve) => setTimeout(resolve, Math.min(left, 1)))
        }
      }
    } finally {
      Atomics.sub(i32, seq + 1, 1)
    }
    if (ready()) return true
    if (left <= 0 || performance.now() >= deadline) return false
  }
}
