// VrtdError: every failure the client reports, named by its `enum vrtd_ret` value (wire.h), with libvrtd++'s
// message strings (error.cpp, typo included). Local misuse is BAD_LIB_CALL with a `reason`; transport failures are
// BAD_CONN with the errno error as `cause`.

/** `enum vrtd_ret` (implicit values, appended to only). 1, 2 and 10 never travel on the wire. */
export const Ret = {
  OK: 0,
  BAD_LIB_CALL: 1,
  BAD_CONN: 2,
  BAD_REQUEST: 3,
  INVALID_ARGUMENT: 4,
  NOEXIST: 5,
  INTERNAL_ERROR: 6,
  AUTH_ERROR: 7,
  BUSY: 8,
  SHELL_LOCKED: 9,
  /** Client-local (the hardening branch): a reply whose seqno matches no request. */
  RESPONSE_MISMATCH: 10,
} as const

export type RetName = Exclude<keyof typeof Ret, 'OK'> | 'UNKNOWN'

const MESSAGES: Record<number, string> = {
  1: 'Bad library call',
  2: 'Bad connection to daemon',
  3: 'Bad request',
  4: 'Invalid argument',
  5: "Requested resouce doesn't exist",
  6: 'Internal error in vrtd daemon or local libvrtd',
  7: 'Missing permission',
  8: 'Requested resource is busy',
  9: 'Device is JTAG-booted; refusing automatic shell reset',
  10: 'Response does not match the request',
}

const NAMES: Record<number, RetName> = Object.fromEntries(
  Object.entries(Ret)
    .filter(([, v]) => v !== 0)
    .map(([k, v]) => [v, k as RetName]),
)

/** The name of a vrtd_ret value ('AUTH_ERROR'), 'UNKNOWN' for values no revision defines. */
export function retName(ret: number): RetName {
  return NAMES[ret] ?? 'UNKNOWN'
}

/** libvrtd++'s string for a vrtd_ret value; "Unknown error" for any other. */
export function retMessage(ret: number): string {
  return MESSAGES[ret] ?? 'Unknown error'
}

/** Why a BAD_LIB_CALL / BAD_CONN happened, for code that wants to tell the cases apart. */
export type VrtdReason =
  | 'SESSION_CLOSED'
  | 'BAR_FILE_CLOSED'
  | 'ACCESS_ACTIVE'
  | 'ACCESS_ENDED'
  | 'WRONG_DIRECTION'
  | 'OUT_OF_RANGE'
  | 'MISALIGNED'
  | 'INVALID_VALUE'
  | 'UNSUPPORTED_OPCODE'
  | 'BODY_TOO_LARGE'
  | 'CONNECT_FAILED'
  | 'CLOSED'
  | 'PEER_CLOSED'
  | 'SOCKET_ERROR'
  | 'TIMEOUT'
  | 'PROTOCOL'
  | 'ABORTED'
  | 'MAP_FAILED'
  | 'SYNC_FAILED'

export interface VrtdErrorOptions {
  opcode?: number
  seqno?: number
  reason?: VrtdReason
  cause?: unknown
  /** Appended to the standard message. */
  detail?: string
  /** The value came from the wire: values past the newest known one (9) are 'UNKNOWN'. */
  fromWire?: boolean
}

export class VrtdError extends Error {
  /** The vrtd_ret name: 'BAD_CONN', 'AUTH_ERROR', … ('UNKNOWN' for a value no revision defines). */
  readonly code: RetName
  /** The numeric vrtd_ret value. */
  readonly ret: number
  /** The request's opcode, when a request failed. */
  readonly opcode: number | undefined
  readonly seqno: number | undefined
  readonly reason: VrtdReason | undefined
  /** The context appended to the standard message, if any. */
  readonly detail: string | undefined

  constructor(ret: number, options: VrtdErrorOptions = {}) {
    const unknown = ret > Ret.SHELL_LOCKED && (options.fromWire === true || ret !== Ret.RESPONSE_MISMATCH)
    const base = unknown ? `Unknown error (${ret})` : retMessage(ret)
    super(
      options.detail ? `${base}: ${options.detail}` : base,
      options.cause === undefined ? {} : { cause: options.cause },
    )
    this.name = 'VrtdError'
    this.ret = ret
    this.code = unknown ? 'UNKNOWN' : retName(ret)
    this.opcode = options.opcode
    this.seqno = options.seqno
    this.reason = options.reason
    this.detail = options.detail
  }

  /** 'VRTD_RET_AUTH_ERROR'. */
  get retName(): string {
    return `VRTD_RET_${this.code}`
  }

  /** A copy for another request (same cause), so each rejected caller sees its own opcode and seqno. */
  forRequest(opcode: number, seqno: number): VrtdError {
    return new VrtdError(this.ret, { opcode, seqno, reason: this.reason, cause: this.cause, detail: this.detail })
  }
}

/** A local misuse (BAD_LIB_CALL) with its reason. */
export function misuse(reason: VrtdReason, detail: string): VrtdError {
  return new VrtdError(Ret.BAD_LIB_CALL, { reason, detail })
}
