// Connection: one SOCK_SEQPACKET connection to vrtd (what libvrtd calls the `fd`). Requests carry a unique seqno
// (per connection, 1 … 2^32-1, never 0) and replies are matched to them by it, so any number of async callers may
// have requests in flight; the daemon answers them in order. Every request has a deadline. A dead daemon, a
// timeout or a reply that breaks the protocol tears the connection down and fails every pending request with
// BAD_CONN at once — nothing waits forever.
//
// Readiness comes from one FdWatcher on the socket; it holds the event loop open only while requests are pending,
// so an idle connection never keeps a process alive. Replies are decoded straight out of one reused receive
// buffer (4096 + 64 bytes, room for 3 fds: extras are detected and closed).
import { encodeRequestInto } from '@x/framing'
import {
  connect as connectFd,
  errnoException,
  type FdLike,
  FdWatcher,
  K,
  MsgArena,
  negErrno,
  OwnedFd,
  SendBatch,
  sendMmsg,
  sendMsg,
  sockaddrUn,
  socket,
  socketError,
} from '@x/native'
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

export type { Decode, RawReply } from './reply.js'

export const DEFAULT_TIMEOUT = 10_000

export interface ConnectOptions {
  /** Socket path; default $VRTD_SOCKET, else /run/vrtd.sock. */
  path?: string
  /** Protocol revision spoken (default 'v1.0'). There is no negotiation: pick the daemon's. */
  protocol?: Protocol
  /** Default per-request timeout in ms (default 10 000; 0 or Infinity: none). */
  timeout?: number
  /** Aborts a connect that is waiting (a full listen backlog). */
  signal?: AbortSignal
}

export interface RequestOptions {
  /** fds to pass with the request (SCM_RIGHTS); the caller keeps its own. */
  fds?: readonly FdLike[]
  /** This request's timeout in ms (default: the connection's). Exceeding it tears the connection down. */
  timeout?: number
  /** Abandons the request: it rejects with BAD_CONN (reason ABORTED); its late reply is discarded. */
  signal?: AbortSignal
}

interface Pending {
  opcode: number
  seqno: number
  deadline: number
  spec: OpSpec | null
  decode: Decode<unknown> | null
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  abandoned: boolean
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

interface Queued {
  data: Uint8Array
  fds: OwnedFd[]
}

const { EAGAIN, EMSGSIZE } = negErrno
/** Replies bring at most 3 fds; more is a protocol violation (the arena's recv closes them: -EMSGSIZE). */
const MAX_REPLY_FDS = 3

/** A reply whose seqno matches no request (the hardening branch's RESPONSE_MISMATCH). */
export function mismatch(seqno: number): VrtdError {
  return new VrtdError(Ret.RESPONSE_MISMATCH, {
    seqno,
    reason: 'PROTOCOL',
    detail: `reply seqno ${seqno} matches no request in flight`,
  })
}

export function timeoutOf(t: number | undefined, fallback: number): number {
  const v = t ?? fallback
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0)
    throw misuse('INVALID_VALUE', `timeout must be >= 0 ms, got ${v}`)
  return v === 0 ? Number.POSITIVE_INFINITY : v
}

export class Connection implements Disposable {
  readonly path: string
  readonly protocol: Protocol
  readonly timeout: number
  readonly #fd: OwnedFd
  readonly #watcher: FdWatcher
  readonly #pending = new Map<number, Pending>()
  /** Receive area (a datagram and a little more, so an oversized reply shows as truncated) and request area. */
  readonly #io = new MsgArena({ recvSize: MSG_MAX_SIZE + 64, sendSize: MSG_MAX_SIZE, maxFds: MAX_REPLY_FDS })
  readonly #outbox: Queued[] = []
  readonly #batch = new SendBatch({ capacity: 64, bytes: 64 * 1024 })
  #tickOpen = false
  #seq = 0
  #refs = false
  #failure: VrtdError | null = null
  #closed = false
  #timer: NodeJS.Timeout | null = null
  #timerAt = Number.POSITIVE_INFINITY

  private constructor(fd: OwnedFd, path: string, protocol: Protocol, timeout: number) {
    this.#fd = fd
    this.path = path
    this.protocol = protocol
    this.timeout = timeout
    this.#watcher = new FdWatcher(fd, { readable: true, ref: false })
    this.#watcher.on('readable', () => this.#onReadable())
    this.#watcher.on('writable', () => this.#flush())
    this.#watcher.on('error', (e) => this.#teardown(this.#connError('SOCKET_ERROR', 'socket error', e)))
  }

  /** Connects (vrtd_connect). Fails with VrtdError BAD_CONN (reason CONNECT_FAILED, the errno error as cause). */
  static async open(options: ConnectOptions = {}): Promise<Connection> {
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
    options.signal?.throwIfAborted()
    let addr: Uint8Array
    try {
      addr = sockaddrUn(path)
    } catch (e) {
      const err = errnoException(-36, 'connect', `(${(e as Error).message})`) // ENAMETOOLONG, as libvrtd's connect
      throw fail(err)
    }
    let fd: OwnedFd
    try {
      fd = socket(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    } catch (e) {
      throw fail(e)
    }
    try {
      const r = connectFd(fd, addr)
      if (r < 0) {
        // A full backlog: wait for writability (bounded by the request timeout), then read SO_ERROR.
        const w = new FdWatcher(fd)
        const ac = new AbortController()
        const timer = Number.isFinite(timeout)
          ? setTimeout(() => ac.abort(new Error('connect timed out')), timeout)
          : null
        const onAbort = (): void => ac.abort(options.signal?.reason)
        options.signal?.addEventListener('abort', onAbort, { once: true })
        try {
          await w.wait('writable', ac.signal)
        } finally {
          if (timer) clearTimeout(timer)
          options.signal?.removeEventListener('abort', onAbort)
          w.close()
        }
        const so = socketError(fd)
        if (so !== 0) throw errnoException(-so, 'connect')
      }
    } catch (e) {
      fd.close()
      throw fail(e)
    }
    return new Connection(fd, path, protocol, timeout)
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Requests sent and not yet answered. */
  get pending(): number {
    return this.#pending.size
  }

  /** The fd number of the socket (for logs; do not close it). */
  get fd(): number {
    return this.#fd.fd
  }

  /**
   * Sends a typed request of this connection's revision and resolves with decode(reply body), after checking
   * the reply against the revision's table (size ≥ expected, fds as expected: extras are closed). A non-OK reply
   * rejects with its VrtdError.
   */
  call<T>(opcode: number, body: Uint8Array, decode: Decode<T>, options?: RequestOptions): Promise<T> {
    const spec = opSpec(this.protocol, opcode)
    if (spec === undefined) {
      return Promise.reject(
        new VrtdError(Ret.BAD_LIB_CALL, {
          opcode,
          reason: 'UNSUPPORTED_OPCODE',
          detail: `${opcodeName(opcode)} (${opcode}) is not part of protocol ${this.protocol}`,
        }),
      )
    }
    return this.#request(opcode, body, spec, decode as Decode<unknown>, options) as Promise<T>
  }

  /**
   * vrtd_raw_request: any opcode, any body (≤ 4088 bytes). Resolves with the reply whatever its ret (an error
   * reply has an empty body); rejects only for transport failures (BAD_CONN) and misuse (BAD_LIB_CALL).
   */
  raw(opcode: number, body: Uint8Array = new Uint8Array(0), options?: RequestOptions): Promise<RawReply> {
    return this.#request(opcode, body, null, null, options) as Promise<RawReply>
  }

  /** Closes the socket; pending requests reject with BAD_CONN (reason CLOSED). Idempotent. */
  close(): void {
    this.#teardown(new VrtdError(Ret.BAD_CONN, { reason: 'CLOSED', detail: 'connection closed' }))
  }

  [Symbol.dispose](): void {
    this.close()
  }

  #request(
    opcode: number,
    body: Uint8Array,
    spec: OpSpec | null,
    decode: Decode<unknown> | null,
    options: RequestOptions = {},
  ): Promise<unknown> {
    if (this.#failure !== null) return Promise.reject(this.#failure.forRequest(opcode, 0))
    if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xffff) {
      return Promise.reject(misuse('INVALID_VALUE', `opcode must be a u16, got ${opcode}`))
    }
    if (!(body instanceof Uint8Array)) return Promise.reject(misuse('INVALID_VALUE', 'body must be a Uint8Array'))
    if (body.length > BODY_MAX) {
      return Promise.reject(
        new VrtdError(Ret.BAD_LIB_CALL, {
          opcode,
          reason: 'BODY_TOO_LARGE',
          detail: `body of ${body.length} > ${BODY_MAX} bytes`,
        }),
      )
    }
    let timeout: number
    try {
      timeout = timeoutOf(options.timeout, this.timeout)
    } catch (e) {
      return Promise.reject(e)
    }
    const signal = options.signal
    if (signal?.aborted) return Promise.reject(this.#aborted(opcode, 0))
    const seqno = this.#nextSeqno()
    const n = encodeRequestInto(this.#io.sendBuffer, 0, opcode, seqno, body)
    return new Promise((resolve, reject) => {
      const p: Pending = {
        opcode,
        seqno,
        deadline: performance.now() + timeout,
        spec,
        decode,
        resolve,
        reject,
        abandoned: false,
        signal,
        onAbort: undefined,
      }
      if (signal) {
        p.onAbort = () => this.#abandon(p, this.#aborted(opcode, seqno))
        signal.addEventListener('abort', p.onAbort, { once: true })
      }
      this.#pending.set(seqno, p)
      if (!this.#refs) {
        this.#refs = true
        this.#watcher.ref()
      }
      if (p.deadline < this.#timerAt) this.#arm(p.deadline)
      this.#transmit(this.#io.sendBuffer.subarray(0, n), options.fds)
    })
  }

  #nextSeqno(): number {
    for (;;) {
      this.#seq = this.#seq >= 0xffffffff ? 1 : this.#seq + 1
      if (!this.#pending.has(this.#seq)) return this.#seq
    }
  }

  #aborted(opcode: number, seqno: number): VrtdError {
    return new VrtdError(Ret.BAD_CONN, { opcode, seqno, reason: 'ABORTED', detail: 'request aborted' })
  }

  /** The caller gives up; the request stays registered so its reply is recognised and dropped. */
  #abandon(p: Pending, err: VrtdError): void {
    if (p.abandoned) return
    p.abandoned = true
    p.reject(err)
  }

  /**
   * Sends a request. The first one of a tick goes out at once; requests issued later in the same tick (pipelining
   * callers, continuations resumed by one burst of replies) are batched and sent together by one sendmmsg at the
   * end of the tick. Requests with fds are never batched (the caller may close its fd right after the call).
   */
  #transmit(data: Uint8Array, fds: readonly FdLike[] | undefined): void {
    if (this.#closed) return
    const withFds = fds !== undefined && fds.length > 0
    if (this.#outbox.length === 0 && !withFds && this.#tickOpen) {
      if (this.#batch.add(data)) return
      this.#sendBatch()
      if (this.#outbox.length === 0 && this.#batch.add(data)) return
    }
    if (withFds) this.#sendBatch()
    if (this.#outbox.length === 0) {
      if (!this.#tickOpen) {
        this.#tickOpen = true
        queueMicrotask(this.#endTick)
      }
      const r = withFds ? sendMsg(this.#fd, data, { fds }) : this.#io.sendFrom(this.#fd, data)
      if (r >= 0) return
      if (r !== EAGAIN) {
        this.#teardown(this.#connError('SOCKET_ERROR', 'send failed', errnoException(r, 'sendmsg')))
        return
      }
    }
    this.#queue(data, fds)
  }

  readonly #endTick = (): void => {
    this.#tickOpen = false
    this.#sendBatch()
  }

  /** Sends the batched requests (one sendmmsg); what does not fit goes to the outbox, in order. */
  #sendBatch(): void {
    const b = this.#batch
    while (b.count > 0 && !this.#closed) {
      if (this.#outbox.length > 0) break
      const n = sendMmsg(this.#fd, b)
      if (n > 0) {
        b.consume(n)
        continue
      }
      if (n === EAGAIN || n === 0) break
      b.clear()
      this.#teardown(this.#connError('SOCKET_ERROR', 'send failed', errnoException(n, 'sendmmsg')))
      return
    }
    // leftovers (socket buffer full): into the outbox, in order
    let at = 0
    for (let i = 0; i < b.count; i++) {
      const len = b.lens[i]!
      this.#queue(b.buffer.subarray(at, at + len), undefined)
      at += len
    }
    b.clear()
  }

  /** Socket buffer full (or older messages queued): keep order, send when writable. fds are duplicated so the
   * caller may close its own right away. */
  #queue(data: Uint8Array, fds: readonly FdLike[] | undefined): void {
    const owned: OwnedFd[] = []
    try {
      for (const f of fds ?? []) owned.push(typeof f === 'number' ? dupNumber(f) : f.dup())
    } catch (e) {
      closeAll(owned)
      this.#teardown(this.#connError('SOCKET_ERROR', 'cannot keep fds for a queued request', e))
      return
    }
    this.#outbox.push({ data: data.slice(), fds: owned })
    if (this.#outbox.length === 1) this.#watcher.watch({ readable: true, writable: true })
  }

  #flush(): void {
    while (this.#outbox.length > 0 && !this.#closed) {
      const m = this.#outbox[0]!
      const r = m.fds.length > 0 ? sendMsg(this.#fd, m.data, { fds: m.fds }) : sendMsg(this.#fd, m.data)
      if (r === EAGAIN) return
      this.#outbox.shift()
      closeAll(m.fds)
      if (r < 0) {
        this.#teardown(this.#connError('SOCKET_ERROR', 'send failed', errnoException(r, 'sendmsg')))
        return
      }
    }
    if (!this.#closed) this.#watcher.watch({ readable: true })
  }

  #onReadable(): void {
    // Level-triggered: with no request pending, one read is enough (it finds EOF or a stray reply), and a reply
    // that empties the pending set ends the drain without another recvmsg.
    for (let budget = 64; budget > 0 && !this.#closed; budget--) {
      if (budget < 64 && this.#pending.size === 0) return
      const n = this.#io.recv(this.#fd)
      if (n === EAGAIN) return
      if (n < 0) {
        const e = MsgArena.recvError(n)
        // EMSGSIZE: MSG_CTRUNC, more than 3 fds (already closed by the arena)
        this.#teardown(
          n === EMSGSIZE
            ? this.#connError('PROTOCOL', 'reply carried more fds than any reply may', e)
            : this.#connError('SOCKET_ERROR', 'receive failed', e),
        )
        return
      }
      const fds = this.#io.takeFds()
      if (n === 0 && fds.length === 0) {
        this.#teardown(this.#connError('PEER_CLOSED', 'the daemon closed the connection'))
        return
      }
      this.#onReply(n, this.#io.truncated, fds)
    }
  }

  #onReply(len: number, truncated: boolean, fds: OwnedFd[]): void {
    const dv = this.#io.recvView
    if (len < HEADER_SIZE) {
      closeAll(fds)
      this.#teardown(this.#connError('PROTOCOL', `reply of ${len} bytes is shorter than its header`))
      return
    }
    const seqno = dv.getUint32(4, true)
    const p = this.#pending.get(seqno)
    if (p === undefined) {
      closeAll(fds)
      this.#teardown(mismatch(seqno))
      return
    }
    const bad = violation(dv, len, truncated, fds.length, p.opcode, p.spec, this.protocol)
    if (bad !== null) {
      closeAll(fds)
      this.#teardown(this.#connError('PROTOCOL', bad))
      return
    }
    this.#settle(p)
    if (p.abandoned) {
      closeAll(fds)
      return
    }
    let value: unknown
    try {
      value = settle(dv, this.#io.recvBuffer, p.opcode, p.spec, p.decode, fds)
    } catch (e) {
      p.reject(e as Error)
      return
    }
    p.resolve(value)
  }

  /** Unregisters a request that got its reply. */
  #settle(p: Pending): void {
    this.#pending.delete(p.seqno)
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort)
    if (this.#pending.size === 0 && this.#refs) {
      this.#refs = false
      this.#watcher.unref()
    }
  }

  #arm(at: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timerAt = at
    if (!Number.isFinite(at)) {
      this.#timer = null
      return
    }
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(1, Math.ceil(at - performance.now())))
    this.#timer.unref()
  }

  #onTimer(): void {
    this.#timer = null
    this.#timerAt = Number.POSITIVE_INFINITY
    const now = performance.now()
    let next = Number.POSITIVE_INFINITY
    for (const p of this.#pending.values()) {
      if (p.deadline <= now) {
        this.#teardown(
          this.#connError(
            'TIMEOUT',
            `no reply to ${opcodeName(p.opcode)} (seqno ${p.seqno}) in time; the connection was closed`,
          ),
        )
        return
      }
      if (p.deadline < next) next = p.deadline
    }
    if (Number.isFinite(next)) this.#arm(next)
  }

  #connError(reason: VrtdReason, detail: string, cause?: unknown): VrtdError {
    const code = (cause as { code?: string } | undefined)?.code
    if (reason === 'SOCKET_ERROR' && (code === 'EPIPE' || code === 'ECONNRESET' || code === 'ENOTCONN')) {
      reason = 'PEER_CLOSED'
      detail = 'the daemon closed the connection'
    }
    return new VrtdError(Ret.BAD_CONN, { reason, cause, detail: code ? `${detail} (${code})` : detail })
  }

  #teardown(err: VrtdError): void {
    if (this.#closed) return
    this.#closed = true
    this.#failure = err
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#watcher.close()
    this.#fd.close()
    for (const m of this.#outbox.splice(0)) closeAll(m.fds)
    this.#batch.clear()
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) {
      if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort)
      if (!p.abandoned) p.reject(err.forRequest(p.opcode, p.seqno))
    }
  }
}

/** A bare fd number from the caller, duplicated (F_DUPFD_CLOEXEC) without taking the caller's over. */
function dupNumber(fd: number): OwnedFd {
  const borrowed = new OwnedFd(fd, 'borrowed')
  try {
    return borrowed.dup()
  } finally {
    borrowed.release()
  }
}
