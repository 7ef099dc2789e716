/** Internal argument checks; each throws FramingError. */

import { FramingError } from './errors.js'

/** Throws unless `value` is a Uint8Array (Buffer included). */
export function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new FramingError('ERR_BAD_VALUE', `${what} must be a Uint8Array`)
  }
}

/** Throws unless `value` is an integer in [min, max]. */
export function assertInt(value: unknown, min: number, max: number, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new FramingError('ERR_BAD_VALUE', `${what} must be an integer in [${min}, ${max}], got ${String(value)}`)
  }
}

/** Throws ERR_BUFFER_TOO_SMALL unless `dst` has `need` bytes of room at `offset`. */
export function assertRoom(dst: unknown, offset: unknown, need: number): asserts dst is Uint8Array {
  assertBytes(dst, 'dst')
  assertInt(offset, 0, dst.length, 'offset')
  if (dst.length - offset < need) {
    throw new FramingError(
      'ERR_BUFFER_TOO_SMALL',
      `destination has ${dst.length - offset} bytes at offset ${offset}, ${need} needed`,
    )
  }
}
