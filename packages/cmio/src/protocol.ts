// The emulated device's wire protocol on an AF_UNIX SOCK_SEQPACKET pathname socket (one message per datagram,
// little-endian; a pathname socket crosses network namespaces, an abstract one would not):
//
//   guest → host  HELLO    "CMIO" | version:u32 (= 1)                                     8 bytes
//   host → guest  WELCOME  status:u32 (= 0) | struct cmio_setup (32)   + SCM_RIGHTS [tx memfd, rx memfd]   36 bytes
//                 REFUSED  status:u32 (an errno: EBUSY when a guest is attached, EPROTONOSUPPORT)  4 bytes, then close
//   guest → host  YIELD    the packed yield word (u64)                                     8 bytes
//   host → guest  REPLY    the word the guest's ioctl returns (u64)                        8 bytes
//                 END      status:u32 (an errno) — the host ended the session              4 bytes, then close
//
// The guest maps tx read/write and rx at setup.tx.data / setup.rx.data with MAP_SHARED | MAP_FIXED_NOREPLACE.

export const HELLO_MAGIC = 0x4f494d43 // "CMIO" read as a little-endian u32
export const PROTOCOL_VERSION = 1
export const HELLO_SIZE = 8
export const WELCOME_SIZE = 36
export const STATUS_SIZE = 4
export const WORD_SIZE = 8

export function encodeHello(version = PROTOCOL_VERSION): Uint8Array {
  const b = new Uint8Array(HELLO_SIZE)
  b.set([0x43, 0x4d, 0x49, 0x4f]) // "CMIO"
  new DataView(b.buffer).setUint32(4, version, true)
  return b
}

/** The version a HELLO asks for, or -1 if the message is not a HELLO. */
export function decodeHello(b: Uint8Array): number {
  if (b.byteLength !== HELLO_SIZE) return -1
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  if (dv.getUint32(0, true) !== HELLO_MAGIC) return -1
  return dv.getUint32(4, true)
}

export function encodeStatus(errno: number): Uint8Array {
  const b = new Uint8Array(STATUS_SIZE)
  new DataView(b.buffer).setUint32(0, errno >>> 0, true)
  return b
}

export function encodeWord(word: bigint, out = new Uint8Array(WORD_SIZE)): Uint8Array {
  new DataView(out.buffer, out.byteOffset, WORD_SIZE).setBigUint64(0, BigInt.asUintN(64, word), true)
  return out
}

export function decodeWord(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, WORD_SIZE).getBigUint64(0, true)
}
