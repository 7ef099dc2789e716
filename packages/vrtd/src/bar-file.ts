// BarFile: a BAR fd lent by the daemon, mmap'd MAP_SHARED read/write (libslash's struct slash_bar_file and
// libvrtd++'s vrtd::BarFile). Memory is touched only inside an access — the DMA-buf sync bracket — and at most one
// access is active per BarFile. Register reads and writes check bounds (offset + width ≤ length) and natural
// alignment, and go through typed-array elements: one load or store of exactly the stated width.
import { type MappedRegion, mmap, type OwnedFd } from '@x/native'
import { dmaBufSync } from './dmabuf.js'
import { misuse, Ret, VrtdError } from './errors.js'

export type Direction = 'read' | 'write' | 'readwrite'
export type Width = 8 | 16 | 32 | 64

export interface BarFileOptions {
  /** Never issue the sync ioctls (libslash's `mock` flag). Default false: issue them; ENOTTY (not a dma-buf,
   * e.g. the simulator's memfds) turns them off for this BarFile. */
  mock?: boolean
}

const SYNC_FLAGS: Record<Direction, number> = { read: 1, write: 2, readwrite: 3 }
const END = 4
/** Typed arrays stop at 2^32 elements in Node 20: register offsets are served within the first 4 GiB. */
const VIEW_LIMIT = 2 ** 32

function lengthOf(length: number | bigint): number {
  const n = typeof length === 'bigint' ? Number(length) : length
  if (!Number.isSafeInteger(n) || n <= 0)
    throw misuse('INVALID_VALUE', `BAR length must be a positive integer, got ${length}`)
  return n
}

export class BarFile implements Disposable {
  readonly #fd: OwnedFd
  readonly #region: MappedRegion
  readonly #length: number
  readonly #mock: boolean
  #sync: boolean
  #access: BarAccess | null = null
  #closed = false
  readonly #onClose: ((bf: BarFile) => void) | undefined
  /** @internal */ readonly u8: Uint8Array
  /** @internal */ readonly u16: Uint16Array
  /** @internal */ readonly u32: Uint32Array
  /** @internal */ readonly u64: BigUint64Array

  private constructor(fd: OwnedFd, region: MappedRegion, options: BarFileOptions, onClose?: (bf: BarFile) => void) {
    this.#fd = fd
    this.#region = region
    this.#length = region.length
    this.#mock = options.mock === true
    this.#sync = !this.#mock
    this.#onClose = onClose
    const buf = region.buffer
    const cap = Math.min(this.#length, VIEW_LIMIT)
    this.u8 = new Uint8Array(buf, 0, cap)
    this.u16 = new Uint16Array(buf, 0, Math.floor(cap / 2))
    this.u32 = new Uint32Array(buf, 0, Math.floor(cap / 4))
    this.u64 = new BigUint64Array(buf, 0, Math.floor(cap / 8))
  }

  /**
   * Maps a BAR fd (taking ownership of it): mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0). If mmap
   * fails the fd is closed — never the daemon connection — and INTERNAL_ERROR (reason MAP_FAILED) is thrown.
   */
  static map(
    fd: OwnedFd,
    length: number | bigint,
    options: BarFileOptions = {},
    onClose?: (bf: BarFile) => void,
  ): BarFile {
    let region: MappedRegion
    try {
      region = mmap(fd, lengthOf(length))
    } catch (e) {
      fd.close()
      if (e instanceof VrtdError) throw e
      throw new VrtdError(Ret.INTERNAL_ERROR, {
        reason: 'MAP_FAILED',
        cause: e,
        detail: `mmap of the BAR fd failed (${(e as { code?: string }).code ?? (e as Error).message})`,
      })
    }
    return new BarFile(fd, region, options, onClose)
  }

  /** Mapping size in bytes. */
  get length(): number {
    return this.#length
  }

  get closed(): boolean {
    return this.#closed
  }

  /** The BAR fd (owned by this BarFile). */
  get fd(): number {
    this.#live()
    return this.#fd.fd
  }

  get mock(): boolean {
    return this.#mock
  }

  /** The access in progress, if any. */
  get activeAccess(): BarAccess | null {
    return this.#access
  }

  /**
   * Starts an access (slash_bar_file_start_read / _start_write): DMA_BUF_SYNC_START with the direction. Throws
   * BAD_LIB_CALL (ACCESS_ACTIVE) while another access is active, (BAR_FILE_CLOSED) after close().
   */
  access(direction: Direction): BarAccess {
    this.#live()
    const flags = SYNC_FLAGS[direction]
    if (flags === undefined)
      throw misuse('WRONG_DIRECTION', `direction must be read, write or readwrite, got ${direction}`)
    if (this.#access !== null) {
      throw misuse('ACCESS_ACTIVE', `a ${this.#access.direction} access is already active on this BarFile`)
    }
    this.#syncNow(flags)
    const a = new BarAccess(this, direction, this.#length)
    this.#access = a
    return a
  }

  /** Runs fn inside a read access, ending it afterwards (after the promise settles if fn is async). */
  read<T>(fn: (a: BarAccess) => T): T {
    return this.#with('read', fn)
  }

  /** Runs fn inside a write access. */
  write<T>(fn: (a: BarAccess) => T): T {
    return this.#with('write', fn)
  }

  /** Runs fn inside a read-write access. */
  update<T>(fn: (a: BarAccess) => T): T {
    return this.#with('readwrite', fn)
  }

  /** One bracketed register read: start_read, a width-bit load, end_read. 64-bit reads are bigint. */
  readRegister(offset: number, width: Width = 32): number | bigint {
    const a = this.access('read')
    try {
      return a.read(offset, width)
    } finally {
      a.end()
    }
  }

  /** One bracketed register write: start_write, a width-bit store, end_write. */
  writeRegister(offset: number, value: number | bigint, width: Width = 32): void {
    const a = this.access('write')
    try {
      a.write(offset, value, width)
    } finally {
      a.end()
    }
  }

  /**
   * Unmaps and closes the fd (vrtd_close_bar_file). Idempotent. Throws BAD_LIB_CALL (ACCESS_ACTIVE) while an
   * access is active, as libvrtd++'s BarFile::close does; pass { force: true } to end it first.
   */
  close(options: { force?: boolean } = {}): void {
    if (this.#closed) return
    if (this.#access !== null) {
      if (!options.force) throw misuse('ACCESS_ACTIVE', 'end the active access before closing the BarFile')
      try {
        this.#access.end()
      } catch {
        // the sync failed; the mapping goes anyway
      }
    }
    this.#closed = true
    this.#region.unmap()
    this.#fd.close()
    this.#onClose?.(this)
  }

  /** close({ force: true }): never throws. */
  [Symbol.dispose](): void {
    this.close({ force: true })
  }

  /** @internal called by BarAccess.end() */
  endAccess(a: BarAccess): void {
    if (this.#access !== a) return
    this.#access = null
    if (!this.#closed) this.#syncNow(END | SYNC_FLAGS[a.direction])
  }

  #with<T>(direction: Direction, fn: (a: BarAccess) => T): T {
    const a = this.access(direction)
    let result: T
    try {
      result = fn(a)
    } catch (e) {
      a.end()
      throw e
    }
    if (result !== null && typeof (result as { then?: unknown })?.then === 'function') {
      return (result as unknown as Promise<unknown>).finally(() => a.end()) as T
    }
    a.end()
    return result
  }

  #syncNow(flags: number): void {
    if (!this.#sync) return
    try {
      if (!dmaBufSync(this.#fd, flags)) this.#sync = false
    } catch (e) {
      throw new VrtdError(Ret.INTERNAL_ERROR, {
        reason: 'SYNC_FAILED',
        cause: e,
        detail: `DMA_BUF_IOCTL_SYNC(${flags}) failed (${(e as { code?: string }).code ?? (e as Error).message})`,
      })
    }
  }

  #live(): void {
    if (this.#closed) throw misuse('BAR_FILE_CLOSED', 'the BarFile is closed')
  }
}

/**
 * One bracketed access to a BarFile's memory: register reads/writes of 8, 16, 32 or 64 bits (64-bit values are
 * bigint), and typed views. Views stay usable after end() but touching memory outside an access is unbracketed.
 */
export class BarAccess implements Disposable {
  readonly direction: Direction
  readonly #file: BarFile
  readonly #length: number
  readonly #canRead: boolean
  readonly #canWrite: boolean
  #live = true

  /** @internal use BarFile.access() */
  constructor(file: BarFile, direction: Direction, length: number) {
    this.#file = file
    this.direction = direction
    this.#length = Math.min(length, VIEW_LIMIT)
    this.#canRead = direction !== 'write'
    this.#canWrite = direction !== 'read'
  }

  get active(): boolean {
    return this.#live && !this.#file.closed
  }

  read8(offset: number): number {
    this.#check(offset, 1, false)
    return this.#file.u8[offset]!
  }

  read16(offset: number): number {
    this.#check(offset, 2, false)
    return this.#file.u16[offset / 2]!
  }

  read32(offset: number): number {
    this.#check(offset, 4, false)
    return this.#file.u32[offset / 4]!
  }

  read64(offset: number): bigint {
    this.#check(offset, 8, false)
    return this.#file.u64[offset / 8]!
  }

  write8(offset: number, value: number): void {
    this.#check(offset, 1, true)
    this.#file.u8[offset] = uint(value, 8)
  }

  write16(offset: number, value: number): void {
    this.#check(offset, 2, true)
    this.#file.u16[offset / 2] = uint(value, 16)
  }

  write32(offset: number, value: number): void {
    this.#check(offset, 4, true)
    this.#file.u32[offset / 4] = uint(value, 32)
  }

  write64(offset: number, value: bigint | number): void {
    this.#check(offset, 8, true)
    this.#file.u64[offset / 8] = u64(value)
  }

  /** A register read by width (64 → bigint). */
  read(offset: number, width: Width = 32): number | bigint {
    switch (width) {
      case 8:
        return this.read8(offset)
      case 16:
        return this.read16(offset)
      case 32:
        return this.read32(offset)
      case 64:
        return this.read64(offset)
      default:
        throw misuse('INVALID_VALUE', `width must be 8, 16, 32 or 64, got ${width}`)
    }
  }

  /** A register write by width. */
  write(offset: number, value: number | bigint, width: Width = 32): void {
    switch (width) {
      case 8:
        this.write8(offset, num(value))
        return
      case 16:
        this.write16(offset, num(value))
        return
      case 32:
        this.write32(offset, num(value))
        return
      case 64:
        this.write64(offset, value)
        return
      default:
        throw misuse('INVALID_VALUE', `width must be 8, 16, 32 or 64, got ${width}`)
    }
  }

  /** Bytes [offset, offset + length) of the mapping. */
  bytes(offset = 0, length = this.#length - offset): Uint8Array {
    this.#range(offset, length)
    return this.#file.u8.subarray(offset, offset + length)
  }

  /** A DataView of [offset, offset + length). */
  view(offset = 0, length = this.#length - offset): DataView {
    this.#range(offset, length)
    return new DataView(this.#file.u8.buffer, offset, length)
  }

  /** Ends the access (slash_bar_file_end_read / _end_write: DMA_BUF_SYNC_END). Idempotent. */
  end(): void {
    if (!this.#live) return
    this.#live = false
    this.#file.endAccess(this)
  }

  [Symbol.dispose](): void {
    this.end()
  }

  #check(offset: number, bytes: number, write: boolean): void {
    if (!this.#live || this.#file.closed) {
      throw misuse(this.#file.closed ? 'BAR_FILE_CLOSED' : 'ACCESS_ENDED', 'this access has ended')
    }
    if (write ? !this.#canWrite : !this.#canRead) {
      throw misuse('WRONG_DIRECTION', `a ${this.direction} access cannot ${write ? 'write' : 'read'}`)
    }
    if (!(offset >= 0 && offset + bytes <= this.#length)) {
      throw misuse('OUT_OF_RANGE', `offset ${offset} + ${bytes} is outside the BAR (${this.#length} bytes)`)
    }
    if (offset % bytes !== 0) throw misuse('MISALIGNED', `offset ${offset} is not ${bytes}-byte aligned`)
  }

  #range(offset: number, length: number): void {
    if (!this.#live || this.#file.closed) {
      throw misuse(this.#file.closed ? 'BAR_FILE_CLOSED' : 'ACCESS_ENDED', 'this access has ended')
    }
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.#length
    ) {
      throw misuse('OUT_OF_RANGE', `[${offset}, ${offset} + ${length}) is outside the BAR (${this.#length} bytes)`)
    }
  }
}

function uint(v: number, bits: 8 | 16 | 32): number {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
    throw misuse('INVALID_VALUE', `value ${v} does not fit an unsigned ${bits}-bit register`)
  }
  return v
}

function u64(v: bigint | number): bigint {
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : -1n
  if (b < 0n || b > 0xffffffffffffffffn)
    throw misuse('INVALID_VALUE', `value ${v} does not fit an unsigned 64-bit register`)
  return b
}

function num(v: number | bigint): number {
  return typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= 0n ? Number(v) : -1) : v
}
