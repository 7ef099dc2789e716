// The guest end of the TAP network bridge (GIO domain 0x42; tapcmio's `network` mode, network.rs): each 0x42 yield
// carries every frame pending on the guest's TAP (drained non-blocking straight into tx, batched as
// `repeat { len:u16be | frame }` up to the tx length) and every reply's frames are written to the TAP — including
// the replies of empty polls, which upstream discarded. Frames of any size up to 65,535 bytes pass intact (no
// 1500-byte truncation). When the guest has nothing to send it polls with an empty yield; the host holds that poll
// until it has frames or its hold time passes, so neither end spins.
import { forEachTapFrame } from '@x/framing'
import type { Cmio } from '../cmio.js'
import { Domain } from '../constants.js'
import { FrameDrain } from './drain.js'
import type { FramePort } from './port.js'

export interface TapBridgeOptions {
  /** GIO domain (default 0x42). */
  domain?: number
  /** Largest frame read from the port (default 65,535: anything the u16 prefix can carry). */
  maxFrame?: number
}

export interface TapBridgeStats {
  yields: number
  framesOut: number
  framesIn: number
  bytesOut: number
  bytesIn: number
  /** Replies with a malformed batch (their complete frames were still delivered). */
  badBatches: number
  dropped: number
  /** Frames read from the port that were longer than an entry can carry (dropped). */
  oversize: number
}

export class TapBridge {
  readonly #cmio: Cmio
  readonly #port: FramePort
  readonly #domain: number
  readonly #drain: FrameDrain
  readonly stats: TapBridgeStats = {
    yields: 0,
    framesOut: 0,
    framesIn: 0,
    bytesOut: 0,
    bytesIn: 0,
    badBatches: 0,
    dropped: 0,
    oversize: 0,
  }
  readonly #onFrame = (f: Uint8Array): void => {
    this.stats.framesIn++
    this.stats.bytesIn += f.byteLength
    if (!this.#port.write(f)) this.stats.dropped++
  }

  constructor(cmio: Cmio, port: FramePort, options: TapBridgeOptions = {}) {
    this.#cmio = cmio
    this.#port = port
    this.#domain = options.domain ?? Domain.TAP
    this.#drain = new FrameDrain(options.maxFrame)
  }

  /** Runs until `signal` aborts or the device fails (the error is thrown). */
  async run(signal?: AbortSignal): Promise<void> {
    while (!signal?.aborted) await this.step()
  }

  /** One round: pending frames out (maybe none), the reply's frames in. */
  async step(): Promise<void> {
    const c = this.#cmio
    const d = this.#drain
    const f0 = d.frames
    const b0 = d.bytes
    const p = d.drain(this.#port, c.tx, c.getTxLength())
    this.stats.framesOut += d.frames - f0
    this.stats.bytesOut += d.bytes - b0
    this.stats.oversize = d.oversize
    const r = await c.manualAsync(this.#domain, p)
    this.stats.yields++
    if (r.length === 0) return
    try {
      forEachTapFrame(c.rx.subarray(0, r.length), this.#onFrame)
    } catch {
      this.stats.badBatches++
    }
  }
}
