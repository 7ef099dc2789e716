// TransportError: the ten kinds of the reference (lib.rs:55-85), with its exact messages.
import type { SystemError } from '@x/native'

export const TransportErrorKind = {
  Io: 'Io',
  InvalidAddress: 'InvalidAddress',
  InterfaceNotFound: 'InterfaceNotFound',
  MessageTooLarge: 'MessageTooLarge',
  ConnectionFailed: 'ConnectionFailed',
  NotInitialized: 'NotInitialized',
  Shutdown: 'Shutdown',
  InvalidMessage: 'InvalidMessage',
  Timeout: 'Timeout',
  SocketOption: 'SocketOption',
} as const
export type TransportErrorKind = (typeof TransportErrorKind)[keyof typeof TransportErrorKind]

interface Extra {
  detail?: string
  size?: number
  max?: number
  cause?: unknown
}

function codeOf(kind: TransportErrorKind): string {
  return `ERR_THUNDERBOLT_${kind.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`
}

/** The text of an OS error without its syscall suffix: "ECONNREFUSED: connection refused". */
export function osText(e: unknown): string {
  if (e instanceof Error) {
    const se = e as Partial<SystemError>
    if (typeof se.code === 'string' && typeof se.syscall === 'string') {
      const suffix = `, ${se.syscall}`
      const i = e.message.indexOf(suffix)
      return i > 0 ? e.message.slice(0, i) : e.message
    }
    return e.message
  }
  return String(e)
}

export class TransportError extends Error {
  readonly kind: TransportErrorKind
  /** `ERR_THUNDERBOLT_<KIND>`, e.g. ERR_THUNDERBOLT_MESSAGE_TOO_LARGE. */
  readonly code: string
  /** The `{0}` of the message (address, interface, OS error text), when the kind has one. */
  readonly detail: string | undefined
  /** MessageTooLarge only. */
  readonly size: number | undefined
  readonly max: number | undefined

  constructor(kind: TransportErrorKind, message: string, extra: Extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.name = 'TransportError'
    this.kind = kind
    this.code = codeOf(kind)
    this.detail = extra.detail
    this.size = extra.size
    this.max = extra.max
  }

  /** The OS error behind Io / SocketOption / ConnectionFailed, if any. */
  get errno(): number | undefined {
    return (this.cause as Partial<SystemError> | undefined)?.errno
  }

  static io(cause: unknown, detail = osText(cause)): TransportError {
    return new TransportError('Io', `IO error: ${detail}`, { detail, cause })
  }
  static invalidAddress(input: string): TransportError {
    return new TransportError('InvalidAddress', `Invalid IPv6 address: ${input}`, { detail: input })
  }
  static interfaceNotFound(name: string, cause?: unknown): TransportError {
    return new TransportError('InterfaceNotFound', `Network interface not found: ${name}`, { detail: name, cause })
  }
  static messageTooLarge(size: number, max: number): TransportError {
    return new TransportError('MessageTooLarge', `Message too large: ${size} bytes (max ${max})`, { size, max })
  }
  static connectionFailed(detail: string, cause?: unknown): TransportError {
    return new TransportError('ConnectionFailed', `Connection failed: ${detail}`, { detail, cause })
  }
  static notInitialized(): TransportError {
    return new TransportError('NotInitialized', 'Transport not initialized')
  }
  static shutdown(): TransportError {
    return new TransportError('Shutdown', 'Transport shutdown')
  }
  static invalidMessage(detail: string): TransportError {
    return new TransportError('InvalidMessage', `Invalid message format: ${detail}`, { detail })
  }
  static timeout(): TransportError {
    return new TransportError('Timeout', 'Timeout')
  }
  static socketOption(detail: string, cause?: unknown): TransportError {
    return new TransportError('SocketOption', `Socket option error: ${detail}`, { detail, cause })
  }
}

export function isTransportError(e: unknown, kind?: TransportErrorKind): e is TransportError {
  return e instanceof TransportError && (kind === undefined || e.kind === kind)
}
