// The kernel backend: /dev/cmio of a Cartesi kernel (cartesi/linux drivers/cartesi/cmio.c), as libcmt's io.c
// drives it — open O_RDWR | O_CLOEXEC (one open at a time: EBUSY), IOCTL_CMIO_SETUP, both buffers mapped at the
// addresses SETUP returns, IOCTL_CMIO_YIELD on one u64 rewritten in place. Every error path closes what it opened.
import type { MappedRegion } from '@x/native'
import { OwnedFd } from '@x/native'
import { binding } from './binding.js'
import type { Backend } from './device.js'
import { CmioError } from './errors.js'
import { mapBuffer } from './mapping.js'
import { type CmioSetup, decodeSetup, SETUP_SIZE } from './setup.js'

/** The ioctl numbers, from the addon (asm-generic encoding; the same on riscv64, x86-64 and arm64). */
export function kernelConstants(): { IOCTL_CMIO_SETUP: number; IOCTL_CMIO_YIELD: number } {
  const c = binding().constants
  return { IOCTL_CMIO_SETUP: c.IOCTL_CMIO_SETUP, IOCTL_CMIO_YIELD: c.IOCTL_CMIO_YIELD }
}

export class KernelBackend implements Backend {
  readonly kind = 'kernel' as const
  readonly path: string
  readonly setup: CmioSetup
  readonly #fd: OwnedFd
  readonly #txRegion: MappedRegion
  readonly #rxRegion: MappedRegion
  readonly tx: Uint8Array
  readonly rx: Uint8Array
  #inflight: Promise<number> | null = null
  #closed = false

  private constructor(path: string, fd: OwnedFd, setup: CmioSetup, tx: MappedRegion, rx: MappedRegion) {
    this.path = path
    this.#fd = fd
    this.setup = setup
    this.#txRegion = tx
    this.#rxRegion = rx
    this.tx = new Uint8Array(tx.buffer)
    this.rx = new Uint8Array(rx.buffer)
  }

  static open(path: string): KernelBackend {
    const b = binding()
    let fd: OwnedFd
    try {
      fd = new OwnedFd(b.cmio_open(path), 'cmio')
    } catch (e) {
      throw CmioError.fromSystem('OpenError', e)
    }
    let tx: MappedRegion | null = null
    try {
      const raw = new Uint8Array(SETUP_SIZE)
      try {
        b.cmio_setup(fd.fd, raw, 0, SETUP_SIZE)
      } catch (e) {
        throw CmioError.fromSystem('SetupError', e)
      }
      const setup = decodeSetup(raw)
      tx = mapBuffer(fd, setup.tx, 'tx', false)
      const rx = mapBuffer(fd, setup.rx, 'rx', false)
      return new KernelBackend(path, fd, setup, tx, rx)
    } catch (e) {
      tx?.unmap()
      fd.close()
      throw e
    }
  }

  yieldSync(word: BigUint64Array): void {
    const r = binding().cmio_yield(this.#fd.fd, word)
    if (r < 0) throw CmioError.fromErrno('YieldError', r, 'ioctl(IOCTL_CMIO_YIELD)')
  }

  async yieldAsync(word: BigUint64Array): Promise<void> {
    const p = binding().cmio_yield_async(this.#fd.fd, word)
    this.#inflight = p
    let r: number
    try {
      r = await p
    } finally {
      this.#inflight = null
      if (this.#closed) this.#fd.close()
    }
    if (r < 0) throw CmioError.fromErrno('YieldError', r, 'ioctl(IOCTL_CMIO_YIELD)')
  }

  /**
   * Detaches the views and unmaps both buffers at once; closes the device now, or — if an async yield's ioctl is
   * still running on the threadpool — as soon as it returns (its fd number must not be reused under it). Idempotent.
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#txRegion.unmap()
    this.#rxRegion.unmap()
    if (this.#inflight === null) this.#fd.close()
  }
}
