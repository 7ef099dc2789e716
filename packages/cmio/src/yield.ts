// The yield word: dev:8 | cmd:8 | reason:16 | data:32, most significant first (libcmt io.c, the emulator's
// HTIF masks). Pack and unpack live here and only here (machine-emulator#257 discusses a different split).

export interface CmioYield {
  /** HTIF device; forced to 2 (yield) by the kernel on the way out. */
  dev: number
  /** 0 automatic, 1 manual. */
  cmd: number
  /** Reason (or GIO domain) on the way out; the host's response reason/code on the way back. */
  reason: number
  /** Bytes used in tx on the way out; bytes written to rx on the way back. */
  data: number
}

export const DEV_MASK = 0xff00000000000000n
export const CMD_MASK = 0x00ff000000000000n
export const REASON_MASK = 0x0000ffff00000000n
export const DATA_MASK = 0x00000000ffffffffn

/** Packs like libcmt: each field is truncated to its width (dev << 56 | cmd << 56 >> 8 | …). */
export function packYield(y: CmioYield): bigint {
  return (
    ((BigInt(y.dev & 0xff) << 56n) |
      (BigInt(y.cmd & 0xff) << 48n) |
      (BigInt(y.reason & 0xffff) << 32n) |
      BigInt(y.data >>> 0)) &
    0xffffffffffffffffn
  )
}

/** Unpacks a 64-bit word (a bigint in [0, 2^64)) into a new CmioYield. */
export function unpackYield(word: bigint): CmioYield {
  return unpackYieldInto(word, { dev: 0, cmd: 0, reason: 0, data: 0 })
}

/** Unpacks into `y` (tapcmio's `yield_` unpacks the reply in place). */
export function unpackYieldInto(word: bigint, y: CmioYield): CmioYield {
  const w = BigInt.asUintN(64, word)
  const hi = Number(w >> 32n)
  y.dev = hi >>> 24
  y.cmd = (hi >>> 16) & 0xff
  y.reason = hi & 0xffff
  y.data = Number(w & DATA_MASK)
  return y
}

/** The word the emulator hands back after an automatic yield: dev 2, everything else 0. */
export const AUTOMATIC_ACK = 0x0200000000000000n

/** The host's reply to a manual yield: dev 0, cmd 0, reason, length (send_cmio_response). */
export function manualReply(reason: number, length: number): bigint {
  return (BigInt(reason & 0xffff) << 32n) | BigInt(length >>> 0)
}

/** Forces dev to 2, as OpenSBI does (`TOHOST_DEV(2) | cmd_data << 8 >> 8`). */
export function forceYieldDev(word: bigint): bigint {
  return (BigInt.asUintN(64, word) & ~DEV_MASK) | 0x0200000000000000n
}

/** A readable form for logs and errors: `{dev 2, cmd 1, reason 0x42, data 16}`. */
export function formatYield(y: CmioYield): string {
  return `{dev ${y.dev}, cmd ${y.cmd}, reason 0x${y.reason.toString(16)}, data ${y.data}}`
}
