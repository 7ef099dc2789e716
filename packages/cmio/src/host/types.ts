// What a host-side yield handler sees and returns, shaped like the emulator's receive_cmio_request /
// send_cmio_response: a request is (cmd, reason, bytes) — never dev —, a response is (reason, bytes).
import type { CmioSetup } from '../setup.js'

export interface CmioRequest {
  /** 0 automatic, 1 manual. */
  cmd: number
  /** The reason (automatic/manual) or GIO domain. */
  reason: number
  /**
   * The request's bytes: tx[0..length) as a view of the host's tx buffer, valid until the guest is resumed (copy
   * what you keep); for PROGRESS the 4-byte little-endian `data` field instead (tx is not read).
   */
  data: Uint8Array
  /** The yield's 32-bit data field (bytes used in tx; the per-mille value for PROGRESS). */
  length: number
}

export interface CmioResponse {
  /** Response reason (manual reply): a rollup reply reason or a GIO response code. 16 bits. */
  reason: number
  /** Bytes to put in rx (copied, unless it is a view of session.rx at offset 0). */
  data?: Uint8Array
  /** Instead of data: this many bytes were already written at session.rx[0..]. */
  length?: number
}

/** One attached guest: its buffers as the host sees them. */
export interface CmioSession {
  readonly id: number
  readonly setup: CmioSetup
  /** The guest's tx buffer (read it; the guest writes it). */
  readonly tx: Uint8Array
  /** The guest's rx buffer (the host writes replies here). */
  readonly rx: Uint8Array
  /** Aborted when the session ends (guest gone, host ended it). Long-polling handlers stop waiting on it. */
  readonly signal: AbortSignal
  readonly ended: boolean
  /** Ends the session; the guest's pending or next yield fails with `errno` (default EIO). */
  end(errno?: number, reason?: string): void
}

export type YieldResult = CmioResponse | undefined

/**
 * Called for every automatic and manual yield (ignored commands never reach it). For automatic yields the return
 * value is ignored and the guest is acknowledged when the handler settles; for manual yields the response is sent
 * back, and no response ends the session (as the stock CLI does with an unexpected manual yield).
 * Throw CmioTerminate to end the session with a status.
 */
export type YieldHandler = (request: CmioRequest, session: CmioSession) => YieldResult | Promise<YieldResult>

/** Thrown by a handler (or the engine) to end the session: the guest's yield fails with `errno`. */
export class CmioTerminate extends Error {
  readonly errno: number
  constructor(errno: number, message: string) {
    super(message)
    this.name = 'CmioTerminate'
    this.errno = errno
  }
}
