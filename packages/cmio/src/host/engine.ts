// The emulator's yield semantics (machine-emulator htif-address-range.cpp, send-cmio-response.cpp, v0.21.0), pure
// and synchronous, shared by the emulated host and the in-process backend:
//   - dev is not looked at (OpenSBI forces it to 2);
//   - a cmd outside the yield mask (default: 0 and 1) is ignored: no handler, the guest reads 0;
//   - automatic (cmd 0): the handler sees it, the guest reads 0x0200000000000000;
//   - manual (cmd 1): the response is written to rx, zero-filled up to the next power of two ≥ max(len, 32),
//     and the guest reads (reason << 32) | len (dev 0, cmd 0);
//   - request data over the tx length is fatal ("CMIO request data is too large"), as is a response over rx;
//   - strict (default): reason 0 (advance-state) only answers an rx-accepted yield — or an rx-rejected one, which
//     the real machine reverts to its rx-accepted yield — (v0.21's rule; GIO replies must use a reason ≠ 0).
import { AutomaticReason, Cmd, ManualReason } from '../constants.js'
import { Errno } from '../errors.js'
import { AUTOMATIC_ACK, manualReply } from '../yield.js'
import { type CmioRequest, type CmioResponse, CmioTerminate } from './types.js'

export interface EngineOptions {
  /** Bit n set: cmd n stops the machine (the emulator's htif.iyield; default 0b11 = automatic | manual). */
  yieldMask?: number
  /** Enforce v0.21's reason-0 rule (default true). */
  strictReasons?: boolean
}

/** Smallest power of two ≥ max(len, 32): how much of rx a response of `len` bytes clears. */
export function paddedLength(len: number): number {
  let p = 32
  while (p < len) p *= 2
  return p
}

/** Writes the response into rx and zero-fills the padding; returns the length (send_cmio_response step 1). */
export function writeResponse(rx: Uint8Array, res: CmioResponse): number {
  let len: number
  if (res.data !== undefined) {
    len = res.data.byteLength
    if (len > rx.byteLength) {
      throw new CmioTerminate(Errno.EIO, `CMIO response data is too large (${len} > ${rx.byteLength})`)
    }
    const same = res.data.buffer === rx.buffer && res.data.byteOffset === rx.byteOffset
    if (!same && len > 0) rx.set(res.data, 0)
  } else {
    len = res.length ?? 0
    if (!Number.isInteger(len) || len < 0 || len > rx.byteLength) {
      throw new CmioTerminate(Errno.EIO, `CMIO response data is too large (${len} > ${rx.byteLength})`)
    }
  }
  if (len > 0) {
    const pad = paddedLength(len)
    if (pad > rx.byteLength) {
      throw new CmioTerminate(Errno.EIO, `CMIO response padded to ${pad} bytes exceeds rx (${rx.byteLength})`)
    }
    rx.fill(0, len, pad)
  }
  return len
}

export class YieldEngine {
  readonly #tx: Uint8Array
  readonly #rx: Uint8Array
  readonly #mask: number
  readonly #strict: boolean
  readonly #progress = new Uint8Array(4)

  constructor(tx: Uint8Array, rx: Uint8Array, options: EngineOptions = {}) {
    this.#tx = tx
    this.#rx = rx
    this.#mask = options.yieldMask ?? 0b11
    this.#strict = options.strictReasons ?? true
  }

  /** The request a word makes, or null when the emulator ignores it (the guest reads 0). */
  decode(word: bigint): CmioRequest | null {
    const hi = Number(BigInt.asUintN(64, word) >> 32n)
    const cmd = (hi >>> 16) & 0xff
    const reason = hi & 0xffff
    const length = Number(word & 0xffffffffn)
    if (cmd >= 32 || ((this.#mask >>> cmd) & 1) === 0 || (cmd !== Cmd.AUTOMATIC && cmd !== Cmd.MANUAL)) return null
    if (cmd === Cmd.AUTOMATIC && reason === AutomaticReason.PROGRESS) {
      new DataView(this.#progress.buffer).setUint32(0, length, true)
      return { cmd, reason, data: this.#progress, length }
    }
    if (length > this.#tx.byteLength) {
      throw new CmioTerminate(Errno.EINVAL, `CMIO request data is too large (${length} > ${this.#tx.byteLength})`)
    }
    return { cmd, reason, data: this.#tx.subarray(0, length), length }
  }

  /** The automatic acknowledgement. */
  automaticReply(): bigint {
    return AUTOMATIC_ACK
  }

  /** Applies a manual response (or ends the session when there is none); returns the word the guest reads. */
  manualReply(req: CmioRequest, res: CmioResponse | undefined): bigint {
    if (res === undefined || res === null) {
      if (req.reason === ManualReason.RX_REJECTED) {
        throw new CmioTerminate(Errno.EIO, 'rx-rejected: the host reverts the machine (no revert here: session ends)')
      }
      if (req.reason === ManualReason.TX_EXCEPTION)
        throw new CmioTerminate(Errno.EIO, 'tx-exception: the machine stops')
      throw new CmioTerminate(Errno.EIO, `Unexpected manual yield reason ${req.reason}`)
    }
    const reason = res.reason
    if (!Number.isInteger(reason) || reason < 0 || reason > 0xffff) {
      throw new CmioTerminate(Errno.EIO, `response reason ${reason} is not a u16`)
    }
    // after rx-rejected the real machine is reverted to its rx-accepted yield, so a mock-style "next input" answers
    // an rx-accepted too
    const acceptsInput = req.reason === ManualReason.RX_ACCEPTED || req.reason === ManualReason.RX_REJECTED
    if (this.#strict && reason === 0 && !acceptsInput) {
      throw new CmioTerminate(Errno.EIO, 'machine is not waiting on an rx-accepted manual yield (reason 0 reply)')
    }
    const len = writeResponse(this.#rx, res)
    return manualReply(reason, len)
  }
}
