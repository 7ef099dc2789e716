// struct cmio_setup { struct cmio_buffer { u64 data; u64 length; } tx, rx; } — 32 bytes, little-endian, as the
// kernel's IOCTL_CMIO_SETUP returns it and as the emulated host sends it in its handshake. `data` is the physical
// address, which the guest must map at (virtual = physical).
import { BUFFER_LENGTH, RX_ADDRESS, TX_ADDRESS } from './constants.js'

export interface CmioBuffer {
  /** Physical (= virtual) address. */
  data: bigint
  /** Length in bytes. */
  length: number
}

export interface CmioSetup {
  tx: CmioBuffer
  rx: CmioBuffer
}

export const SETUP_SIZE = 32
export const SETUP_TX_DATA = 0
export const SETUP_TX_LENGTH = 8
export const SETUP_RX_DATA = 16
export const SETUP_RX_LENGTH = 24

/** The emulator's layout: tx {0x60800000, 2 MiB}, rx {0x60000000, 2 MiB}. */
export function defaultSetup(): CmioSetup {
  return { tx: { data: TX_ADDRESS, length: BUFFER_LENGTH }, rx: { data: RX_ADDRESS, length: BUFFER_LENGTH } }
}

export function encodeSetup(s: CmioSetup, out = new Uint8Array(SETUP_SIZE), offset = 0): Uint8Array {
  const dv = new DataView(out.buffer, out.byteOffset + offset, SETUP_SIZE)
  dv.setBigUint64(SETUP_TX_DATA, s.tx.data, true)
  dv.setBigUint64(SETUP_TX_LENGTH, BigInt(s.tx.length), true)
  dv.setBigUint64(SETUP_RX_DATA, s.rx.data, true)
  dv.setBigUint64(SETUP_RX_LENGTH, BigInt(s.rx.length), true)
  return out
}

export function decodeSetup(bytes: Uint8Array, offset = 0): CmioSetup {
  if (bytes.byteLength - offset < SETUP_SIZE) throw new RangeError('struct cmio_setup is 32 bytes')
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, SETUP_SIZE)
  const len = (at: number): number => {
    const v = dv.getBigUint64(at, true)
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`buffer length ${v} is not a safe integer`)
    return Number(v)
  }
  return {
    tx: { data: dv.getBigUint64(SETUP_TX_DATA, true), length: len(SETUP_TX_LENGTH) },
    rx: { data: dv.getBigUint64(SETUP_RX_DATA, true), length: len(SETUP_RX_LENGTH) },
  }
}
