// Draining a frame port into a CMIO buffer as a TAP batch (`repeat { len:u16be | frame }`), shared by both ends of
// the bridge. Frames are read straight into the buffer while a whole maximum-size frame fits; near the end they are
// read into a scratch buffer, and one that does not fit waits (carried) for the next batch — never truncated.
// Reads ask for one byte more than maxFrame: a frame longer than an entry can say (a GSO super-frame from a TAP
// whose gso_max_size is too large) is dropped and counted, never cut.
import { TAP_MAX_FRAME } from '@x/framing'
import type { FramePort } from './port.js'

export class FrameDrain {
  readonly maxFrame: number
  readonly #scratch: Uint8Array
  #carry: Uint8Array | null = null
  frames = 0
  bytes = 0
  /** Frames longer than maxFrame, dropped. */
  oversize = 0
  /** The longest frame drained so far. */
  largest = 0

  constructor(maxFrame = TAP_MAX_FRAME) {
    this.maxFrame = Math.min(Math.max(maxFrame, 1), TAP_MAX_FRAME)
    this.#scratch = new Uint8Array(this.maxFrame + 1)
  }

  /** A frame read earlier that is waiting for room. */
  get carrying(): boolean {
    return this.#carry !== null
  }

  /** Fills dst[0..limit) with pending frames; returns the batch length. */
  drain(port: FramePort, dst: Uint8Array, limit = dst.byteLength): number {
    let p = 0
    for (;;) {
      const room = limit - p - 2
      if (room < 0) break
      let n: number
      if (this.#carry !== null) {
        const c = this.#carry
        if (c.byteLength > room) break
        dst.set(c, p + 2)
        n = c.byteLength
        this.#carry = null
      } else if (room > this.maxFrame) {
        n = port.read(dst.subarray(p + 2, p + 3 + this.maxFrame))
        if (n <= 0) break
        if (n > this.maxFrame) {
          this.oversize++
          continue
        }
      } else {
        n = port.read(this.#scratch)
        if (n <= 0) break
        if (n > this.maxFrame) {
          this.oversize++
          continue
        }
        if (n > room) {
          this.#carry = this.#scratch.slice(0, n)
          break
        }
        dst.set(this.#scratch.subarray(0, n), p + 2)
      }
      dst[p] = n >>> 8
      dst[p + 1] = n & 0xff
      p += 2 + n
      this.frames++
      this.bytes += n
      if (n > this.largest) this.largest = n
    }
    return p
  }
}
