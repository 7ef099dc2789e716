// @x/native — the primitives Node lacks for Linux I/O.
export { binding, constants, K } from './binding.js'
export { errnoException, check, XNativeError, type SystemError } from './errors.js'
export { OwnedFd, pipe, read, write, fdOf, type FdLike } from './fd.js'
export { memfdCreate, addSeals, getSeals, Seal, type MemfdOptions } from './memfd.js'
export { EventFd, type EventFdOptions } from './eventfd.js'
export { mmap, MappedRegion, type MmapOptions } from './mmap.js'
export { ioctl, ioctlInt, IOC, IO, IOR, IOW, IOWR, IOC_NONE, IOC_READ, IOC_WRITE } from './ioctl.js'
export {
  sockaddrUn,
  sockaddrIn,
  sockaddrIn6,
  sockaddrLl,
  sockaddrXdp,
  parseSockaddr,
  parseIPv4,
  parseIPv6,
  formatIPv6,
  type Sockaddr,
  type ParsedSockaddr,
  type In6Options,
  type LlOptions,
  type XdpOptions,
} from './sockaddr.js'
export {
  socket,
  socketpair,
  bind,
  connect,
  listen,
  accept,
  shutdown,
  getsockname,
  getpeername,
  setsockopt,
  setsockoptInt,
  getsockopt,
  getsockoptInt,
  bindToDevice,
  boundDevice,
  peerCred,
  socketError,
  send,
  recv,
  htons,
  packetSocket,
  xdpSocket,
  type PeerCred,
  type SocketOptions,
} from './socket.js'
export { sendMsg, recvMsg, type SendMsgOptions, type RecvMsgOptions, type RecvMsgResult } from './msg.js'
export { ifNameToIndex, ifIndexToName } from './netif.js'
export { FdWatcher, waitReadable, waitWritable, type WatchOptions } from './watcher.js'
export { openTun, type TunOptions, type TunDevice } from './tun.js'
export {
  SeqpacketSocket,
  SeqpacketServer,
  type SeqpacketMessage,
  type SeqpacketSocketOptions,
  type SeqpacketServerOptions,
  type UnixAddress,
} from './seqpacket.js'
