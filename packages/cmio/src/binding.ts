// The only file that loads the addon: build/Release in a workspace checkout, else prebuilds/ (node-gyp-build).
// Its untyped exports are narrowed here, once, to the interface below.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export type View = ArrayBufferView | ArrayBuffer

export interface Binding {
  constants: {
    IOCTL_CMIO_SETUP: number
    IOCTL_CMIO_YIELD: number
    sizeof_cmio_buffer: number
    sizeof_cmio_setup: number
    offsetof_cmio_setup_tx_data: number
    offsetof_cmio_setup_tx_length: number
    offsetof_cmio_setup_rx_data: number
    offsetof_cmio_setup_rx_length: number
    sizeof_yield_word: number
    TUN_F_CSUM: number
    TUN_F_TSO4: number
    TUN_F_TSO6: number
    TUN_F_TSO_ECN: number
  }
  // kernel.cc
  cmio_open(path: string): number
  cmio_setup(fd: number, out: View, offset: number, length: number): void
  cmio_yield(fd: number, word: BigUint64Array): number
  cmio_yield_async(fd: number, word: BigUint64Array): Promise<number>
  // emulated.cc
  cmio_emu_call(
    fd: number,
    req: View,
    reqOffset: number,
    reqLength: number,
    reply: View,
    replyOffset: number,
    replyLength: number,
    fdsOut: Int32Array,
    timeoutMs: number,
  ): number
  cmio_emu_yield(fd: number, word: BigUint64Array): number
}

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('..', import.meta.url))
const load = require('node-gyp-build') as (dir: string) => unknown

let cached: Binding | null = null

/** The addon, loaded on first use (the in-process backend and the codecs never need it). */
export function binding(): Binding {
  cached ??= load(process.env.X_CMIO_PREBUILD ?? root) as Binding
  return cached
}
