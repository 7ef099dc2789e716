// @x/nethuns — one packet Socket API over AF_PACKET (TPACKET_V3), AF_XDP, libpcap and netmap (@x/netmap).
export { Payload, type Token, token } from '@x/ring'
export { AfPacketSocket } from './af-packet.js'
export { type AfXdpCreateFlags, AfXdpSocket } from './af-xdp.js'
export { PacketBatch } from './batch.js'
export {
  type ChannelOptions,
  channelFor,
  type NethunsChannelDescriptor,
  NethunsPopper,
  NethunsPusher,
  type WithChannel,
  withChannel,
} from './channel.js'
export { Context, type ContextDescriptor, consume } from './context.js'
export { type AnySocket, BACKENDS, type Backend, create, createWithChannel } from './create.js'
export { type ErrorKind, isNethunsError, NethunsError, type NethunsErrorCode } from './errors.js'
export { compileFilter, filterInstructions, havePcap } from './filter.js'
export type {
  AfPacketFlags,
  AfXdpFlags,
  CommonFlags,
  Direction,
  FanoutMode,
  FanoutOptions,
  Mode,
  NetmapFlags,
  PcapFlags,
} from './flags.js'
export type { AfPacketMeta, AfXdpMeta, Metadata, MetadataType, NetmapMeta, PcapMeta } from './metadata.js'
export { importNetmap, loadNetmap, NetmapSocket } from './netmap.js'
export { PcapSocket } from './pcap.js'
export { type Portspec, parsePortspec } from './portspec.js'
export { type BackendName, type FilterFn, Socket, type SocketEvents, type SocketStats } from './socket.js'
export { redirectProgram, type XdpMode, xdpAttachments } from './xdp-program.js'
