/** Internal: timestamps for the capture writers. */

import { assertInt } from './check.js'
import { FramingError } from './errors.js'

/** A timestamp to write: a bigint of ns since the epoch, or whole seconds plus a fraction in the writer's (or
 * pcapng interface's) resolution. */
export type PacketTime = bigint | { sec: number; frac?: number }

/** Splits a PacketTime into whole seconds (any safe integer ≥ 0) and a fraction of `units` per second. */
export function splitTime(ts: PacketTime, units: bigint): [bigint, bigint] {
  if (typeof ts === 'bigint') {
    if (ts < 0n) throw new FramingError('ERR_BAD_VALUE', `timestamp ${ts} ns is before the epoch`)
    return [ts / 1_000_000_000n, ((ts % 1_000_000_000n) * units) / 1_000_000_000n]
  }
  if (ts === null || typeof ts !== 'object')
    throw new FramingError('ERR_BAD_VALUE', 'timestamp must be a bigint or {sec, frac}')
  assertInt(ts.sec, 0, Number.MAX_SAFE_INTEGER, 'ts.sec')
  const frac = ts.frac ?? 0
  assertInt(frac, 0, Number.MAX_SAFE_INTEGER, 'ts.frac')
  if (BigInt(frac) >= units) throw new FramingError('ERR_BAD_VALUE', `ts.frac ${frac} is not below ${units} per second`)
  return [BigInt(ts.sec), BigInt(frac)]
}
