// The DMA-buf CPU-access bracket (slash_bar_file_{start,end}_{read,write}, libslash ctldev.h): ioctl(fd,
// DMA_BUF_IOCTL_SYNC, &(struct dma_buf_sync){ flags }). On a SLASH BAR dma-buf it is a no-op barrier; on a memfd
// (the simulator's BARs), a file or a sysfs resource file it fails with ENOTTY, which means "not a dma-buf":
// nothing to synchronise.
import { type FdLike, IOW, ioctl } from '@x/native'

export const DMA_BUF_SYNC_READ = 1
export const DMA_BUF_SYNC_WRITE = 2
export const DMA_BUF_SYNC_RW = 3
export const DMA_BUF_SYNC_START = 0
export const DMA_BUF_SYNC_END = 4
/** _IOW('b', 0, struct dma_buf_sync) = 0x40086200 (linux/dma-buf.h). */
export const DMA_BUF_IOCTL_SYNC = IOW(0x62, 0, 8)

const arg = new BigUint64Array(1)
const argBytes = new Uint8Array(arg.buffer)

/**
 * Issues the sync ioctl. Returns true when it was done, false when the fd is not a dma-buf (ENOTTY); throws the
 * Node-style error ({ code, errno, syscall: 'ioctl(DMA_BUF_IOCTL_SYNC)' }) for any other failure.
 */
export function dmaBufSync(fd: FdLike, flags: number): boolean {
  arg[0] = BigInt(flags)
  try {
    ioctl(fd, DMA_BUF_IOCTL_SYNC, argBytes, 'DMA_BUF_IOCTL_SYNC')
    return true
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOTTY') return false
    throw e
  }
}
