// NethunsError: every error this package throws itself. `code` is an ERR_NETHUNS_* name, or the errno name
// ('ENODEV', 'EPERM', …) when a system call failed, with `errno` and `syscall` as on Node's own errors.
// `kind` maps onto nethuns-rs's Error enum.

/** nethuns-rs `Error` variants (NoPacket is not an error here: receive calls return null). */
export type ErrorKind = 'NoMemory' | 'TooBigPacket' | 'Generic' | 'Pcap' | 'Unknown'

export type NethunsErrorCode =
  | 'ERR_NETHUNS_PORTSPEC'
  | 'ERR_NETHUNS_NOT_AVAILABLE'
  | 'ERR_NETHUNS_FLAGS'
  | 'ERR_NETHUNS_QUEUE'
  | 'ERR_NETHUNS_TOO_BIG'
  | 'ERR_NETHUNS_NO_MEMORY'
  | 'ERR_NETHUNS_CLOSED'
  | 'ERR_NETHUNS_PCAP'
  | 'ERR_NETHUNS_BPF'
  | 'ERR_NETHUNS_DIRECTION'
  | 'ERR_NETHUNS_NETMAP'

export interface NethunsErrorOptions extends ErrorOptions {
  kind?: ErrorKind
  errno?: number
  syscall?: string
  portspec?: string
  size?: number
}

export class NethunsError extends Error {
  readonly code: NethunsErrorCode | string
  readonly kind: ErrorKind
  readonly errno?: number
  readonly syscall?: string
  readonly portspec?: string
  /** TooBigPacket: the size that did not fit. */
  readonly size?: number

  constructor(code: NethunsErrorCode | string, message: string, options: NethunsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'NethunsError'
    this.code = code
    this.kind = options.kind ?? (code === 'ERR_NETHUNS_PCAP' ? 'Pcap' : 'Generic')
    if (options.errno !== undefined) this.errno = options.errno
    if (options.syscall !== undefined) this.syscall = options.syscall
    if (options.portspec !== undefined) this.portspec = options.portspec
    if (options.size !== undefined) this.size = options.size
  }
}

export function isNethunsError(e: unknown, code?: string): e is NethunsError {
  return e instanceof Error && e.name === 'NethunsError' && (code === undefined || (e as NethunsError).code === code)
}

interface SysErr {
  code?: unknown
  errno?: unknown
  syscall?: unknown
  message?: unknown
}

const HINT: Record<string, string> = {
  EPERM: 'needs root, or CAP_NET_RAW (af_packet, pcap) / CAP_NET_ADMIN + CAP_BPF (af_xdp)',
  EACCES: 'needs root, or CAP_NET_RAW (af_packet, pcap) / CAP_NET_ADMIN + CAP_BPF (af_xdp)',
  ENODEV: 'no such interface',
  ENXIO: 'no such interface',
  EAFNOSUPPORT: 'the kernel lacks this socket family',
  EOPNOTSUPP: 'the driver does not support this mode (XDP_ZEROCOPY needs driver support)',
  ENOTSUP: 'the driver does not support this mode (XDP_ZEROCOPY needs driver support)',
  EBUSY: 'busy: the queue is still held (a socket on it closed moments ago, or another process has it)',
  ENETDOWN: 'the interface is down',
}

/** Wraps a system error from a control call with the portspec and a hint; other errors pass through. */
export function wrapSystemError(e: unknown, portspec: string, what: string): unknown {
  const s = e as SysErr
  if (!(e instanceof Error) || typeof s.code !== 'string' || typeof s.errno !== 'number') return e
  const hint = HINT[s.code]
  const msg = `${what} '${portspec}': ${hint ? `${hint} (${String(s.message)})` : String(s.message)}`
  return new NethunsError(s.code, msg, {
    errno: s.errno,
    syscall: typeof s.syscall === 'string' ? s.syscall : undefined,
    portspec,
    cause: e,
  })
}

export function closedError(what = 'socket'): NethunsError {
  return new NethunsError('ERR_NETHUNS_CLOSED', `${what} is closed`)
}

export function flagsError(message: string): NethunsError {
  return new NethunsError('ERR_NETHUNS_FLAGS', message)
}
