// @x/native — the primitives Node lacks for Linux I/O.
export { binding, constants, K } from './binding.js'
export {
  type BpfInsn,
  type BpfMapOptions,
  type BpfProgOptions,
  bpfInsns,
  bpfLinkCreate,
  bpfMapCreate,
  bpfMapDelete,
  bpfMapLookup,
  bpfMapUpdate,
  bpfProgLoad,
  u32Key,
} from './bpf.js'
export { check, errnoException, negErrno, type SystemError, XNativeError } from './errors.js'
export { EventFd, type EventFdOptions } from './eventfd.js'
export { type FdLike, fdOf, OwnedFd, pipe, read, write } from './fd.js'
export { IO, IOC, IOC_NONE, IOC_READ, IOC_WRITE, IOR, IOW, IOWR, ioctl, ioctlInt } from './ioctl.js'
export { addSeals, getSeals, type MemfdOptions, memfdCreate, Seal } from './memfd.js'
export { MappedRegion, type MmapOptions, mmap } from './mmap.js'
export {
  DatagramBatch,
  type DatagramBatchOptions,
  DatagramReceiver,
  type DatagramReceiverOptions,
  recvMmsg,
} from './mmsg.js'
export { type RecvMsgOptions, type RecvMsgResult, recvMsg, type SendMsgOptions, sendMsg } from './msg.js'
export { MsgArena, type MsgArenaOptions } from './msg-arena.js'
export { ifIndexToName, ifNameToIndex, ifQueues } from './netif.js'
export { type GroupEntry, getgrgid, getgrnam, getgrouplist, getpwnam, getpwuid, type PasswdEntry } from './nss.js'
export { SendBatch, type SendBatchOptions, sendMmsg } from './sendmmsg.js'
export {
  type SeqpacketMessage,
  SeqpacketServer,
  type SeqpacketServerOptions,
  SeqpacketSocket,
  type SeqpacketSocketOptions,
  type UnixAddress,
} from './seqpacket.js'
export {
  formatIPv6,
  type In6Options,
  type LlOptions,
  type ParsedSockaddr,
  parseIPv4,
  parseIPv6,
  parseSockaddr,
  type Sockaddr,
  sockaddrIn,
  sockaddrIn6,
  sockaddrLl,
  sockaddrUn,
  sockaddrXdp,
  type XdpOptions,
} from './sockaddr.js'
export {
  accept,
  bind,
  bindToDevice,
  boundDevice,
  connect,
  getpeername,
  getsockname,
  getsockopt,
  getsockoptInt,
  htons,
  listen,
  type PeerCred,
  packetSocket,
  peerCred,
  recv,
  type SocketOptions,
  send,
  setsockopt,
  setsockoptInt,
  shutdown,
  socket,
  socketError,
  socketpair,
  xdpSocket,
} from './socket.js'
export { openTun, type TunDevice, type TunOptions } from './tun.js'
export { FdWatcher, type WatchOptions, waitReadable, waitWritable } from './watcher.js'
