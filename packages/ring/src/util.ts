// util.ts: argument checks and small helpers shared by the modules (internal, not exported from the package).

import { RingError } from './errors.js'

/** A typed array of 32-bit words; values are read and written as u32 bit patterns. */
export type U32Array = Uint32Array | Int32Array

/** Bytes per cache line; counters written by different threads live on different lines. */
export const CACHE_LINE = 64
/** Int32 words per cache line. */
export const LINE_WORDS = CACHE_LINE / 4

export function isSharedArrayBuffer(b: unknown): b is SharedArrayBuffer {
  return Object.prototype.toString.call(b) === '[object SharedArrayBuffer]'
}

export function isArrayBufferLike(b: unknown): b is ArrayBuffer | SharedArrayBuffer {
  const tag = Object.prototype.toString.call(b)
  return tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]'
}

export function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RingError('ERR_INVALID_ARG', `${name} must be an integer in [${min}, ${max}], got ${String(v)}`)
  }
  return v
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0
}

export function nextPowerOfTwo(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

export function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to
}

/** Words `[at, at + n)` of `src` must exist. */
export function checkSource(name: string, src: U32Array, words: number): void {
  if (src.length < words) {
    throw new RingError('ERR_INVALID_ARG', `${name} holds ${src.length} words, ${words} needed`)
  }
}
