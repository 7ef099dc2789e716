// create(backend, portspec, queue, flags): one entry point over the backend classes (the CLI uses it). netmap and
// DPDK portspecs and backends say "not available in this build".
import { AfPacketSocket } from './af-packet.js'
import { type AfXdpCreateFlags, AfXdpSocket } from './af-xdp.js'
import { type ChannelOptions, type WithChannel, withChannel } from './channel.js'
import { NethunsError } from './errors.js'
import type { AfPacketFlags, PcapFlags } from './flags.js'
import { PcapSocket } from './pcap.js'
import { notAvailable, parsePortspec } from './portspec.js'

export type Backend = 'af_packet' | 'af_xdp' | 'pcap' | 'netmap' | 'dpdk'

export interface BackendFlags {
  af_packet: AfPacketFlags
  af_xdp: AfXdpCreateFlags
  pcap: PcapFlags
}

/** Any backend's socket. */
export type AnySocket = AfPacketSocket | AfXdpSocket | PcapSocket

export const BACKENDS: readonly Backend[] = ['af_packet', 'af_xdp', 'pcap', 'netmap', 'dpdk']

/** Opens a socket of `backend` (C nethuns `open` + `bind`). */
export function create(backend: Backend, portspec: string, queue: number | null = null, flags: object = {}): AnySocket {
  const p = parsePortspec(portspec)
  if (p.kind === 'netmap' || p.kind === 'dpdk') throw notAvailable(p)
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
    case 'netmap':
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
