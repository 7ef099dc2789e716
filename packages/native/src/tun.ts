// TUN/TAP devices: open /dev/net/tun and TUNSETIFF with an ifreq built from the addon's layout constants.
import { constants as fsc, openSync } from 'node:fs'
import { K } from './binding.js'
import { XNativeError } from './errors.js'
import { OwnedFd } from './fd.js'
import { ioctl } from './ioctl.js'

export interface TunOptions {
  /** Interface name ('' lets the kernel pick, e.g. tap0). */
  name?: string
  mode?: 'tap' | 'tun'
  /** IFF_NO_PI: no 4-byte packet-information header before each frame (default true). */
  noPacketInfo?: boolean
  multiQueue?: boolean
  vnetHdr?: boolean
}

export interface TunDevice {
  fd: OwnedFd
  /** The name the kernel gave the interface. */
  name: string
}

/** Opens (creating if needed) a TUN or TAP interface; the fd is O_NONBLOCK and O_CLOEXEC. */
export function openTun(options: TunOptions = {}): TunDevice {
  const name = options.name ?? ''
  const ifnamsiz = K('IFNAMSIZ')
  if (Buffer.byteLength(name) >= ifnamsiz) {
    throw new XNativeError('ERR_INVALID_ARG_VALUE', `interface name longer than ${ifnamsiz - 1} bytes: ${name}`)
  }
  const ifr = new Uint8Array(K('sizeof_ifreq'))
  Buffer.from(name).copy(ifr, K('offsetof_ifreq_ifr_name'))
  let flags = options.mode === 'tun' ? K('IFF_TUN') : K('IFF_TAP')
  if (options.noPacketInfo !== false) flags |= K('IFF_NO_PI')
  if (options.multiQueue) flags |= K('IFF_MULTI_QUEUE')
  if (options.vnetHdr) flags |= K('IFF_VNET_HDR')
  new DataView(ifr.buffer).setUint16(K('offsetof_ifreq_ifr_flags'), flags, true)
  const fd = new OwnedFd(openSync('/dev/net/tun', fsc.O_RDWR | fsc.O_NONBLOCK), 'tun')
  try {
    ioctl(fd, K('TUNSETIFF'), ifr, 'TUNSETIFF')
  } catch (e) {
    fd.close()
    throw e
  }
  const end = ifr.indexOf(0)
  return { fd, name: Buffer.from(ifr.subarray(0, end < 0 ? ifnamsiz : end)).toString() }
}
