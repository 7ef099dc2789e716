// The in-process backend: plain ArrayBuffers for tx and rx and a host handler called on the same thread, with the
// emulator's semantics (host/engine.ts). For unit tests, the tour, and programs that embed both ends.
// yieldSync needs a handler that answers synchronously; yieldAsync awaits whatever it returns.
import { BUFFER_LENGTH, RX_ADDRESS, TX_ADDRESS } from './constants.js'
import type { Backend } from './device.js'
import { CmioError, Errno } from './errors.js'
import { type EngineOptions, YieldEngine } from './host/engine.js'
import { type CmioRequest, type CmioSession, CmioTerminate, type YieldHandler, type YieldResult } from './host/types.js'
import type { CmioSetup } from './setup.js'

export interface InProcessOptions extends EngineOptions {
  /** tx and rx length (default 2 MiB). */
  length?: number
}

let sessions = 0

export class InProcessBackend implements Backend {
  readonly kind = 'inprocess' as const
  readonly path = 'inprocess'
  readonly setup: CmioSetup
  readonly #txBuffer: ArrayBuffer
  readonly #rxBuffer: ArrayBuffer
  readonly tx: Uint8Array
  readonly rx: Uint8Array
  readonly #engine: YieldEngine
  readonly #handler: YieldHandler
  readonly #abort = new AbortController()
  readonly session: CmioSession
  #endErrno = 0
  #endReason = ''

  constructor(handler: YieldHandler, options: InProcessOptions = {}) {
    const length = options.length ?? BUFFER_LENGTH
    this.#txBuffer = new ArrayBuffer(length)
    this.#rxBuffer = new ArrayBuffer(length)
    this.tx = new Uint8Array(this.#txBuffer)
    this.rx = new Uint8Array(this.#rxBuffer)
    this.setup = { tx: { data: TX_ADDRESS, length }, rx: { data: RX_ADDRESS, length } }
    this.#engine = new YieldEngine(this.tx, this.rx, options)
    this.#handler = handler
    const self = this
    const tx = this.tx
    const rx = this.rx
    this.session = {
      id: ++sessions,
      setup: this.setup,
      tx,
      rx,
      signal: this.#abort.signal,
      get ended() {
        return self.#abort.signal.aborted
      },
      end(errno = Errno.EIO, reason = 'the host ended the session') {
        self.#end(errno, reason)
      },
    }
  }

  #end(errno: number, reason: string): void {
    if (this.#abort.signal.aborted) return
    this.#endErrno = errno
    this.#endReason = reason
    this.#abort.abort(new CmioTerminate(errno, reason))
  }

  #check(): void {
    if (this.#abort.signal.aborted) {
      throw CmioError.fromErrno('YieldError', -this.#endErrno, 'cmio yield', this.#endReason)
    }
  }

  #fail(e: unknown): never {
    if (e instanceof CmioTerminate) this.#end(e.errno, e.message)
    else this.#end(Errno.EIO, `host handler failed: ${(e as Error)?.message ?? e}`)
    const err = CmioError.fromErrno('YieldError', -this.#endErrno, 'cmio yield', this.#endReason)
    ;(err as { cause?: unknown }).cause = e
    throw err
  }

  #decode(word: BigUint64Array): CmioRequest | null {
    try {
      return this.#engine.decode(word[0]!)
    } catch (e) {
      this.#fail(e)
    }
  }

  #finish(req: CmioRequest, res: YieldResult): bigint {
    try {
      return req.cmd === 0 ? this.#engine.automaticReply() : this.#engine.manualReply(req, res)
    } catch (e) {
      this.#fail(e)
    }
  }

  yieldSync(word: BigUint64Array): void {
    this.#check()
    const req = this.#decode(word)
    if (req === null) {
      word[0] = 0n
      return
    }
    let res: YieldResult | Promise<YieldResult>
    try {
      res = this.#handler(req, this.session)
    } catch (e) {
      this.#fail(e)
    }
    if (res instanceof Promise) {
      res.catch(() => {})
      throw CmioError.fromErrno('YieldError', -Errno.EAGAIN, 'cmio yield', 'the handler is async: use yieldAsync')
    }
    word[0] = this.#finish(req, res)
    this.#check()
  }

  async yieldAsync(word: BigUint64Array): Promise<void> {
    this.#check()
    const req = this.#decode(word)
    if (req === null) {
      word[0] = 0n
      return
    }
    let res: YieldResult
    try {
      res = await this.#handler(req, this.session)
    } catch (e) {
      this.#fail(e)
    }
    word[0] = this.#finish(req, res)
    this.#check()
  }

  /** Ends the session and detaches both buffers (views become empty). Idempotent. */
  close(): void {
    this.#end(Errno.EBADF, 'the device is closed')
    if (this.#txBuffer.byteLength > 0) {
      structuredClone(this.#txBuffer, { transfer: [this.#txBuffer] })
      structuredClone(this.#rxBuffer, { transfer: [this.#rxBuffer] })
    }
  }
}
