// The UDP control socket: one fd that sends and receives (datagrams leave from the bound control port). Receiving
// is a native poll callback that drains with recvmmsg and calls JS once per batch of up to 64 datagrams — no
// polling loop, no extra native call per wake-up, no allocation per datagram.
import {
  DatagramBatch,
  DatagramReceiver,
  errnoException,
  FdWatcher,
  negErrno,
  type OwnedFd,
  type Sockaddr,
  sendMsg,
} from '@x/native'

const { EAGAIN, EINTR } = negErrno
/** The reference sleeps 1 s after a receive error; we stop receiving for 1 s (a back-off, not a poll). */
const BACKOFF_MS = 1000

export class ControlSocket {
  readonly fd: OwnedFd
  readonly batch = new DatagramBatch({ slots: 64, slotSize: 65536 })
  readonly #rx: DatagramReceiver
  readonly #onError: (err: Error) => void
  /** Writability watcher for a full send buffer, on a dup of the fd (one uv_poll per fd number). */
  #tx: { fd: OwnedFd; w: FdWatcher } | null = null
  #paused: NodeJS.Timeout | null = null
  #closed = false

  /** onBatch: datagrams 0…n-1 of `batch` arrived (valid until it returns); onError: a receive failed. */
  constructor(fd: OwnedFd, onBatch: (batch: DatagramBatch, n: number) => void, onError: (err: Error) => void) {
    this.fd = fd
    this.#onError = onError
    const batch = this.batch
    this.#rx = new DatagramReceiver(
      fd,
      batch,
      (n) => onBatch(batch, n),
      (e) => this.#fail(e),
    )
  }

  start(): void {
    this.#rx.start()
  }

  /** Sends one datagram; waits for room when the socket buffer is full. Throws the OS error. */
  send(data: Uint8Array, to: Sockaddr): number | Promise<number> {
    const r = sendMsg(this.fd, data, { to })
    if (r >= 0) return r
    if (r === EAGAIN || r === EINTR) return this.#sendLater(data.slice(), to)
    throw errnoException(r, 'sendmsg')
  }

  /** Sends and ignores the result (the automatic pong: Rust ignores send_to's result too). */
  trySend(data: Uint8Array, to: Uint8Array): void {
    sendMsg(this.fd, data, { to })
  }

  async #sendLater(data: Uint8Array, to: Sockaddr): Promise<number> {
    for (;;) {
      if (this.#tx === null) {
        const dup = this.fd.dup()
        this.#tx = { fd: dup, w: new FdWatcher(dup) }
      }
      await this.#tx.w.wait('writable')
      const r = sendMsg(this.fd, data, { to })
      if (r >= 0) return r
      if (r !== EAGAIN && r !== EINTR) throw errnoException(r, 'sendmsg')
    }
  }

  #fail(err: Error): void {
    this.#onError(err)
    if (this.#closed || this.#paused) return
    this.#rx.stop()
    this.#paused = setTimeout(() => {
      this.#paused = null
      if (!this.#closed) this.#rx.start()
    }, BACKOFF_MS)
    this.#paused.unref()
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#paused) clearTimeout(this.#paused)
    this.#rx.close()
    if (this.#tx) {
      this.#tx.w.close()
      this.#tx.fd.close()
    }
    this.fd.close()
  }
}
