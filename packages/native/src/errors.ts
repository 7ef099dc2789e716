// Node-style system errors: { code: 'EAGAIN', errno: -11, syscall: 'recvmsg' }, the same shape the addon throws.
import { constants } from 'node:os'
import { getSystemErrorMap, getSystemErrorName } from 'node:util'

export interface SystemError extends Error {
  code: string
  errno: number
  syscall: string
}

let byNumber: Map<number, string> | null = null
/** The errno's name from os.constants.errno, for the errnos libuv does not name (EINPROGRESS, EALREADY, …). */
function osErrnoName(errno: number): string | undefined {
  byNumber ??= new Map(Object.entries(constants.errno).map(([k, v]) => [v, k]))
  return byNumber.get(errno)
}

/**
 * Builds the error for a negative errno returned by a hot path (err = -errno or errno; the sign is ignored). The
 * code is libuv's name, else the OS's (as the addon's errors fall back to glibc's), else 'UNKNOWN'.
 */
export function errnoException(err: number, syscall: string, extra?: string): SystemError {
  const n = -Math.abs(err)
  let code: string
  let desc: string
  try {
    code = getSystemErrorName(n)
    desc = getSystemErrorMap().get(n)?.[1] ?? code
  } catch {
    code = 'UNKNOWN'
    desc = `unknown error ${-n}`
  }
  if (code.startsWith('Unknown system error') || code === 'UNKNOWN') {
    const name = osErrnoName(-n)
    code = name ?? 'UNKNOWN'
    desc = name ? `errno ${-n}` : `unknown error ${-n}`
  }
  const e = new Error(`${code}: ${desc}, ${syscall}${extra ? ` ${extra}` : ''}`) as SystemError
  e.code = code
  e.errno = n
  e.syscall = syscall
  Error.captureStackTrace?.(e, errnoException)
  return e
}

/** Returns r when r >= 0, throws the Node-style error when it is -errno. */
export function check(r: number, syscall: string): number {
  if (r < 0) throw errnoException(r, syscall)
  return r
}

/** A misuse of the API (closed fd, bad argument), with a Node-style ERR_* code. */
export class XNativeError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'XNativeError'
    this.code = code
  }
}

const { errno } = constants

/**
 * Negated errno values, as the addon's calls return them (`-errno`): `if (r === negErrno.EAGAIN)`. From
 * os.constants.errno, so the numbers are the platform's.
 */
export const negErrno = Object.freeze({
  EAGAIN: -errno.EAGAIN,
  EALREADY: -errno.EALREADY,
  EBUSY: -errno.EBUSY,
  ECONNABORTED: -errno.ECONNABORTED,
  ECONNRESET: -errno.ECONNRESET,
  EINPROGRESS: -errno.EINPROGRESS,
  EINTR: -errno.EINTR,
  EINVAL: -errno.EINVAL,
  EMSGSIZE: -errno.EMSGSIZE,
  EPIPE: -errno.EPIPE,
  EPROTO: -errno.EPROTO,
})
