// An fd with a readiness watcher: `drain` runs when it is readable (one uv_poll wake-up, no polling loop); after a
// failure the watcher is paused for 1 s — the reference sleeps 1 s after a receive/accept error — then resumed.
import { FdWatcher, type OwnedFd } from '@x/native'

const BACKOFF_MS = 1000

export class WatchedFd {
  readonly fd: OwnedFd
  readonly watcher: FdWatcher
  readonly #onError: (err: Error) => void
  #paused: NodeJS.Timeout | null = null
  #closed = false

  constructor(fd: OwnedFd, drain: () => void, onError: (err: Error) => void) {
    this.fd = fd
    this.#onError = onError
    this.watcher = new FdWatcher(fd)
    this.watcher.on('readable', drain)
    this.watcher.on('error', (e) => this.fail(e))
  }

  get closed(): boolean {
    return this.#closed
  }

  start(): void {
    this.watcher.watch({ readable: true })
  }

  /** Reports the error, then stops watching for a second. */
  fail(err: Error): void {
    this.#onError(err)
    if (this.#closed || this.#paused) return
    this.watcher.watch({})
    this.#paused = setTimeout(() => {
      this.#paused = null
      if (!this.#closed) this.watcher.watch({ readable: true })
    }, BACKOFF_MS)
    this.#paused.unref()
  }

  /** Stops watching, then closes the fd. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#paused) clearTimeout(this.#paused)
    this.watcher.close()
    this.fd.close()
  }
}
