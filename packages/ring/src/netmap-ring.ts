// netmap-ring.ts: RingView, a view of a ring laid out like the kernel's `struct netmap_ring` (head/cur/tail indices,
// num_slots, 16-byte slots) over an (Shared)ArrayBuffer, with field offsets as parameters; plus netmap's constants
// and index formulas (nm_ring_next, nm_ring_space, nm_ring_empty, nm_tx_pending).

import { RingError } from './errors.js'
import { checkInt, isArrayBufferLike, isSharedArrayBuffer } from './util.js'

/**
 * Byte offsets of the fields of a ring header and of a slot. `-1` marks a field the layout does not have (then the
 * getter returns 0, and `numSlots` must be passed as an option). Defaults: `NETMAP_RING_LAYOUT`.
 */
export interface NetmapRingLayout {
  /** int64 `buf_ofs`: offset from the ring to buffer 0. */
  readonly bufOfs: number
  /** u32 `num_slots`. */
  readonly numSlots: number
  /** u32 `nr_buf_size`. */
  readonly nrBufSize: number
  /** u16 `ringid`. */
  readonly ringid: number
  /** u16 `dir` (NR_TX = 1, NR_RX = 0). */
  readonly dir: number
  /** u32 `head` (user). */
  readonly head: number
  /** u32 `cur` (user). */
  readonly cur: number
  /** u32 `tail` (kernel). */
  readonly tail: number
  /** u32 `flags` (NR_TIMESTAMP, NR_FORWARD). */
  readonly flags: number
  /** struct timeval `ts` (int64 sec, int64 usec). */
  readonly ts: number
  /** u64 `offset_mask`. */
  readonly offsetMask: number
  /** u64 `buf_align`. */
  readonly bufAlign: number
  /** Offset of `slot[0]` from the ring (the header size). */
  readonly slots: number
  /** Bytes per slot. */
  readonly slotSize: number
  /** u32 `buf_idx` in a slot. */
  readonly slotBufIdx: number
  /** u16 `len` in a slot. */
  readonly slotLen: number
  /** u16 `flags` in a slot. */
  readonly slotFlags: number
  /** u64 `ptr` in a slot. */
  readonly slotPtr: number
}

/** `struct netmap_ring` / `struct netmap_slot` on Linux x86-64 and arm64 (netmap API 14; sys/net/netmap.h). */
export const NETMAP_RING_LAYOUT: NetmapRingLayout = Object.freeze({
  bufOfs: 0,
  numSlots: 8,
  nrBufSize: 12,
  ringid: 16,
  dir: 18,
  head: 20,
  cur: 24,
  tail: 28,
  flags: 32,
  ts: 40,
  offsetMask: 56,
  bufAlign: 64,
  slots: 256,
  slotSize: 16,
  slotBufIdx: 0,
  slotLen: 4,
  slotFlags: 6,
  slotPtr: 8,
})

/** sizeof(struct netmap_ring): the header, `slot[0]` follows. */
export const NETMAP_RING_HEADER_SIZE = 256
/** sizeof(struct netmap_slot). */
export const NETMAP_SLOT_SIZE = 16

/** `ring->dir` values (the code's, not the header comment's: 1 = TX). */
export const NR_RX = 0
export const NR_TX = 1
/** `ring->flags`. */
export const NR_TIMESTAMP = 0x0002
export const NR_FORWARD = 0x0004
/** `slot->flags`. */
export const NS_BUF_CHANGED = 0x0001
export const NS_REPORT = 0x0002
export const NS_FORWARD = 0x0004
export const NS_NO_LEARN = 0x0008
export const NS_INDIRECT = 0x0010
export const NS_MOREFRAG = 0x0020
export const NS_TXMON = 0x0040
export const NS_PORT_SHIFT = 8
export const NS_PORT_MASK = 0xff << NS_PORT_SHIFT

/** nm_ring_next: the index after `i`, wrapping at `numSlots` (which need not be a power of two). */
export function ringNext(i: number, numSlots: number): number {
  return i + 1 === numSlots ? 0 : i + 1
}

/** nm_ring_space: `tail - head`, plus `numSlots` if negative. */
export function ringSpace(head: number, tail: number, numSlots: number): number {
  const r = tail - head
  return r < 0 ? r + numSlots : r
}

/** nm_ring_empty: `head == tail`. */
export function ringEmpty(head: number, tail: number): boolean {
  return head === tail
}

/** nm_tx_pending: `nm_ring_next(tail) != head` (a TX ring still holds slots the kernel has not sent). */
export function ringTxPending(head: number, tail: number, numSlots: number): boolean {
  return ringNext(tail, numSlots) !== head
}

/** `i + n` modulo `numSlots`, for `0 <= i < numSlots` and `0 <= n <= numSlots`. */
export function ringAdvance(i: number, n: number, numSlots: number): number {
  const j = i + n
  return j >= numSlots ? j - numSlots : j
}

export interface RingViewOptions {
  /** Field offsets (merged over NETMAP_RING_LAYOUT). */
  readonly layout?: Partial<NetmapRingLayout>
  /** Slot count; default: read from the header's `num_slots`. */
  readonly numSlots?: number
  /**
   * Access head/cur/tail/flags with Atomics (sequentially consistent). Default: true iff the buffer is a
   * SharedArrayBuffer. Pass true for a non-shared mapping another process writes concurrently; plain accesses suffice
   * for a kernel ring, which changes only inside the sync syscall.
   */
  readonly atomic?: boolean
}

export interface RingFormat {
  readonly numSlots: number
  /** `nr_buf_size`. */
  readonly bufSize: number
  /** `buf_ofs`, bytes from the ring to buffer 0 (default 0). */
  readonly bufOfs?: number
  readonly ringid?: number
  /** NR_TX (1) or NR_RX (0); default NR_RX. */
  readonly dir?: number
  /** Defaults as at NIOCREGIF: head = cur = 0; tail = numSlots - 1 for TX, 0 for RX. */
  readonly head?: number
  readonly cur?: number
  readonly tail?: number
  readonly flags?: number
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * A netmap ring over `buffer` at `byteOffset`. The only code that touches ring memory: header fields, the user
 * indices, slots and buffer addressing, with the kernel's formulas. It does not validate index moves (that is the
 * sync prologue's job, in @x/netmap); slot accessors check the slot index.
 */
export class RingView {
  readonly buffer: ArrayBuffer | SharedArrayBuffer
  readonly byteOffset: number
  /** Bytes of the header plus the slots. */
  readonly byteLength: number
  readonly layout: NetmapRingLayout
  readonly numSlots: number
  readonly atomic: boolean
  readonly #u32: Uint32Array
  readonly #u16: Uint16Array
  readonly #dv: DataView
  readonly #head: number
  readonly #cur: number
  readonly #tail: number
  readonly #flags: number
  readonly #slots: number
  readonly #slotStride32: number
  readonly #slotStride16: number
  readonly #bufIdx: number
  readonly #len: number
  readonly #slotFlags: number

  /** Bytes of a ring of `numSlots` slots (header + slots). */
  static byteLength(numSlots: number, layout: Partial<NetmapRingLayout> = {}): number {
    const l = { ...NETMAP_RING_LAYOUT, ...layout }
    return l.slots + numSlots * l.slotSize
  }

  constructor(buffer: ArrayBuffer | SharedArrayBuffer, byteOffset = 0, options: RingViewOptions = {}) {
    if (!isArrayBufferLike(buffer))
      throw new RingError('ERR_INVALID_ARG', 'buffer must be an ArrayBuffer or SharedArrayBuffer')
    const l: NetmapRingLayout = Object.freeze({ ...NETMAP_RING_LAYOUT, ...options.layout })
    checkInt('byteOffset', byteOffset, 0, buffer.byteLength)
    if (byteOffset % 4 !== 0) throw new RingError('ERR_INVALID_ARG', `byteOffset ${byteOffset} is not 4-byte aligned`)
    for (const k of ['head', 'cur', 'tail', 'flags', 'numSlots', 'nrBufSize', 'slotBufIdx'] as const) {
      if (l[k] !== -1 && l[k] % 4 !== 0)
        throw new RingError('ERR_INVALID_ARG', `layout.${k} (${l[k]}) is not 4-byte aligned`)
    }
    for (const k of ['slotLen', 'slotFlags'] as const) {
      if (l[k] !== -1 && l[k] % 2 !== 0)
        throw new RingError('ERR_INVALID_ARG', `layout.${k} (${l[k]}) is not 2-byte aligned`)
    }
    if (l.slots % 4 !== 0 || l.slotSize % 4 !== 0 || l.slotSize <= 0) {
      throw new RingError('ERR_INVALID_ARG', 'layout.slots and layout.slotSize must be positive multiples of 4')
    }
    for (const k of ['head', 'cur', 'tail'] as const) {
      if (l[k] < 0) throw new RingError('ERR_INVALID_ARG', `layout.${k} is required`)
    }
    this.buffer = buffer
    this.byteOffset = byteOffset
    this.layout = l
    this.atomic = options.atomic ?? isSharedArrayBuffer(buffer)
    if (l.slots > buffer.byteLength - byteOffset)
      throw new RingError('ERR_INVALID_ARG', 'ring header exceeds the buffer')
    let n = options.numSlots
    if (n === undefined) {
      if (l.numSlots < 0)
        throw new RingError('ERR_INVALID_ARG', 'numSlots is required when the layout has no num_slots')
      n = new Uint32Array(buffer, byteOffset + l.numSlots, 1)[0]
    }
    this.numSlots = checkInt('numSlots', n, 1, 0xffffffff)
    this.byteLength = l.slots + this.numSlots * l.slotSize
    if (this.byteLength > buffer.byteLength - byteOffset) {
      throw new RingError(
        'ERR_INVALID_ARG',
        `ring of ${this.numSlots} slots (${this.byteLength} bytes) exceeds the buffer`,
      )
    }
    this.#u32 = new Uint32Array(buffer, byteOffset, this.byteLength / 4)
    this.#u16 = new Uint16Array(buffer, byteOffset, this.byteLength / 2)
    this.#dv = new DataView(buffer, byteOffset, this.byteLength)
    this.#head = l.head / 4
    this.#cur = l.cur / 4
    this.#tail = l.tail / 4
    this.#flags = l.flags / 4
    this.#slots = l.slots
    this.#slotStride32 = l.slotSize / 4
    this.#slotStride16 = l.slotSize / 2
    this.#bufIdx = (l.slots + l.slotBufIdx) / 4
    this.#len = (l.slots + l.slotLen) / 2
    this.#slotFlags = (l.slots + l.slotFlags) / 2
  }

  /** Write a fresh ring header (as NIOCREGIF leaves it) at `byteOffset` and return a view of it. Slots are not touched. */
  static format(
    buffer: ArrayBuffer | SharedArrayBuffer,
    byteOffset: number,
    init: RingFormat,
    options: Omit<RingViewOptions, 'numSlots'> = {},
  ): RingView {
    const numSlots = checkInt('numSlots', init.numSlots, 1, 0xffffffff)
    const v = new RingView(buffer, byteOffset, { ...options, numSlots })
    const l = v.layout
    const dir = init.dir ?? NR_RX
    if (dir !== NR_RX && dir !== NR_TX) throw new RingError('ERR_INVALID_ARG', 'dir must be NR_TX (1) or NR_RX (0)')
    if (l.numSlots >= 0) v.#dv.setUint32(l.numSlots, numSlots, LE)
    if (l.nrBufSize >= 0) v.#dv.setUint32(l.nrBufSize, checkInt('bufSize', init.bufSize, 0, 0xffffffff), LE)
    if (l.bufOfs >= 0)
      v.#dv.setBigInt64(l.bufOfs, BigInt(checkInt('bufOfs', init.bufOfs ?? 0, -(2 ** 53), 2 ** 53)), LE)
    if (l.ringid >= 0) v.#dv.setUint16(l.ringid, checkInt('ringid', init.ringid ?? 0, 0, 0xffff), LE)
    if (l.dir >= 0) v.#dv.setUint16(l.dir, dir, LE)
    if (l.offsetMask >= 0) v.#dv.setBigUint64(l.offsetMask, 0n, LE)
    if (l.bufAlign >= 0) v.#dv.setBigUint64(l.bufAlign, 0n, LE)
    if (l.ts >= 0) {
      v.#dv.setBigInt64(l.ts, 0n, LE)
      v.#dv.setBigInt64(l.ts + 8, 0n, LE)
    }
    const last = numSlots - 1
    v.flags = checkInt('flags', init.flags ?? 0, 0, 0xffffffff)
    v.head = checkInt('head', init.head ?? 0, 0, last)
    v.cur = checkInt('cur', init.cur ?? 0, 0, last)
    v.tail = checkInt('tail', init.tail ?? (dir === NR_TX ? last : 0), 0, last)
    return v
  }

  // ---- user indices (Atomics when `atomic`) ----

  get head(): number {
    return this.atomic ? Atomics.load(this.#u32, this.#head) : this.#u32[this.#head]
  }

  set head(v: number) {
    if (this.atomic) Atomics.store(this.#u32, this.#head, v)
    else this.#u32[this.#head] = v
  }

  get cur(): number {
    return this.atomic ? Atomics.load(this.#u32, this.#cur) : this.#u32[this.#cur]
  }

  set cur(v: number) {
    if (this.atomic) Atomics.store(this.#u32, this.#cur, v)
    else this.#u32[this.#cur] = v
  }

  /** Kernel-owned on a real netmap ring (the kernel puts a user-written tail back); the shm backend writes it. */
  get tail(): number {
    return this.atomic ? Atomics.load(this.#u32, this.#tail) : this.#u32[this.#tail]
  }

  set tail(v: number) {
    if (this.atomic) Atomics.store(this.#u32, this.#tail, v)
    else this.#u32[this.#tail] = v
  }

  get flags(): number {
    if (this.#flags < 0) return 0
    return this.atomic ? Atomics.load(this.#u32, this.#flags) : this.#u32[this.#flags]
  }

  set flags(v: number) {
    if (this.#flags < 0) throw new RingError('ERR_INVALID_ARG', 'this layout has no flags field')
    if (this.atomic) Atomics.store(this.#u32, this.#flags, v)
    else this.#u32[this.#flags] = v
  }

  // ---- constant header fields ----

  /** `buf_ofs` (int64, as a Number). */
  get bufOfs(): number {
    return this.layout.bufOfs < 0 ? 0 : Number(this.#dv.getBigInt64(this.layout.bufOfs, LE))
  }

  /** `nr_buf_size`. */
  get nrBufSize(): number {
    return this.layout.nrBufSize < 0 ? 0 : this.#dv.getUint32(this.layout.nrBufSize, LE)
  }

  get ringid(): number {
    return this.layout.ringid < 0 ? 0 : this.#dv.getUint16(this.layout.ringid, LE)
  }

  /** NR_TX (1) or NR_RX (0). */
  get dir(): number {
    return this.layout.dir < 0 ? 0 : this.#dv.getUint16(this.layout.dir, LE)
  }

  get offsetMask(): bigint {
    return this.layout.offsetMask < 0 ? 0n : this.#dv.getBigUint64(this.layout.offsetMask, LE)
  }

  get bufAlign(): bigint {
    return this.layout.bufAlign < 0 ? 0n : this.#dv.getBigUint64(this.layout.bufAlign, LE)
  }

  /** `ts` as seconds and microseconds. */
  get ts(): { readonly sec: number; readonly usec: number } {
    if (this.layout.ts < 0) return { sec: 0, usec: 0 }
    return {
      sec: Number(this.#dv.getBigInt64(this.layout.ts, LE)),
      usec: Number(this.#dv.getBigInt64(this.layout.ts + 8, LE)),
    }
  }

  // ---- index arithmetic (netmap_user.h) ----

  /** nm_ring_space: slots in `[head, tail)`. */
  space(): number {
    return ringSpace(this.head, this.tail, this.numSlots)
  }

  /** nm_ring_empty. */
  empty(): boolean {
    return this.head === this.tail
  }

  /** nm_tx_pending. */
  txPending(): boolean {
    return ringNext(this.tail, this.numSlots) !== this.head
  }

  /** nm_ring_next. */
  next(i: number): number {
    return i + 1 === this.numSlots ? 0 : i + 1
  }

  /** `i + n` modulo numSlots (`0 <= n <= numSlots`). */
  advance(i: number, n: number): number {
    return ringAdvance(i, n, this.numSlots)
  }

  /** Slots from `from` forward to `to` (`to - from`, plus numSlots if negative). */
  distance(from: number, to: number): number {
    return ringSpace(from, to, this.numSlots)
  }

  // ---- slots (plain accesses: published by the index stores) ----

  #slot(i: number): number {
    if (!(i >= 0 && i < this.numSlots && Number.isInteger(i))) {
      throw new RingError('ERR_INVALID_ARG', `slot index ${String(i)} is not in [0, ${this.numSlots})`)
    }
    return i
  }

  bufIdx(slot: number): number {
    return this.#u32[this.#bufIdx + this.#slot(slot) * this.#slotStride32]
  }

  setBufIdx(slot: number, bufIdx: number): void {
    this.#u32[this.#bufIdx + this.#slot(slot) * this.#slotStride32] = bufIdx
  }

  len(slot: number): number {
    return this.#u16[this.#len + this.#slot(slot) * this.#slotStride16]
  }

  setLen(slot: number, len: number): void {
    this.#u16[this.#len + this.#slot(slot) * this.#slotStride16] = len
  }

  slotFlags(slot: number): number {
    return this.#u16[this.#slotFlags + this.#slot(slot) * this.#slotStride16]
  }

  setSlotFlags(slot: number, flags: number): void {
    this.#u16[this.#slotFlags + this.#slot(slot) * this.#slotStride16] = flags
  }

  /** `slot->ptr` (u64). */
  ptr(slot: number): bigint {
    return this.#dv.getBigUint64(this.#slots + this.#slot(slot) * this.layout.slotSize + this.layout.slotPtr, LE)
  }

  setPtr(slot: number, ptr: bigint): void {
    this.#dv.setBigUint64(this.#slots + this.#slot(slot) * this.layout.slotSize + this.layout.slotPtr, ptr, LE)
  }

  /** NETMAP_ROFFSET: `ptr & offset_mask` (0 when the ring has no offsets). */
  slotOffset(slot: number): number {
    const mask = this.offsetMask
    if (mask === 0n) return 0
    return Number(this.ptr(slot) & mask)
  }

  // ---- buffers ----

  /** NETMAP_BUF, as a byte offset in `buffer`: `byteOffset + buf_ofs + bufIdx * nr_buf_size`. */
  bufOffset(bufIdx: number): number {
    return this.byteOffset + this.bufOfs + bufIdx * this.nrBufSize
  }

  /** NETMAP_BUF_IDX: the buffer index of a byte offset in `buffer`. */
  bufIndexOf(offset: number): number {
    return Math.floor((offset - this.byteOffset - this.bufOfs) / this.nrBufSize)
  }

  /** A Uint8Array over `len` bytes (default `nr_buf_size`) of buffer `bufIdx`. */
  buf(bufIdx: number, len: number = this.nrBufSize): Uint8Array {
    const off = this.bufOffset(bufIdx)
    if (!(off >= 0 && off + len <= this.buffer.byteLength)) {
      throw new RingError('ERR_BAD_DESC', `buffer ${String(bufIdx)} (${len} bytes at ${off}) is outside the memory`)
    }
    return new Uint8Array(this.buffer, off, len)
  }

  /** NETMAP_BUF_OFFSET of slot `slot`, `len(slot)` bytes long: the slot's packet bytes. */
  slotBuf(slot: number): Uint8Array {
    const off = this.bufOffset(this.bufIdx(slot)) + this.slotOffset(slot)
    const len = this.len(slot)
    if (!(off >= 0 && off + len <= this.buffer.byteLength)) {
      throw new RingError('ERR_BAD_DESC', `slot ${slot}: buffer ${this.bufIdx(slot)} is outside the memory`)
    }
    return new Uint8Array(this.buffer, off, len)
  }
}
