// errors.ts: the one error class of @x/ring and its codes.

/**
 * Every error this package throws is a `RingError` whose `code` names the cause. Hot paths that can fail in normal
 * operation (an empty pool, a full ring) return a sentinel (`-1`, `false`, `0`) instead of throwing.
 *
 * | code                 | thrown when                                                                          |
 * |----------------------|--------------------------------------------------------------------------------------|
 * | `ERR_INVALID_ARG`    | an option or argument is out of range (sizes, counts, batch lengths, alignment)      |
 * | `ERR_POOL_EMPTY`     | `pool.alloc()` / `pool.allocPayload()` find no free buffer (`tryAlloc()` returns -1) |
 * | `ERR_DOUBLE_RELEASE` | a buffer that is not allocated is released (twice, or never allocated)               |
 * | `ERR_FOREIGN_POOL`   | a token or payload of another pool is given to a pool                                |
 * | `ERR_BAD_DESC`       | a buffer descriptor is not an integer in `[reserved, count)`                         |
 * | `ERR_BAD_LENGTH`     | a token length is not an integer in `[0, bufSize]`                                   |
 * | `ERR_STALE_TOKEN`    | `pool.packet(token)` names a buffer that is currently free                          |
 * | `ERR_RELEASED`       | a released payload's bytes are read                                                  |
 * | `ERR_CLOSED`         | something is pushed into a closed ring or channel                                    |
 * | `ERR_NOT_SHARED`     | sharing or blocking needs a SharedArrayBuffer and the memory is not one               |
 * | `ERR_BAD_DESCRIPTOR` | `attach()` is given something that is not a descriptor of this layout version        |
 */
export type RingErrorCode =
  | 'ERR_INVALID_ARG'
  | 'ERR_POOL_EMPTY'
  | 'ERR_DOUBLE_RELEASE'
  | 'ERR_FOREIGN_POOL'
  | 'ERR_BAD_DESC'
  | 'ERR_BAD_LENGTH'
  | 'ERR_STALE_TOKEN'
  | 'ERR_RELEASED'
  | 'ERR_CLOSED'
  | 'ERR_NOT_SHARED'
  | 'ERR_BAD_DESCRIPTOR'

export class RingError extends Error {
  readonly code: RingErrorCode

  constructor(code: RingErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'RingError'
    this.code = code
  }
}

/** True when `err` is a RingError (from this or another copy of the package, e.g. a worker's) with that code. */
export function isRingError(err: unknown, code?: RingErrorCode): err is RingError {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { name?: unknown; code?: unknown }
  return e.name === 'RingError' && typeof e.code === 'string' && (code === undefined || e.code === code)
}
