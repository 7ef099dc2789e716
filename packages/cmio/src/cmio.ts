// Cmio: tapcmio's API (Cmio::new, yield_, yield_with_buffer, get_tx_length, Drop) over one of three backends,
// chosen by what the device path is: a character device → kernel, a socket → emulated; or `backend: 'inprocess'`.
import { statSync } from 'node:fs'
import { Cmd, DEFAULT_DEVICE, Dev } from './constants.js'
import type { Backend, BackendKind } from './device.js'
import { EmulatedBackend } from './emulated.js'
import { CmioError, Errno } from './errors.js'
import type { YieldHandler } from './host/types.js'
import { InProcessBackend, type InProcessOptions } from './inprocess.js'
import { KernelBackend } from './kernel.js'
import type { CmioSetup } from './setup.js'
import { type CmioYield, packYield, unpackYieldInto } from './yield.js'

export interface CmioOpenOptions {
  /** Device path (default: $CMIO_DEVICE, else /dev/cmio). */
  device?: string
  /** 'auto' (default) looks at the path: character device → kernel, socket → emulated. */
  backend?: 'auto' | BackendKind
  /** The in-process backend's host handler (required for backend 'inprocess'). */
  handler?: YieldHandler
  /** In-process backend options (buffer length, yield mask, strict reasons). */
  inprocess?: InProcessOptions
  /** Emulated backend: how long the handshake may take (default 10 s). */
  timeoutMs?: number
  signal?: AbortSignal
}

/** What yieldWithBuffer returns: a copy of rx[0..data) and the reply's reason. */
export interface CmioBufferReply {
  rx: Uint8Array
  reason: number
}

/** A manual yield's reply without a copy: rx[0..length) is valid until the next yield. */
export interface CmioReply {
  reason: number
  length: number
}

function resolveDevice(o: CmioOpenOptions): string {
  return o.device ?? process.env.CMIO_DEVICE ?? DEFAULT_DEVICE
}

function pickBackend(path: string, o: CmioOpenOptions): BackendKind {
  const want = o.backend ?? 'auto'
  if (want !== 'auto') return want
  let st: ReturnType<typeof statSync>
  try {
    st = statSync(path)
  } catch (e) {
    throw CmioError.fromSystem('OpenError', e)
  }
  if (st.isCharacterDevice()) return 'kernel'
  if (st.isSocket()) return 'emulated'
  throw CmioError.fromErrno('OpenError', -Errno.ENODEV, 'stat', `${path} is neither a device nor a socket`)
}

export class Cmio implements Disposable {
  readonly #backend: Backend
  readonly #word = new BigUint64Array(1)
  readonly #txLength: number
  readonly #rxLength: number
  #busy = false
  #closed = false

  private constructor(backend: Backend) {
    this.#backend = backend
    this.#txLength = backend.tx.byteLength
    this.#rxLength = backend.rx.byteLength
  }

  /**
   * Opens the device, blocking the thread for the emulated handshake (the host must be another thread or process;
   * use openAsync when it runs on this event loop). Throws CmioError OpenError / SetupError / MapError.
   */
  static open(options: CmioOpenOptions = {}): Cmio {
    if (options.backend === 'inprocess') return Cmio.#inprocess(options)
    const path = resolveDevice(options)
    const kind = pickBackend(path, options)
    if (kind === 'inprocess') return Cmio.#inprocess(options)
    if (kind === 'kernel') return new Cmio(KernelBackend.open(path))
    return new Cmio(EmulatedBackend.open(path, { timeoutMs: options.timeoutMs }))
  }

  /** Like open(), without blocking the event loop during the emulated handshake. */
  static async openAsync(options: CmioOpenOptions = {}): Promise<Cmio> {
    if (options.backend === 'inprocess') return Cmio.#inprocess(options)
    const path = resolveDevice(options)
    const kind = pickBackend(path, options)
    if (kind === 'inprocess') return Cmio.#inprocess(options)
    if (kind === 'kernel') return new Cmio(KernelBackend.open(path))
    return new Cmio(await EmulatedBackend.openAsync(path, { timeoutMs: options.timeoutMs, signal: options.signal }))
  }

  static #inprocess(o: CmioOpenOptions): Cmio {
    if (typeof o.handler !== 'function') {
      throw new CmioError('OpenError', 'the in-process backend needs a handler', { code: 'EINVAL', errno: -22 })
    }
    return new Cmio(new InProcessBackend(o.handler, o.inprocess))
  }

  /** 'kernel' | 'emulated' | 'inprocess'. */
  get backend(): BackendKind {
    return this.#backend.kind
  }

  get path(): string {
    return this.#backend.path
  }

  /** The buffers' addresses and lengths as the device reported them. */
  get setup(): CmioSetup {
    return this.#backend.setup
  }

  /** The tx buffer (write requests here; zero-copy). Empty after close(). */
  get tx(): Uint8Array {
    return this.#backend.tx
  }

  /** The rx buffer (replies land here; zero-copy, treat as read-only, valid until the next yield). Empty after close(). */
  get rx(): Uint8Array {
    return this.#backend.rx
  }

  get closed(): boolean {
    return this.#closed
  }

  /** tapcmio's get_tx_length(). */
  getTxLength(): number {
    return this.#txLength
  }

  getRxLength(): number {
    return this.#rxLength
  }

  #enter(): void {
    if (this.#closed) throw CmioError.fromErrno('YieldError', -Errno.EBADF, 'cmio yield', 'the device is closed')
    if (this.#busy) throw CmioError.fromErrno('YieldError', -Errno.EBUSY, 'cmio yield', 'a yield is in flight')
    this.#busy = true
  }

  /** tapcmio's yield_: packs y, yields (blocking this thread), unpacks the reply into y; returns y. */
  yield_(y: CmioYield): CmioYield {
    this.#enter()
    try {
      this.#word[0] = packYield(y)
      this.#backend.yieldSync(this.#word)
      return unpackYieldInto(this.#word[0]!, y)
    } finally {
      this.#busy = false
    }
  }

  /** yield_ without blocking the event loop (the kernel ioctl in a worker; the emulated reply awaited). */
  async yieldAsync(y: CmioYield): Promise<CmioYield> {
    this.#enter()
    const word = this.#word
    try {
      word[0] = packYield(y)
      await this.#backend.yieldAsync(word)
      return unpackYieldInto(word[0]!, y)
    } finally {
      this.#busy = false
    }
  }

  /** The raw word round trip (blocking): what the ioctl does. */
  yieldWord(word: bigint): bigint {
    this.#enter()
    try {
      this.#word[0] = word
      this.#backend.yieldSync(this.#word)
      return this.#word[0]!
    } finally {
      this.#busy = false
    }
  }

  #stage(tx: Uint8Array): void {
    if (tx.byteLength > this.#txLength) throw CmioError.tooLarge(tx.byteLength, this.#txLength)
    const dst = this.#backend.tx
    if (!(tx.buffer === dst.buffer && tx.byteOffset === dst.byteOffset)) dst.set(tx, 0)
  }

  #rxCopy(y: CmioYield): CmioBufferReply {
    if (y.data > this.#rxLength) throw CmioError.tooLarge(y.data, this.#rxLength)
    return { rx: this.#backend.rx.slice(0, y.data), reason: y.reason }
  }

  /**
   * tapcmio's yield_with_buffer: copies tx into the tx buffer (BufferTooLarge if it does not fit), yields with
   * data = tx.length, and returns a copy of the reply's rx bytes (BufferTooLarge if the reply claims more than rx)
   * with the reply's reason.
   */
  yieldWithBuffer(dev: number, cmd: number, reason: number, tx: Uint8Array): CmioBufferReply {
    this.#stage(tx)
    const y = this.yield_({ dev, cmd, reason, data: tx.byteLength })
    return this.#rxCopy(y)
  }

  async yieldWithBufferAsync(dev: number, cmd: number, reason: number, tx: Uint8Array): Promise<CmioBufferReply> {
    this.#stage(tx)
    const y = await this.yieldAsync({ dev, cmd, reason, data: tx.byteLength })
    return this.#rxCopy(y)
  }

  #check(y: CmioYield): CmioReply {
    if (y.data > this.#rxLength) throw CmioError.tooLarge(y.data, this.#rxLength)
    return { reason: y.reason, length: y.data }
  }

  /**
   * A manual yield of `length` bytes already written to `tx` (zero-copy): a GIO request when reason is a domain.
   * The reply's bytes are rx[0..length), valid until the next yield.
   */
  manual(reason: number, length: number): CmioReply {
    if (length > this.#txLength) throw CmioError.tooLarge(length, this.#txLength)
    return this.#check(this.yield_({ dev: Dev.YIELD, cmd: Cmd.MANUAL, reason, data: length }))
  }

  async manualAsync(reason: number, length: number): Promise<CmioReply> {
    if (length > this.#txLength) throw CmioError.tooLarge(length, this.#txLength)
    return this.#check(await this.yieldAsync({ dev: Dev.YIELD, cmd: Cmd.MANUAL, reason, data: length }))
  }

  /** An automatic yield of `length` bytes of tx (outputs, reports) or a PROGRESS value. */
  automatic(reason: number, length: number): void {
    if (length > this.#txLength && reason !== 1) throw CmioError.tooLarge(length, this.#txLength)
    this.yield_({ dev: Dev.YIELD, cmd: Cmd.AUTOMATIC, reason, data: length })
  }

  async automaticAsync(reason: number, length: number): Promise<void> {
    if (length > this.#txLength && reason !== 1) throw CmioError.tooLarge(length, this.#txLength)
    await this.yieldAsync({ dev: Dev.YIELD, cmd: Cmd.AUTOMATIC, reason, data: length })
  }

  /**
   * Detaches the views, unmaps, closes (tapcmio's Drop). An emulated async yield in flight fails; a kernel one
   * completes first (the fd is closed once its ioctl has returned). Idempotent.
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#backend.close()
  }

  [Symbol.dispose](): void {
    this.close()
  }
}
