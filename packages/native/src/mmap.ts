// mmap(2) as a MappedRegion: one external ArrayBuffer over the mapping, detached before munmap, so views
// taken before unmap() read as empty instead of faulting. The GC finalizer is only a backstop.
import { binding, K } from './binding.js'
import { XNativeError } from './errors.js'
import { type FdLike, fdOf } from './fd.js'

export interface MmapOptions {
  /** PROT_* bits; default PROT_READ | PROT_WRITE. */
  prot?: number
  /** MAP_* bits; default MAP_SHARED (MAP_SHARED | MAP_ANONYMOUS when fd is -1). */
  flags?: number
  /** File offset (page aligned). */
  offset?: number
  /** Address hint, or the exact address with MAP_FIXED_NOREPLACE. */
  address?: bigint | number
}

export class MappedRegion implements Disposable {
  #buffer: ArrayBuffer | null
  readonly length: number
  readonly address: bigint

  /** @internal use mmap() */
  constructor(buffer: ArrayBuffer) {
    this.#buffer = buffer
    this.length = buffer.byteLength
    this.address = binding.mapping_address(buffer)
  }

  /** The ArrayBuffer over the mapping; throws ERR_UNMAPPED after unmap(). */
  get buffer(): ArrayBuffer {
    if (this.#buffer === null) throw new XNativeError('ERR_UNMAPPED', 'region is unmapped')
    return this.#buffer
  }

  get mapped(): boolean {
    return this.#buffer !== null
  }

  /** A Uint8Array view of [offset, offset + length). */
  bytes(offset = 0, length = this.length - offset): Uint8Array {
    return new Uint8Array(this.buffer, offset, length)
  }

  /** A DataView of [offset, offset + length). */
  view(offset = 0, length = this.length - offset): DataView {
    return new DataView(this.buffer, offset, length)
  }

  /** msync(2) with MS_SYNC (default) or MS_ASYNC. */
  sync(flags = K('MS_SYNC')): void {
    binding.msync(this.buffer, flags)
  }

  /** Detaches the ArrayBuffer, then munmaps. Idempotent. */
  unmap(): void {
    const b = this.#buffer
    if (b === null) return
    this.#buffer = null
    binding.munmap(b)
  }

  [Symbol.dispose](): void {
    this.unmap()
  }
}

/** Maps length bytes of fd (or anonymous memory when fd is -1). */
export function mmap(fd: FdLike, length: number, options: MmapOptions = {}): MappedRegion {
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw new XNativeError('ERR_OUT_OF_RANGE', `mmap length must be a positive integer, got ${length}`)
  }
  const n = fdOf(fd)
  const prot = options.prot ?? K('PROT_READ') | K('PROT_WRITE')
  const flags = options.flags ?? (n < 0 ? K('MAP_SHARED') | K('MAP_ANONYMOUS') : K('MAP_SHARED'))
  const offset = options.offset ?? 0
  return new MappedRegion(binding.mmap(n, length, prot, flags, offset, options.address))
}
