import { FramingError, type FramingErrorCode } from '@x/framing'
import fc from 'fast-check'
import { expect } from 'vitest'

/** "01 00 ab" (spaces, `|` separators and line breaks ignored) → bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, '')
  if (clean.length % 2 !== 0) throw new Error(`odd hex: ${s}`)
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => Number.parseInt(h, 16))
}

export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Splits `buf` at the given cut points (taken modulo length + 1; duplicates give empty chunks). */
export function splitAt(buf: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const pts = cuts.map((c) => c % (buf.length + 1)).sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of pts) {
    out.push(buf.subarray(prev, p))
    prev = p
  }
  out.push(buf.subarray(prev))
  return out
}

/** Arbitrary cut points for splitAt. */
export const cutsArb = fc.array(fc.nat(), { maxLength: 40 })

/** Every 1-byte chunk. */
export const bytewise = (buf: Uint8Array): Uint8Array[] =>
  Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1))

/** Runs fn; it must throw a FramingError with the given code (and offset, when given). */
export function expectFraming(fn: () => unknown, code: FramingErrorCode, offset?: number): FramingError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(FramingError)
    const fe = e as FramingError
    expect(fe.code).toBe(code)
    if (offset !== undefined) expect(fe.offset).toBe(offset)
    return fe
  }
  throw new Error(`expected FramingError ${code}, nothing thrown`)
}

/** Runs fn; anything thrown must be a FramingError. Returns whether it threw. */
export function onlyFraming(fn: () => unknown): boolean {
  try {
    fn()
    return false
  } catch (e) {
    if (!(e instanceof FramingError)) throw new Error(`non-FramingError thrown: ${String(e)}`, { cause: e })
    return true
  }
}

/** Copies views so later pushes cannot change them. */
export const copies = (views: readonly Uint8Array[]): Uint8Array[] => views.map((v) => Uint8Array.from(v))
