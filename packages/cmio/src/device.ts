// The seam between Cmio and its three backends (kernel, emulated, in-process): buffers as views and a yield that
// rewrites one 64-bit word in place. Every backend throws CmioError (YieldError) when a yield fails.
import type { CmioSetup } from './setup.js'

export type BackendKind = 'kernel' | 'emulated' | 'inprocess'

export interface Backend {
  readonly kind: BackendKind
  /** What was opened: the device path, the socket path, or 'inprocess'. */
  readonly path: string
  readonly setup: CmioSetup
  /** tx buffer (the guest writes requests here); empty once closed. */
  readonly tx: Uint8Array
  /** rx buffer (the host writes replies here); empty once closed. Treat as read-only. */
  readonly rx: Uint8Array
  /** word[0]: the request on entry, the reply on return. Blocks the calling thread. */
  yieldSync(word: BigUint64Array): void
  /** The same without blocking the event loop. */
  yieldAsync(word: BigUint64Array): Promise<void>
  close(): void
}
