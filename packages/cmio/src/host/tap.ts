// The host end of the TAP network bridge (GIO domain 0x42): writes the frames of each request to the host's port
// (a TAP device), then answers with every frame pending there, read non-blocking straight into rx. An empty poll
// with nothing to answer is held until the port becomes readable or `holdMs` passes — event-driven, and the guest
// does not run while its manual yield is held.
import { forEachTapFrame } from '@x/framing'
import { FrameDrain } from '../bridge/drain.js'
import type { FramePort } from '../bridge/port.js'
import { Domain } from '../constants.js'
import type { CmioRequest, CmioResponse, CmioSession, YieldHandler } from './types.js'

export interface TapHostOptions {
  /** Longest an empty poll is held (default 1 ms). */
  holdMs?: number
  /** Largest frame read from the port (default 65,535). */
  maxFrame?: number
  /** GIO response code (default 0x42; never 0). */
  replyReason?: number
}

export class TapHost {
  readonly #port: FramePort
  readonly holdMs: number
  readonly #frames: FrameDrain
  readonly replyReason: number
  readonly stats = {
    yields: 0,
    held: 0,
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    badBatches: 0,
    dropped: 0,
    oversize: 0,
    largestIn: 0,
    largestOut: 0,
  }
  readonly #onFrame = (f: Uint8Array): void => {
    this.stats.framesIn++
    this.stats.bytesIn += f.byteLength
    if (f.byteLength > this.stats.largestIn) this.stats.largestIn = f.byteLength
    if (!this.#port.write(f)) this.stats.dropped++
  }

  constructor(port: FramePort, options: TapHostOptions = {}) {
    this.#port = port
    this.holdMs = options.holdMs ?? 1
    this.#frames = new FrameDrain(options.maxFrame)
    this.replyReason = options.replyReason ?? Domain.TAP
    if (this.replyReason === 0) throw new RangeError('replyReason 0 is refused outside rx-accepted (v0.21)')
  }

  /** The YieldHandler for domain 0x42. */
  readonly handler: YieldHandler = (req, session) => this.#serve(req, session)

  #drain(rx: Uint8Array): number {
    const d = this.#frames
    const f0 = d.frames
    const b0 = d.bytes
    const n = d.drain(this.#port, rx)
    this.stats.framesOut += d.frames - f0
    this.stats.bytesOut += d.bytes - b0
    this.stats.oversize = d.oversize
    this.stats.largestOut = d.largest
    return n
  }

  async #serve(req: CmioRequest, session: CmioSession): Promise<CmioResponse> {
    this.stats.yields++
    if (req.length > 0) {
      try {
        forEachTapFrame(req.data, this.#onFrame)
      } catch {
        this.stats.badBatches++
      }
    }
    let n = this.#drain(session.rx)
    if (n === 0 && req.length === 0 && this.holdMs > 0 && !session.ended) {
      this.stats.held++
      const ac = new AbortController()
      const t = setTimeout(() => ac.abort(), this.holdMs)
      const onEnd = (): void => ac.abort()
      session.signal.addEventListener('abort', onEnd, { once: true })
      await this.#port.waitReadable(ac.signal)
      clearTimeout(t)
      session.signal.removeEventListener('abort', onEnd)
      ac.abort()
      if (!session.ended) n = this.#drain(session.rx)
    }
    return { reason: this.replyReason, length: n }
  }
}
