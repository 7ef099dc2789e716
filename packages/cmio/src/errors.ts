// CmioError: tapcmio's CmioError enum as one Error class with a `kind`, plus a distinct YieldError kind.
// Where a syscall failed, `code` / `errno` / `syscall` are those of the Node-style error (kept as `cause`).
import { getSystemErrorMap, getSystemErrorName } from 'node:util'

export type CmioErrorKind = 'OpenError' | 'SetupError' | 'MapError' | 'BufferTooLarge' | 'YieldError'

interface SystemErrorLike {
  code?: unknown
  errno?: unknown
  syscall?: unknown
  message?: unknown
}

const PREFIX: Record<CmioErrorKind, string> = {
  OpenError: 'Failed to open CMIO device',
  SetupError: 'Failed to setup CMIO',
  MapError: 'Failed to map memory',
  BufferTooLarge: 'Buffer too large',
  YieldError: 'CMIO yield failed',
}

export class CmioError extends Error {
  readonly kind: CmioErrorKind
  /** errno name ('EBUSY') when a syscall (or the emulated host) failed. */
  readonly code: string | undefined
  /** Negative errno, as Node's errors have it. */
  readonly errno: number | undefined
  readonly syscall: string | undefined
  /** BufferTooLarge: the size asked for and the maximum. */
  readonly size: number | undefined
  readonly max: number | undefined

  constructor(
    kind: CmioErrorKind,
    message: string,
    fields: { code?: string; errno?: number; syscall?: string; size?: number; max?: number; cause?: unknown } = {},
  ) {
    super(`${PREFIX[kind]}: ${message}`, fields.cause === undefined ? undefined : { cause: fields.cause })
    this.name = 'CmioError'
    this.kind = kind
    this.code = fields.code
    this.errno = fields.errno
    this.syscall = fields.syscall
    this.size = fields.size
    this.max = fields.max
  }

  /** From a Node-style system error ({code, errno, syscall}) thrown by a control call. */
  static fromSystem(kind: CmioErrorKind, e: unknown, override?: { code?: string; errno?: number }): CmioError {
    const s = (e ?? {}) as SystemErrorLike
    const code = override?.code ?? (typeof s.code === 'string' ? s.code : undefined)
    const errno = override?.errno ?? (typeof s.errno === 'number' ? s.errno : undefined)
    const syscall = typeof s.syscall === 'string' ? s.syscall : undefined
    const msg = typeof s.message === 'string' ? s.message : String(e)
    return new CmioError(kind, override ? `${code}: ${msg}` : msg, { code, errno, syscall, cause: e })
  }

  /** From a -errno returned by a hot path (yield). */
  static fromErrno(kind: CmioErrorKind, err: number, syscall: string, detail?: string): CmioError {
    const n = -Math.abs(err)
    let code = 'UNKNOWN'
    let desc = `unknown error ${-n}`
    try {
      code = getSystemErrorName(n)
      desc = getSystemErrorMap().get(n)?.[1] ?? code
    } catch {}
    return new CmioError(kind, `${code}: ${desc}, ${syscall}${detail ? ` (${detail})` : ''}`, {
      code,
      errno: n,
      syscall,
    })
  }

  /** tapcmio's BufferTooLarge(size, max). */
  static tooLarge(size: number, max: number): CmioError {
    return new CmioError('BufferTooLarge', `${size} bytes (max: ${max})`, { size, max })
  }
}

/** Errno numbers used on the wire (Linux, the same on every architecture @x/cmio runs on). */
export const Errno = {
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  ENOSPC: 28,
  EPIPE: 32,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENODATA: 61,
  EPROTO: 71,
  EBADMSG: 74,
  EPROTOTYPE: 91,
  EPROTONOSUPPORT: 93,
  ENOBUFS: 105,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  ECONNRESET: 104,
} as const

/** errno name → number (positive) for a Node error's code, or EIO when unknown. */
export function errnoOf(e: unknown): number {
  const s = (e ?? {}) as SystemErrorLike
  if (typeof s.errno === 'number' && s.errno !== 0) return Math.abs(s.errno)
  if (typeof s.code === 'string') {
    for (const [n, [name]] of getSystemErrorMap()) if (name === s.code) return Math.abs(n)
  }
  return Errno.EIO
}
