// FdWatcher: 'readable' / 'writable' events for any fd, from a uv_poll handle on this thread's own loop.
// One native callback per wake-up (MakeCallback, so microtasks run after it); no polling loop, no timer.
import { EventEmitter } from 'node:events'
import { binding, K, type NativeFdWatcher } from './binding.js'
import { errnoException, XNativeError } from './errors.js'
import { type FdLike, fdOf } from './fd.js'
import { socketError } from './socket.js'

const UV_READABLE = K('UV_READABLE')
const UV_WRITABLE = K('UV_WRITABLE')

export interface WatchOptions {
  readable?: boolean
  writable?: boolean
  /** Keep the event loop alive while watching (default true). */
  ref?: boolean
}

export interface FdWatcherEvents {
  readable: []
  writable: []
  error: [Error]
  close: []
}

export class FdWatcher extends EventEmitter<FdWatcherEvents> implements Disposable {
  readonly fd: number
  #native: NativeFdWatcher | null
  #events = 0

  constructor(fd: FdLike, options: WatchOptions = {}) {
    super()
    this.fd = fdOf(fd)
    this.#native = new binding.FdWatcher(this.fd, (status, events) => this.#onPoll(status, events))
    if (options.ref === false) this.#native.unref()
    if (options.readable || options.writable) this.watch(options)
  }

  /** Changes the interest set; {} stops watching (the handle stays open for later). */
  watch(options: { readable?: boolean; writable?: boolean }): this {
    const n = this.#live()
    const ev = (options.readable ? UV_READABLE : 0) | (options.writable ? UV_WRITABLE : 0)
    if (ev === this.#events) return this // unchanged: no epoll_ctl
    this.#events = ev
    const r = ev === 0 ? n.stop() : n.start(ev)
    if (r < 0) throw errnoException(r, 'uv_poll_start')
    return this
  }

  get watching(): { readable: boolean; writable: boolean } {
    return { readable: (this.#events & K('UV_READABLE')) !== 0, writable: (this.#events & K('UV_WRITABLE')) !== 0 }
  }

  get closed(): boolean {
    return this.#native === null
  }

  ref(): this {
    this.#native?.ref()
    return this
  }

  unref(): this {
    this.#native?.unref()
    return this
  }

  /** Resolves at the next readable (or writable) event; rejects on error, close or abort. */
  wait(event: 'readable' | 'writable', signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const before = this.#events
      const want = event === 'readable' ? K('UV_READABLE') : K('UV_WRITABLE')
      const cleanup = (): void => {
        this.off(event, onEvent)
        this.off('error', onError)
        this.off('close', onClose)
        signal?.removeEventListener('abort', onAbort)
        if (!this.closed && this.#events !== before && (before & want) === 0) this.watch(maskToOpts(before))
      }
      const onEvent = (): void => {
        cleanup()
        resolve()
      }
      const onError = (e: Error): void => {
        cleanup()
        reject(e)
      }
      const onClose = (): void => {
        cleanup()
        reject(new XNativeError('ERR_CLOSED', 'watcher closed'))
      }
      const onAbort = (): void => {
        cleanup()
        reject(signal!.reason)
      }
      this.on(event, onEvent)
      this.on('error', onError)
      this.on('close', onClose)
      signal?.addEventListener('abort', onAbort, { once: true })
      if ((before & want) === 0) this.watch(maskToOpts(before | want))
    })
  }

  /** Stops polling and closes the handle. The fd is not closed: close it after this. Idempotent. */
  close(): void {
    const n = this.#native
    if (n === null) return
    this.#native = null
    this.#events = 0
    n.close()
    this.emit('close')
  }

  [Symbol.dispose](): void {
    this.close()
  }

  #live(): NativeFdWatcher {
    if (this.#native === null) throw new XNativeError('ERR_CLOSED', 'watcher is closed')
    return this.#native
  }

  #onPoll(status: number, events: number): void {
    if (status < 0) {
      // libuv reports POLLERR as EBADF and stops the handle: find the socket's real error if there is one.
      let err = status
      try {
        const so = socketError(this.fd)
        if (so > 0) err = -so
      } catch {
        // not a socket
      }
      this.#events = 0
      this.emit('error', errnoException(err, 'poll'))
      return
    }
    if (events & UV_READABLE) this.emit('readable')
    if (this.#native !== null && events & UV_WRITABLE) this.emit('writable')
  }
}

function maskToOpts(mask: number): { readable: boolean; writable: boolean } {
  return { readable: (mask & K('UV_READABLE')) !== 0, writable: (mask & K('UV_WRITABLE')) !== 0 }
}

/** Resolves when fd is readable (a one-shot watcher, closed afterwards). */
export async function waitReadable(fd: FdLike, signal?: AbortSignal): Promise<void> {
  const w = new FdWatcher(fd)
  try {
    await w.wait('readable', signal)
  } finally {
    w.close()
  }
}

/** Resolves when fd is writable (a one-shot watcher, closed afterwards). */
export async function waitWritable(fd: FdLike, signal?: AbortSignal): Promise<void> {
  const w = new FdWatcher(fd)
  try {
    await w.wait('writable', signal)
  } finally {
    w.close()
  }
}
