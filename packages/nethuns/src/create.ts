// create(backend, portspec, queue, flags): one entry point over the backend classes (the CLI uses it). netmap
// portspecs go to the netmap backend (over the optional peer @x/netmap); DPDK says "not available in this build".
import { AfPacketSocket } from './af-packet.js'
import { type AfXdpCreateFlags, AfXdpSocket } from './af-xdp.js'
import { type ChannelOptions, type WithChannel, withChannel } from './channel.js'
import { NethunsError } from './errors.js'
import type { AfPacketFlags, NetmapFlags, PcapFlags } from './flags.js'
import { NetmapSocket } from './netmap.js'
import { PcapSocket } from './pcap.js'
import { notAvailable, parsePortspec } from './portspec.js'

export type Backend = 'af_packet' | 'af_xdp' | 'pcap' | 'netmap' | 'dpdk'

export interface BackendFlags {
  af_packet: AfPacketFlags
  af_xdp: AfXdpCreateFlags
  pcap: PcapFlags
  netmap: NetmapFlags
}

/** Any backend's socket. */
export type AnySocket = AfPacketSocket | AfXdpSocket | PcapSocket | NetmapSocket

export const BACKENDS: readonly Backend[] = ['af_packet', 'af_xdp', 'pcap', 'netmap', 'dpdk']

/** Opens a socket of `backend` (C nethuns `open` + `bind`). */
export function create(backend: Backend, portspec: string, queue: number | null = null, flags: object = {}): AnySocket {
  if (backend === 'netmap') return NetmapSocket.create(portspec, queue, flags as NetmapFlags)
  const p = parsePortspec(portspec)
  if (p.kind === 'netmap') {
    throw new NethunsError(
      'ERR_NETHUNS_PORTSPEC',
      `'${portspec}' is a netmap port: open it with the netmap backend, not ${String(backend)}`,
      { portspec },
    )
  }
  if (p.kind === 'dpdk') throw notAvailable(p)
  // A capture file can only be read by pcap, whatever backend was asked for (as nethuns-rs routes file: specs).
  if (p.kind === 'file' && backend !== 'pcap') {
    throw new NethunsError('ERR_NETHUNS_PORTSPEC', `'${portspec}' is a capture file: open it with the pcap backend`, {
      portspec,
    })
  }
  switch (backend) {
    case 'af_packet':
      return AfPacketSocket.create(portspec, queue, flags as AfPacketFlags)
    case 'af_xdp':
      return AfXdpSocket.create(portspec, queue, flags as AfXdpCreateFlags)
    case 'pcap':
      return PcapSocket.create(portspec, queue, flags as PcapFlags)
    case 'dpdk':
      throw new NethunsError('ERR_NETHUNS_NOT_AVAILABLE', `the ${backend} backend is not available in this build`, {
        portspec,
      })
    default:
      throw new NethunsError('ERR_NETHUNS_NOT_AVAILABLE', `unknown or unavailable backend '${String(backend)}'`, {
        portspec,
      })
  }
}

/** nethuns-rs `create_with_channel`: a socket of `backend` and the two ends of a channel over its Context. */
export function createWithChannel(
  backend: Backend,
  portspec: string,
  queue: number | null = null,
  flags: object = {},
  options: ChannelOptions = {},
): WithChannel<AnySocket> {
  return withChannel(create(backend, portspec, queue, flags), options)
}
