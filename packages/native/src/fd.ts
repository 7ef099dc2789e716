// OwnedFd: a file descriptor with one owner. close() is explicit and idempotent; a FinalizationRegistry only
// backstops a forgotten close (with a warning), the way Node's FileHandle does.
import { binding, K } from './binding.js'
import { XNativeError } from './errors.js'

const leaked = new FinalizationRegistry<{ fd: number; what: string }>((held) => {
  try {
    binding.close(held.fd)
  } catch {
    // already gone
  }
  process.emitWarning(`@x/native: closing ${held.what} fd ${held.fd} on garbage collection; call close()`, {
    code: 'X_FD_LEAK',
  })
})

export class OwnedFd implements Disposable {
  #fd: number
  readonly #what: string

  constructor(fd: number, what = 'file') {
    if (!Number.isInteger(fd) || fd < 0) throw new XNativeError('ERR_INVALID_ARG_VALUE', `not a file descriptor: ${fd}`)
    this.#fd = fd
    this.#what = what
    leaked.register(this, { fd, what }, this)
  }

  /** The fd number; throws ERR_CLOSED once closed. */
  get fd(): number {
    if (this.#fd < 0) throw new XNativeError('ERR_CLOSED', `${this.#what} fd is closed`)
    return this.#fd
  }

  get closed(): boolean {
    return this.#fd < 0
  }

  /** Closes once; later calls do nothing. Never retried on EINTR. */
  close(): void {
    const fd = this.#fd
    if (fd < 0) return
    this.#fd = -1
    leaked.unregister(this)
    binding.close(fd)
  }

  /** Gives up ownership: returns the number and forgets it (no close, no finalizer). */
  release(): number {
    const fd = this.fd
    this.#fd = -1
    leaked.unregister(this)
    return fd
  }

  /** A new owned fd for the same open file (F_DUPFD_CLOEXEC). */
  dup(): OwnedFd {
    return new OwnedFd(binding.fcntl(this.fd, K('F_DUPFD_CLOEXEC'), 0), this.#what)
  }

  /** Sets or clears O_NONBLOCK. */
  setNonBlocking(on: boolean): void {
    const fl = binding.fcntl(this.fd, K('F_GETFL'))
    const next = on ? fl | K('O_NONBLOCK') : fl & ~K('O_NONBLOCK')
    if (next !== fl) binding.fcntl(this.fd, K('F_SETFL'), next)
  }

  [Symbol.dispose](): void {
    this.close()
  }

  toString(): string {
    return `OwnedFd(${this.#fd < 0 ? 'closed' : this.#fd})`
  }
}

export type FdLike = OwnedFd | number

export function fdOf(f: FdLike): number {
  return typeof f === 'number' ? f : f.fd
}

/** pipe2(O_CLOEXEC | O_NONBLOCK) → [read end, write end]. */
export function pipe(options: { nonBlocking?: boolean } = {}): [OwnedFd, OwnedFd] {
  const flags = K('O_CLOEXEC') | (options.nonBlocking === false ? 0 : K('O_NONBLOCK'))
  const [r, w] = binding.pipe2(flags)
  return [new OwnedFd(r, 'pipe'), new OwnedFd(w, 'pipe')]
}

function window(view: ArrayBufferView): [ArrayBufferView, number, number] {
  return [view, 0, view.byteLength]
}

/** read(2) into view → bytes read (0 at EOF) or -errno (-EAGAIN when nothing is ready). Never throws for I/O. */
export function read(fd: FdLike, view: ArrayBufferView): number {
  return binding.read(fdOf(fd), ...window(view))
}

/** write(2) from view → bytes written or -errno. */
export function write(fd: FdLike, view: ArrayBufferView): number {
  return binding.write(fdOf(fd), ...window(view))
}
