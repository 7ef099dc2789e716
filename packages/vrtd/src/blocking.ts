// BlockingConnection: libvrtd's own model — a blocking socket, one request at a time, each call returns when its
// reply is in (sendmsg, then recvmsg). No event loop is involved, so a call costs the two syscalls the C library
// makes; the thread is blocked meanwhile, which suits scripts, CLIs and tight control loops. Timeouts are
// SO_RCVTIMEO / SO_SNDTIMEO: a daemon that does not answer in time tears the connection down (BAD_CONN, TIMEOUT),
// a daemon that is gone fails the call at once (BAD_CONN, PEER_CLOSED). Replies are checked exactly as the async
// Connection checks them.
import { encodeRequestInto } from '@x/framing'
import {
  connect as connectFd,
  errnoException,
  type FdLike,
  K,
  MsgArena,
  negErrno,
  type OwnedFd,
  sendMsg,
  setsockopt,
  sockaddrUn,
  socket,
} from '@x/native'
import { type ConnectOptions, DEFAULT_TIMEOUT, mismatch, type RequestOptions, timeoutOf } from './connection.js'
import { misuse, Ret, VrtdError, type VrtdReason } from './errors.js'
import {
  BODY_MAX,
  DEFAULT_PROTOCOL,
  HEADER_SIZE,
  isProtocol,
  MSG_MAX_SIZE,
  type OpSpec,
  opcodeName,
  opSpec,
  type Protocol,
} from './protocol.js'
import { closeAll, type Decode, type RawReply, settle, violation } from './reply.js'
import { resolveSocketPath } from './socket-path.js'

export type BlockingConnectOptions = Omit<ConnectOptions, 'signal'>
export type BlockingRequestOptions = Omit<RequestOptions, 'signal'>

/** Replies bring at most 3 fds; more is a protocol violation (the arena's recv closes them: -EMSGSIZE). */
const MAX_REPLY_FDS = 3
const { EAGAIN, EMSGSIZE } = negErrno

function timeval(ms: number): Uint8Array {
  // struct timeval { long tv_sec; long tv_usec; } (LP64); {0, 0} = no timeout
  const tv = new BigInt64Array(2)
  if (Number.isFinite(ms)) {
    const us = Math.max(1000, Math.round(ms * 1000))
    tv[0] = BigInt(Math.floor(us / 1_000_000))
    tv[1] = BigInt(us % 1_000_000)
  }
  return new Uint8Array(tv.buffer)
}

export class BlockingConnection implements Disposable {
  readonly path: string
  readonly protocol: Protocol
  readonly timeout: number
  readonly #fd: OwnedFd
  /** The receive area holds a whole datagram and a little more, so an oversized reply shows as truncated. */
  readonly #io = new MsgArena({ recvSize: MSG_MAX_SIZE + 64, sendSize: MSG_MAX_SIZE, maxFds: MAX_REPLY_FDS })
  #seq = 0
  #armed: number
  #failure: VrtdError | null = null

  private constructor(fd: OwnedFd, path: string, protocol: Protocol, timeout: number) {
    this.#fd = fd
    this.path = path
    this.protocol = protocol
    this.timeout = timeout
    this.#armed = Number.NaN
    this.#arm(timeout)
  }

  /** vrtd_connect, blocking. Throws VrtdError BAD_CONN (reason CONNECT_FAILED, the errno error as cause). */
  static open(options: BlockingConnectOptions = {}): BlockingConnection {
    const path = resolveSocketPath(options.path)
    const protocol = options.protocol ?? DEFAULT_PROTOCOL
    if (!isProtocol(protocol)) throw misuse('INVALID_VALUE', `unknown protocol revision ${String(protocol)}`)
    const timeout = timeoutOf(options.timeout, DEFAULT_TIMEOUT)
    const fail = (cause: unknown): VrtdError =>
      new VrtdError(Ret.BAD_CONN, {
        reason: 'CONNECT_FAILED',
        cause,
        detail: `connect(${path}): ${(cause as { code?: string }).code ?? (cause as Error).message}`,
      })
    let addr: Uint8Array
    try {
      addr = sockaddrUn(path)
    } catch (e) {
      throw fail(errnoException(-36, 'connect', `(${(e as Error).message})`))
    }
    let fd: OwnedFd
    try {
      fd = socket(K('AF_UNIX'), K('SOCK_SEQPACKET'), 0, { nonBlocking: false })
    } catch (e) {
      throw fail(e)
    }
    try {
      setsockopt(fd, K('SOL_SOCKET'), K('SO_SNDTIMEO'), timeval(timeout))
      connectFd(fd, addr)
    } catch (e) {
      fd.close()
      throw fail(e)
    }
    return new BlockingConnection(fd, path, protocol, timeout)
  }

  get closed(): boolean {
    return this.#failure !== null
  }

  /** A typed request of this connection's revision; returns decode(reply body) or throws its VrtdError. */
  call<T>(opcode: number, body: Uint8Array, decode: Decode<T>, options?: BlockingRequestOptions): T {
    const spec = opSpec(this.protocol, opcode)
    if (spec === undefined) {
      throw new VrtdError(Ret.BAD_LIB_CALL, {
        opcode,
        reason: 'UNSUPPORTED_OPCODE',
        detail: `${opcodeName(opcode)} (${opcode}) is not part of protocol ${this.protocol}`,
      })
    }
    return this.#request(opcode, body, spec, decode as Decode<unknown>, options) as T
  }

  /** vrtd_raw_request: any opcode and body; returns the reply whatever its ret. */
  raw(opcode: number, body: Uint8Array = new Uint8Array(0), options?: BlockingRequestOptions): RawReply {
    return this.#request(opcode, body, null, null, options) as RawReply
  }

  close(): void {
    this.#fail(new VrtdError(Ret.BAD_CONN, { reason: 'CLOSED', detail: 'connection closed' }))
  }

  [Symbol.dispose](): void {
    this.close()
  }

  #request(
    opcode: number,
    body: Uint8Array,
    spec: OpSpec | null,
    decode: Decode<unknown> | null,
    options: BlockingRequestOptions = {},
  ): unknown {
    if (this.#failure !== null) throw this.#failure.forRequest(opcode, 0)
    if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xffff)
      throw misuse('INVALID_VALUE', `opcode must be a u16, got ${opcode}`)
    if (!(body instanceof Uint8Array)) throw misuse('INVALID_VALUE', 'body must be a Uint8Array')
    if (body.length > BODY_MAX) {
      throw new VrtdError(Ret.BAD_LIB_CALL, {
        opcode,
        reason: 'BODY_TOO_LARGE',
        detail: `body of ${body.length} > ${BODY_MAX} bytes`,
      })
    }
    this.#arm(timeoutOf(options.timeout, this.timeout))
    this.#seq = this.#seq >= 0xffffffff ? 1 : this.#seq + 1
    const seqno = this.#seq
    const io = this.#io
    const n = encodeRequestInto(io.sendBuffer, 0, opcode, seqno, body)
    const fds: readonly FdLike[] | undefined = options.fds
    const sent = fds && fds.length > 0 ? sendMsg(this.#fd, io.sendBuffer.subarray(0, n), { fds }) : io.send(this.#fd, n)
    if (sent < 0)
      throw this.#broken(opcode, seqno, sent === EAGAIN ? 'TIMEOUT' : 'SOCKET_ERROR', errnoException(sent, 'sendmsg'))
    const got = io.recv(this.#fd)
    if (got < 0) {
      if (got === EAGAIN)
        throw this.#broken(opcode, seqno, 'TIMEOUT', undefined, `no reply to ${opcodeName(opcode)} in time`)
      const tooMany = got === EMSGSIZE
      throw this.#broken(
        opcode,
        seqno,
        tooMany ? 'PROTOCOL' : 'SOCKET_ERROR',
        MsgArena.recvError(got),
        tooMany ? 'reply carried more fds than any reply may' : undefined,
      )
    }
    const rfds = io.takeFds()
    if (got === 0 && rfds.length === 0) throw this.#broken(opcode, seqno, 'PEER_CLOSED')
    const dv = io.recvView
    if (got < HEADER_SIZE) {
      closeAll(rfds)
      throw this.#broken(opcode, seqno, 'PROTOCOL', undefined, `reply of ${got} bytes is shorter than its header`)
    }
    const replySeq = dv.getUint32(4, true)
    if (replySeq !== seqno) {
      closeAll(rfds)
      const e = mismatch(replySeq)
      this.#fail(e)
      throw e.forRequest(opcode, seqno)
    }
    const bad = violation(dv, got, io.truncated, rfds.length, opcode, spec, this.protocol)
    if (bad !== null) {
      closeAll(rfds)
      throw this.#broken(opcode, seqno, 'PROTOCOL', undefined, bad)
    }
    return settle(dv, io.recvBuffer, opcode, spec, decode, rfds)
  }

  /** SO_RCVTIMEO for the next reply (only when it changes). */
  #arm(ms: number): void {
    if (ms === this.#armed) return
    setsockopt(this.#fd, K('SOL_SOCKET'), K('SO_RCVTIMEO'), timeval(ms))
    this.#armed = ms
  }

  #broken(opcode: number, seqno: number, reason: VrtdReason, cause?: unknown, detail?: string): VrtdError {
    const code = (cause as { code?: string } | undefined)?.code
    if (reason === 'SOCKET_ERROR' && (code === 'EPIPE' || code === 'ECONNRESET' || code === 'ENOTCONN'))
      reason = 'PEER_CLOSED'
    const text =
      detail ??
      (reason === 'PEER_CLOSED'
        ? 'the daemon closed the connection'
        : reason === 'TIMEOUT'
          ? 'timed out'
          : 'socket error')
    const e = new VrtdError(Ret.BAD_CONN, {
      opcode,
      seqno,
      reason,
      cause,
      detail: code && reason !== 'PEER_CLOSED' ? `${text} (${code})` : text,
    })
    this.#fail(e)
    return e
  }

  #fail(e: VrtdError): void {
    if (this.#failure !== null) return
    this.#failure = e
    this.#fd.close()
  }
}
