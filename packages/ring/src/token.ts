// token.ts: Token, the plain {desc, len, poolId} record that names a buffer of a pool, and its 3-word encoding.

import type { U32Array } from './util.js'

/**
 * A reference to `len` bytes at the start of buffer `desc` of pool `poolId`. Plain numbers only: it survives
 * `postMessage` (structured clone) unchanged and fits in `TOKEN_WORDS` u32 words of a ring or channel.
 * Holding a token means owning the buffer: release it (`pool.release(token.desc)` / `pool.releaseToken(token)`) or
 * turn it into a Payload (`pool.packet(token)`) exactly once.
 */
export interface Token {
  readonly desc: number
  readonly len: number
  readonly poolId: number
}

/** u32 words per encoded token: `[desc, len, poolId]`. */
export const TOKEN_WORDS = 3

/** A frozen token. No validation: pools check tokens when they are used. */
export function token(desc: number, len: number, poolId: number): Token {
  return Object.freeze({ desc, len, poolId })
}

/** True for any object with integer `desc`, `len` and `poolId` (e.g. a token that came through postMessage). */
export function isToken(v: unknown): v is Token {
  if (typeof v !== 'object' || v === null) return false
  const t = v as Record<string, unknown>
  return Number.isInteger(t.desc) && Number.isInteger(t.len) && Number.isInteger(t.poolId)
}

/** Write `t` as `[desc, len, poolId]` at word `offset` of `dst`. */
export function writeToken(dst: U32Array, offset: number, t: Token): void {
  dst[offset] = t.desc
  dst[offset + 1] = t.len
  dst[offset + 2] = t.poolId
}

/** Read a token written by `writeToken` (u32 values). */
export function readToken(src: U32Array, offset: number): Token {
  return token(src[offset] >>> 0, src[offset + 1] >>> 0, src[offset + 2] >>> 0)
}

/** Encode `tokens` into `dst` from word `offset`, `stride` words apart (default TOKEN_WORDS). Returns words used. */
export function encodeTokens(tokens: readonly Token[], dst: U32Array, offset = 0, stride = TOKEN_WORDS): number {
  let o = offset
  for (let i = 0; i < tokens.length; i++, o += stride) writeToken(dst, o, tokens[i])
  return o - offset
}

/** Decode `n` tokens from `src` from word `offset`, `stride` words apart (default TOKEN_WORDS). */
export function decodeTokens(src: U32Array, n: number, offset = 0, stride = TOKEN_WORDS): Token[] {
  const out = new Array<Token>(n)
  for (let i = 0, o = offset; i < n; i++, o += stride) out[i] = readToken(src, o)
  return out
}
