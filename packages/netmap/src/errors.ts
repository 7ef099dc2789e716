// errors.ts: NetmapError, one class with a `kind` for every error netmap-rs names, plus the parser's and the
// shm backend's own. `code` is `ERR_NETMAP_<KIND>`; a wrapped system error keeps its `errno`/`syscall`.

export type NetmapErrorKind =
  | 'Io'
  | 'WouldBlock'
  | 'BindFail'
  | 'InvalidRingIndex'
  | 'PacketTooLarge'
  | 'InsufficientSpace'
  | 'UnsupportedPlatform'
  | 'FallbackUnsupported'
  | 'BadSpec'
  | 'SyncError'
  | 'PeerGone'
  | 'Closed'

export class NetmapError extends Error {
  readonly kind: NetmapErrorKind
  readonly code: string
  /** For BadSpec: the parser's message, exactly (also the end of `message`). */
  readonly reason: string
  errno?: number
  syscall?: string

  constructor(kind: NetmapErrorKind, reason: string, options?: { cause?: unknown; message?: string }) {
    super(options?.message ?? reason, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'NetmapError'
    this.kind = kind
    this.reason = reason
    this.code = `ERR_NETMAP_${kind.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c : `_${c}`)).toUpperCase()}`
    const c = options?.cause as { errno?: unknown; syscall?: unknown } | undefined
    if (c && typeof c.errno === 'number') this.errno = c.errno
    if (c && typeof c.syscall === 'string') this.syscall = c.syscall
  }
}

export function isNetmapError(e: unknown, kind?: NetmapErrorKind): e is NetmapError {
  return e instanceof NetmapError && (kind === undefined || e.kind === kind)
}
