// MsgArena: sendmsg/recvmsg for request/reply hot paths (a daemon's loop, a blocking client) over one ArrayBuffer
// validated once. Each call passes only scalars, returns a count or -errno, and allocates nothing unless fds arrive.
import { binding, K } from './binding.js'
import { errnoException, negErrno, type SystemError, XNativeError } from './errors.js'
import { type FdLike, fdOf, OwnedFd } from './fd.js'
import { sendMsg } from './msg.js'

export interface MsgArenaOptions {
  /** Bytes of the receive area (default 4096): a longer datagram is cut, with `truncated` set. */
  recvSize?: number
  /** Bytes of the send area (default 4096). */
  sendSize?: number
  /** How many fds one message may bring (default 0; at most 253). More is MSG_CTRUNC: `recv` returns -EMSGSIZE. */
  maxFds?: number
}

const { EINVAL, EMSGSIZE } = negErrno

/**
 * A receive area (`recvBuffer`) and a send area (`sendBuffer`) in one ArrayBuffer that the addon checks once.
 * `recv(fd)` receives one message into `recvBuffer` → its byte count (0: EOF, or an empty message with fds) or
 * -errno (-EAGAIN when nothing is queued; -EMSGSIZE when more fds came than `maxFds`, all of them closed); then
 * `flags`, `truncated` and `fdCount` describe it and `takeFds()` hands its fds over (fds not taken are closed by the
 * next `recv`, so none leak). `send(fd, length)` sends `sendBuffer[0, length)` (or `sendAt(fd, offset, length)`).
 * Not for messages that carry fds out: use sendMsg for those.
 */
export class MsgArena implements Disposable {
  readonly recvBuffer: Uint8Array
  readonly recvView: DataView
  readonly sendBuffer: Uint8Array
  readonly sendView: DataView
  readonly maxFds: number
  readonly #recvSize: number
  readonly #sendOffset: number
  readonly #info: Int32Array
  readonly #fds: Int32Array
  readonly #recv: (fd: number, offset: number, length: number, flags: number) => number
  readonly #send: (fd: number, offset: number, length: number, flags: number) => number
  #pending = 0

  constructor(options: MsgArenaOptions = {}) {
    const recvSize = size('recvSize', options.recvSize ?? 4096)
    const sendSize = size('sendSize', options.sendSize ?? 4096)
    const maxFds = options.maxFds ?? 0
    if (!Number.isInteger(maxFds) || maxFds < 0 || maxFds > 253)
      throw new XNativeError('ERR_OUT_OF_RANGE', `maxFds must be an integer in 0…253, got ${maxFds}`)
    // layout: [info: 2 × i32][fds: maxFds × i32][recv area][send area], the areas 8-byte aligned
    const fdsOffset = 8
    const recvOffset = align8(fdsOffset + 4 * maxFds)
    const sendOffset = align8(recvOffset + recvSize)
    const ab = new ArrayBuffer(sendOffset + sendSize)
    this.#info = new Int32Array(ab, 0, 2)
    this.#fds = new Int32Array(ab, fdsOffset, maxFds)
    this.recvBuffer = new Uint8Array(ab, recvOffset, recvSize)
    this.recvView = new DataView(ab, recvOffset, recvSize)
    this.sendBuffer = new Uint8Array(ab, sendOffset, sendSize)
    this.sendView = new DataView(ab, sendOffset, sendSize)
    this.maxFds = maxFds
    this.#recvSize = recvSize
    this.#sendOffset = sendOffset
    const [recv, send] = binding.msgarena(ab, fdsOffset, maxFds, 0)
    this.#recv = recv
    this.#send = send
  }

  /** recvmsg(2) into recvBuffer (MSG_CMSG_CLOEXEC) → bytes or -errno. Never throws. */
  recv(fd: FdLike, flags = 0): number {
    if (this.#pending > 0) this.#closePending()
    const n = this.#recv(fdOf(fd), this.recvBuffer.byteOffset, this.#recvSize, flags)
    if (n < 0) return n
    if (this.#info[0]! & MSG_CTRUNC) return EMSGSIZE
    this.#pending = this.#info[1]!
    return n
  }

  /** The Node-style error for a negative `recv` result; -EMSGSIZE says the control data was cut (fds closed). */
  static recvError(n: number): SystemError {
    return n === EMSGSIZE
      ? errnoException(n, 'recvmsg', '(control data truncated, MSG_CTRUNC: received fds were closed)')
      : errnoException(n, 'recvmsg')
  }

  /** The last message's msg_flags. */
  get flags(): number {
    return this.#info[0]!
  }

  /** MSG_TRUNC: the last message was longer than recvBuffer; the rest is lost. */
  get truncated(): boolean {
    return (this.#info[0]! & MSG_TRUNC) !== 0
  }

  /** Fds the last message brought that are not taken yet. */
  get fdCount(): number {
    return this.#pending
  }

  /** The last message's fds, now the caller's. */
  takeFds(): OwnedFd[] {
    const n = this.#pending
    if (n === 0) return []
    this.#pending = 0
    const out: OwnedFd[] = []
    for (let i = 0; i < n; i++) out.push(new OwnedFd(this.#fds[i]!, 'received'))
    return out
  }

  /** sendmsg(2) of sendBuffer[0, length) (MSG_NOSIGNAL) → bytes or -errno (-EINVAL for a bad length). */
  send(fd: FdLike, length: number, flags = 0): number {
    if (!(Number.isInteger(length) && length >= 0 && length <= this.sendBuffer.byteLength)) return EINVAL
    return this.#send(fdOf(fd), this.#sendOffset, length, flags)
  }

  /** sendmsg(2) of sendBuffer[offset, offset + length) → bytes or -errno (-EINVAL outside the send area). */
  sendAt(fd: FdLike, offset: number, length: number, flags = 0): number {
    if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0)) return EINVAL
    if (offset + length > this.sendBuffer.byteLength) return EINVAL
    return this.#send(fdOf(fd), this.#sendOffset + offset, length, flags)
  }

  /** Closes the fds of the last message that were not taken. The arena stays usable (it owns no other resource). */
  close(): void {
    if (this.#pending > 0) this.#closePending()
  }

  [Symbol.dispose](): void {
    this.close()
  }

  /**
   * sendmsg(2) of any view → bytes or -errno: a view of sendBuffer goes out by offset (nothing re-parsed), any other
   * through sendMsg. For callers whose messages are usually, not always, built in the send area.
   */
  sendFrom(fd: FdLike, view: ArrayBufferView, flags = 0): number {
    const own = this.sendBuffer
    if (view.buffer === own.buffer && view.byteOffset >= own.byteOffset)
      return this.sendAt(fd, view.byteOffset - own.byteOffset, view.byteLength, flags)
    return sendMsg(fd, view, { flags })
  }

  #closePending(): void {
    for (let i = 0; i < this.#pending; i++) binding.close(this.#fds[i]!)
    this.#pending = 0
  }
}

const MSG_TRUNC = K('MSG_TRUNC')
const MSG_CTRUNC = K('MSG_CTRUNC')

function size(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 1 << 30)
    throw new XNativeError('ERR_OUT_OF_RANGE', `${name} must be an integer in 1…2^30, got ${n}`)
  return n
}

function align8(n: number): number {
  return (n + 7) & ~7
}
