/**
 * Internal byte helpers: fixed-width integer reads and writes on a Uint8Array by plain indexing. No DataView, so no
 * allocation per access and no RangeError; callers check bounds first.
 */

export const u16be = (b: Uint8Array, p: number): number => (b[p] << 8) | b[p + 1]
export const u16le = (b: Uint8Array, p: number): number => b[p] | (b[p + 1] << 8)
export const u32be = (b: Uint8Array, p: number): number =>
  b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3])
export const u32le = (b: Uint8Array, p: number): number =>
  b[p + 3] * 0x1000000 + ((b[p + 2] << 16) | (b[p + 1] << 8) | b[p])
export const u16 = (b: Uint8Array, p: number, le: boolean): number => (le ? u16le(b, p) : u16be(b, p))
export const u32 = (b: Uint8Array, p: number, le: boolean): number => (le ? u32le(b, p) : u32be(b, p))
export const i32 = (b: Uint8Array, p: number, le: boolean): number => u32(b, p, le) | 0

/** u64 as bigint. */
export function u64(b: Uint8Array, p: number, le: boolean): bigint {
  const hi = le ? u32le(b, p + 4) : u32be(b, p)
  const lo = le ? u32le(b, p) : u32be(b, p + 4)
  return (BigInt(hi) << 32n) | BigInt(lo)
}
export function i64(b: Uint8Array, p: number, le: boolean): bigint {
  return BigInt.asIntN(64, u64(b, p, le))
}

export function put16be(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 8
  b[p + 1] = v
}
export function put16le(b: Uint8Array, p: number, v: number): void {
  b[p] = v
  b[p + 1] = v >>> 8
}
export function put32be(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24
  b[p + 1] = v >>> 16
  b[p + 2] = v >>> 8
  b[p + 3] = v
}
export function put32le(b: Uint8Array, p: number, v: number): void {
  b[p] = v
  b[p + 1] = v >>> 8
  b[p + 2] = v >>> 16
  b[p + 3] = v >>> 24
}
export const put16 = (b: Uint8Array, p: number, v: number, le: boolean): void =>
  le ? put16le(b, p, v) : put16be(b, p, v)
export const put32 = (b: Uint8Array, p: number, v: number, le: boolean): void =>
  le ? put32le(b, p, v) : put32be(b, p, v)
export function put64(b: Uint8Array, p: number, v: bigint, le: boolean): void {
  const x = BigInt.asUintN(64, v)
  const hi = Number(x >> 32n)
  const lo = Number(x & 0xffffffffn)
  if (le) {
    put32le(b, p, lo)
    put32le(b, p + 4, hi)
  } else {
    put32be(b, p, hi)
    put32be(b, p + 4, lo)
  }
}

/** A Uint8Array view (never a copy) of `b[start, end)`; always a plain Uint8Array, even when `b` is a Buffer. */
export const view = (b: Uint8Array, start: number, end: number): Uint8Array =>
  b.constructor === Uint8Array ? b.subarray(start, end) : new Uint8Array(b.buffer, b.byteOffset + start, end - start)

/** `b` itself if it is a plain Uint8Array, else a plain Uint8Array over the same memory (so `view()` is cheap). */
export const plain = (b: Uint8Array): Uint8Array =>
  b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.length)

export const EMPTY = new Uint8Array(0)
