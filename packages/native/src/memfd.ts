// memfd_create(2) and file seals (F_ADD_SEALS / F_GET_SEALS).
import { ftruncateSync } from 'node:fs'
import { binding, K } from './binding.js'
import { type FdLike, fdOf, OwnedFd } from './fd.js'

export interface MemfdOptions {
  /** Allow F_ADD_SEALS later (default true). */
  allowSealing?: boolean
  /** Size to ftruncate to right away. */
  size?: number
  /** MFD_NOEXEC_SEAL (Linux ≥ 6.3); ignored (retried without) where the kernel does not know it. */
  noExec?: boolean
}

export const Seal = {
  get SEAL() {
    return K('F_SEAL_SEAL')
  },
  get SHRINK() {
    return K('F_SEAL_SHRINK')
  },
  get GROW() {
    return K('F_SEAL_GROW')
  },
  get WRITE() {
    return K('F_SEAL_WRITE')
  },
  get FUTURE_WRITE() {
    return K('F_SEAL_FUTURE_WRITE')
  },
} as const

/** An anonymous memory file, O_CLOEXEC. */
export function memfdCreate(name: string, options: MemfdOptions = {}): OwnedFd {
  const flags = K('MFD_CLOEXEC') | (options.allowSealing === false ? 0 : K('MFD_ALLOW_SEALING'))
  let fd: number
  if (options.noExec) {
    try {
      fd = binding.memfd_create(name, flags | K('MFD_NOEXEC_SEAL'))
    } catch (e) {
      if ((e as { code?: string }).code !== 'EINVAL') throw e
      fd = binding.memfd_create(name, flags)
    }
  } else {
    fd = binding.memfd_create(name, flags)
  }
  const owned = new OwnedFd(fd, 'memfd')
  if (options.size !== undefined) {
    try {
      ftruncateSync(fd, options.size)
    } catch (e) {
      owned.close()
      throw e
    }
  }
  return owned
}

/** Adds seals (a bitwise OR of Seal.*). */
export function addSeals(fd: FdLike, seals: number): void {
  binding.fcntl(fdOf(fd), K('F_ADD_SEALS'), seals)
}

/** The seals in force. */
export function getSeals(fd: FdLike): number {
  return binding.fcntl(fdOf(fd), K('F_GET_SEALS'))
}
