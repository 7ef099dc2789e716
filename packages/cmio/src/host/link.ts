// The host's end of one guest connection: an accepted SEQPACKET fd read one message per readiness event (the guest
// sends one message and waits, so there is never a queue to drain: no extra recv that only says EAGAIN), replies sent
// with send(2). Level-triggered readiness brings back anything a misbehaving guest sends early. This replaces a
// generic SeqpacketSocket on the yield path, which costs about half the round trip (see bench/yields.mjs).
import { FdWatcher, negErrno, type OwnedFd, recv, send, sendMsg } from '@x/native'

const { EAGAIN, ECONNRESET, EPIPE } = negErrno

export interface LinkHandlers {
  /** One message; `data` is a view valid during the call. */
  message: (data: Uint8Array) => void
  /** The guest closed its end, or the socket failed (`code` then). Called once, after which the link is closed. */
  close: (code: string | null) => void
}

export class GuestLink {
  readonly #fd: OwnedFd
  readonly #watcher: FdWatcher
  readonly #buf = new Uint8Array(64)
  #handlers: LinkHandlers
  #pending: Uint8Array[] = []
  #closed = false

  constructor(fd: OwnedFd, handlers: LinkHandlers) {
    this.#fd = fd
    this.#handlers = handlers
    this.#watcher = new FdWatcher(fd, { readable: true })
    this.#watcher.on('readable', () => this.#onReadable())
    this.#watcher.on('writable', () => this.#flush())
    this.#watcher.on('error', (e) => this.#fail((e as { code?: string }).code ?? 'EIO'))
  }

  get fd(): number {
    return this.#fd.fd
  }

  get closed(): boolean {
    return this.#closed
  }

  setHandlers(h: LinkHandlers): void {
    this.#handlers = h
  }

  #onReadable(): void {
    if (this.#closed) return
    const n = recv(this.#fd, this.#buf)
    if (n === EAGAIN) return
    if (n === 0) {
      this.#fail(null)
      return
    }
    if (n < 0) {
      this.#fail(n === ECONNRESET ? 'ECONNRESET' : `errno ${-n}`)
      return
    }
    this.#handlers.message(this.#buf.subarray(0, n))
  }

  /** Sends one message (with fds); queued when the socket buffer is full. False once closed. */
  send(data: Uint8Array, fds?: readonly OwnedFd[]): boolean {
    if (this.#closed) return false
    if (this.#pending.length === 0) {
      const r = fds && fds.length > 0 ? sendMsg(this.#fd, data, { fds }) : send(this.#fd, data)
      if (r >= 0) return true
      if (r !== EAGAIN) {
        this.#fail(r === EPIPE || r === ECONNRESET ? 'ECONNRESET' : `errno ${-r}`)
        return false
      }
      if (fds && fds.length > 0) throw new Error('socket buffer full while passing fds')
    }
    this.#pending.push(data.slice())
    this.#watcher.watch({ readable: true, writable: true })
    return true
  }

  #flush(): void {
    while (this.#pending.length > 0 && !this.#closed) {
      const r = send(this.#fd, this.#pending[0]!)
      if (r === EAGAIN) return
      if (r < 0) {
        this.#fail('ECONNRESET')
        return
      }
      this.#pending.shift()
    }
    if (!this.#closed) this.#watcher.watch({ readable: true })
  }

  #fail(code: string | null): void {
    if (this.#closed) return
    this.close()
    this.#handlers.close(code)
  }

  /** Stops watching and closes the fd (no callback). Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#watcher.close()
    this.#fd.close()
    this.#pending.length = 0
  }
}
