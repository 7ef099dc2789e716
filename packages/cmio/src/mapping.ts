// Mapping a CMIO buffer where the device says it lives (virtual address = physical address), with the checks the
// kernel driver makes: a region that is not at `data` with exactly `length` bytes is EINVAL (MapError).
import { K, type MappedRegion, mmap, type OwnedFd } from '@x/native'
import { CmioError } from './errors.js'
import type { CmioBuffer } from './setup.js'

/**
 * Maps `fd` read/write at `buf.data`. `fixed` adds MAP_FIXED_NOREPLACE (the emulated device, whose memfds would
 * otherwise land anywhere); without it the address is a hint as in libcmt, and the driver refuses a moved mapping.
 * An occupied range (EEXIST from MAP_FIXED_NOREPLACE) or a moved mapping is reported as the driver reports it:
 * MapError with code EINVAL (the kernel's errno is kept as `cause`).
 */
export function mapBuffer(fd: OwnedFd, buf: CmioBuffer, name: string, fixed: boolean): MappedRegion {
  if (!Number.isSafeInteger(buf.length) || buf.length <= 0) {
    throw new CmioError('MapError', `${name} buffer has an invalid length ${buf.length}`, {
      code: 'EINVAL',
      errno: -22,
      syscall: 'mmap',
    })
  }
  let region: MappedRegion
  try {
    region = mmap(fd, buf.length, {
      prot: K('PROT_READ') | K('PROT_WRITE'),
      flags: K('MAP_SHARED') | (fixed ? K('MAP_FIXED_NOREPLACE') : 0),
      address: buf.data,
    })
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === 'EEXIST') {
      throw new CmioError(
        'MapError',
        `EINVAL: ${name} range 0x${buf.data.toString(16)}+0x${buf.length.toString(16)} is already in use, mmap`,
        { code: 'EINVAL', errno: -22, syscall: 'mmap', cause: e },
      )
    }
    throw CmioError.fromSystem('MapError', e)
  }
  if (region.address !== buf.data) {
    region.unmap()
    throw new CmioError(
      'MapError',
      `EINVAL: ${name} buffer landed at 0x${region.address.toString(16)}, not 0x${buf.data.toString(16)}, mmap`,
      { code: 'EINVAL', errno: -22, syscall: 'mmap' },
    )
  }
  return region
}
