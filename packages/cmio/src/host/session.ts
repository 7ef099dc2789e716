// One attached guest on the emulated device's host side: its two memfds (sealed against resizing, mapped here),
// the handshake reply, and the yield loop with the emulator's semantics (engine.ts). A session ends when the guest
// goes away, a handler ends it, or the host closes; every path unmaps, closes and aborts `signal` exactly once.
import { addSeals, type MappedRegion, memfdCreate, mmap, type OwnedFd, Seal } from '@x/native'
import { Cmd } from '../constants.js'
import { Errno } from '../errors.js'
import { decodeWord, encodeStatus, encodeWord, STATUS_SIZE, WELCOME_SIZE, WORD_SIZE } from '../protocol.js'
import { type CmioSetup, encodeSetup } from '../setup.js'
import { type EngineOptions, YieldEngine } from './engine.js'
import type { GuestLink } from './link.js'
import { type CmioRequest, type CmioSession, CmioTerminate, type YieldHandler, type YieldResult } from './types.js'

export interface SessionEnd {
  /** The status the guest was sent (0 when the guest itself left). */
  errno: number
  reason: string
  /** True when the guest closed its end (or died) — not the host. */
  byGuest: boolean
}

let ids = 0

export class HostSession implements CmioSession {
  readonly id = ++ids
  readonly setup: CmioSetup
  readonly tx: Uint8Array
  readonly rx: Uint8Array
  readonly #link: GuestLink
  readonly #replyBuf = new Uint8Array(WORD_SIZE)
  readonly #regions: MappedRegion[]
  readonly #engine: YieldEngine
  readonly #abort = new AbortController()
  readonly #handler: () => YieldHandler
  readonly #onEnd: (s: HostSession, end: SessionEnd) => void
  readonly #onError: (e: Error) => void
  #busy = false
  /** Yields served (ignored ones included). */
  yields = 0

  constructor(
    link: GuestLink,
    setup: CmioSetup,
    options: EngineOptions,
    handler: () => YieldHandler,
    onEnd: (s: HostSession, end: SessionEnd) => void,
    onError: (e: Error) => void,
  ) {
    this.#link = link
    this.setup = setup
    this.#handler = handler
    this.#onEnd = onEnd
    this.#onError = onError
    const fds: OwnedFd[] = []
    const regions: MappedRegion[] = []
    try {
      for (const [name, b] of [
        ['cmio-tx', setup.tx],
        ['cmio-rx', setup.rx],
      ] as const) {
        const fd = memfdCreate(name, { size: b.length })
        fds.push(fd)
        addSeals(fd, Seal.SHRINK | Seal.GROW | Seal.SEAL) // the guest cannot shrink it under our mapping
        regions.push(mmap(fd, b.length))
      }
      this.#regions = regions
      this.tx = regions[0]!.bytes()
      this.rx = regions[1]!.bytes()
      const welcome = new Uint8Array(WELCOME_SIZE)
      encodeSetup(setup, welcome, STATUS_SIZE)
      if (!link.send(welcome, fds)) throw new Error('the guest left during the handshake')
    } catch (e) {
      for (const r of regions) r.unmap()
      throw e
    } finally {
      for (const f of fds) f.close() // the guest has its own copies; our mappings stay
    }
    this.#engine = new YieldEngine(this.tx, this.rx, options)
    link.setHandlers({
      message: (data) => this.#onMessage(data),
      close: (code) =>
        this.#finish({
          errno: 0,
          reason: code === null ? 'the guest closed the device' : `the guest closed the device (${code})`,
          byGuest: true,
        }),
    })
  }

  get signal(): AbortSignal {
    return this.#abort.signal
  }

  get ended(): boolean {
    return this.#abort.signal.aborted
  }

  /** Sends the guest a status (its yield fails with that errno) and closes. */
  end(errno: number = Errno.EIO, reason = 'the host ended the session'): void {
    if (this.ended) return
    this.#link.send(encodeStatus(errno))
    this.#finish({ errno, reason, byGuest: false })
  }

  #finish(end: SessionEnd): void {
    if (this.ended) return
    this.#abort.abort(new CmioTerminate(end.errno || Errno.ECONNRESET, end.reason))
    this.#link.close()
    for (const r of this.#regions) r.unmap()
    this.#onEnd(this, end)
  }

  #onMessage(data: Uint8Array): void {
    if (this.ended) return
    if (data.byteLength !== WORD_SIZE) {
      this.end(Errno.EPROTO, `protocol error: a ${data.byteLength}-byte message where a yield was expected`)
      return
    }
    if (this.#busy) {
      this.end(Errno.EPROTO, 'protocol error: a yield arrived before the previous one was answered')
      return
    }
    this.#busy = true
    this.#serve(decodeWord(data))
  }

  #serve(word: bigint): void {
    this.yields++
    let req: CmioRequest | null
    try {
      req = this.#engine.decode(word)
    } catch (e) {
      this.#fail(e)
      this.#done()
      return
    }
    if (req === null) {
      this.#reply(0n)
      this.#done()
      return
    }
    let res: YieldResult | Promise<YieldResult>
    try {
      res = this.#handler()(req, this)
    } catch (e) {
      this.#fail(e)
      this.#done()
      return
    }
    const r = req
    if (res instanceof Promise) {
      res.then(
        (v) => this.#answer(r, v),
        (e) => {
          this.#fail(e)
          this.#done()
        },
      )
    } else this.#answer(r, res)
  }

  #answer(req: CmioRequest, res: YieldResult): void {
    if (!this.ended) {
      try {
        this.#reply(req.cmd === Cmd.AUTOMATIC ? this.#engine.automaticReply() : this.#engine.manualReply(req, res))
      } catch (e) {
        this.#fail(e)
      }
    }
    this.#done()
  }

  #done(): void {
    this.#busy = false
  }

  #fail(e: unknown): void {
    if (e instanceof CmioTerminate) {
      this.end(e.errno, e.message)
      return
    }
    const err = e instanceof Error ? e : new Error(String(e))
    this.end(Errno.EIO, `host handler failed: ${err.message}`)
    this.#onError(err)
  }

  #reply(word: bigint): void {
    if (this.ended) return
    this.#link.send(encodeWord(word, this.#replyBuf))
  }
}
