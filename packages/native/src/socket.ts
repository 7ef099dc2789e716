// Sockets of any domain and type, CLOEXEC and non-blocking by default, with raw sockaddr bytes and socket options.
// Control calls throw Node-style errors; accept() and connect() report "not yet" as a negative errno.
import { binding, K } from './binding.js'
import { errnoException, negErrno } from './errors.js'
import { type FdLike, fdOf, OwnedFd } from './fd.js'
import { type ParsedSockaddr, parseSockaddr, type Sockaddr } from './sockaddr.js'

const { EAGAIN, ECONNABORTED, EPROTO } = negErrno

export interface SocketOptions {
  /** Default true: SOCK_NONBLOCK. */
  nonBlocking?: boolean
}

function typeFlags(type: number, o: SocketOptions): number {
  return type | K('SOCK_CLOEXEC') | (o.nonBlocking === false ? 0 : K('SOCK_NONBLOCK'))
}

/** socket(2) → an owned fd (SOCK_CLOEXEC | SOCK_NONBLOCK unless nonBlocking is false). */
export function socket(domain: number, type: number, protocol = 0, options: SocketOptions = {}): OwnedFd {
  return new OwnedFd(binding.socket(domain, typeFlags(type, options), protocol), 'socket')
}

/** socketpair(2) → two connected owned fds. */
export function socketpair(
  domain: number,
  type: number,
  protocol = 0,
  options: SocketOptions = {},
): [OwnedFd, OwnedFd] {
  const [a, b] = binding.socketpair(domain, typeFlags(type, options), protocol)
  return [new OwnedFd(a, 'socket'), new OwnedFd(b, 'socket')]
}

export function bind(fd: FdLike, addr: Sockaddr): void {
  binding.bind(fdOf(fd), addr, 0, addr.byteLength)
}

/** connect(2) → 0 when connected, or -EINPROGRESS/-EAGAIN when a non-blocking connect is under way. */
export function connect(fd: FdLike, addr: Sockaddr): number {
  return binding.connect(fdOf(fd), addr, 0, addr.byteLength)
}

export function listen(fd: FdLike, backlog = 511): void {
  binding.listen(fdOf(fd), backlog)
}

/**
 * accept4(SOCK_CLOEXEC | SOCK_NONBLOCK) → the new socket, or null when none is pending (EAGAIN, ECONNABORTED,
 * EPROTO). Throws for fd or memory exhaustion (EMFILE, ENFILE, ENOBUFS, ENOMEM) and real errors.
 */
export function accept(fd: FdLike, options: SocketOptions = {}): OwnedFd | null {
  const r = binding.accept4(fdOf(fd), K('SOCK_CLOEXEC') | (options.nonBlocking === false ? 0 : K('SOCK_NONBLOCK')))
  if (r < 0) {
    // nothing pending, or a connection that died before we took it: try again later
    if (r === EAGAIN || r === ECONNABORTED || r === EPROTO) return null
    throw errnoException(r, 'accept4') // EMFILE, ENFILE, ENOBUFS, ENOMEM: the caller must know
  }
  return new OwnedFd(r, 'socket')
}

export function shutdown(fd: FdLike, how: 'read' | 'write' | 'both' = 'both'): void {
  binding.shutdown(fdOf(fd), how === 'read' ? K('SHUT_RD') : how === 'write' ? K('SHUT_WR') : K('SHUT_RDWR'))
}

function nameOf(get: typeof binding.getsockname, fd: FdLike): Uint8Array {
  const out = new Uint8Array(K('sizeof_sockaddr_storage'))
  const n = get(fdOf(fd), out, 0, out.byteLength)
  return out.subarray(0, Math.min(n, out.byteLength))
}

export function getsockname(fd: FdLike): ParsedSockaddr {
  return parseSockaddr(nameOf(binding.getsockname, fd))
}

export function getpeername(fd: FdLike): ParsedSockaddr {
  return parseSockaddr(nameOf(binding.getpeername, fd))
}

export function setsockoptInt(fd: FdLike, level: number, name: number, value: number | boolean): void {
  binding.setsockopt_int(fdOf(fd), level, name, typeof value === 'boolean' ? (value ? 1 : 0) : value)
}

export function getsockoptInt(fd: FdLike, level: number, name: number): number {
  return binding.getsockopt_int(fdOf(fd), level, name)
}

/** setsockopt with raw bytes, or a string (sent NUL-terminated, as SO_BINDTODEVICE wants). */
export function setsockopt(fd: FdLike, level: number, name: number, value: ArrayBufferView | string): void {
  const v = typeof value === 'string' ? Buffer.from(`${value}\0`, 'utf8') : value
  binding.setsockopt(fdOf(fd), level, name, v, 0, v.byteLength)
}

/** getsockopt into a fresh buffer of up to `length` bytes; returns the bytes the kernel wrote. */
export function getsockopt(fd: FdLike, level: number, name: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  const n = binding.getsockopt(fdOf(fd), level, name, out, 0, length)
  return out.subarray(0, n)
}

/** SO_BINDTODEVICE: traffic of this socket only goes out of (and comes in on) interface `ifname`. */
export function bindToDevice(fd: FdLike, ifname: string): void {
  setsockopt(fd, K('SOL_SOCKET'), K('SO_BINDTODEVICE'), ifname)
}

/** The interface a socket is bound to with SO_BINDTODEVICE ('' if none). */
export function boundDevice(fd: FdLike): string {
  const b = getsockopt(fd, K('SOL_SOCKET'), K('SO_BINDTODEVICE'), K('IFNAMSIZ'))
  const nul = b.indexOf(0)
  return Buffer.from(nul < 0 ? b : b.subarray(0, nul)).toString('utf8')
}

export interface PeerCred {
  pid: number
  uid: number
  gid: number
}

/** SO_PEERCRED: who is at the other end of an AF_UNIX socket (as of connect/socketpair). */
export function peerCred(fd: FdLike): PeerCred {
  const b = getsockopt(fd, K('SOL_SOCKET'), K('SO_PEERCRED'), K('sizeof_ucred'))
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return {
    pid: dv.getInt32(K('offsetof_ucred_pid'), true),
    uid: dv.getUint32(K('offsetof_ucred_uid'), true),
    gid: dv.getUint32(K('offsetof_ucred_gid'), true),
  }
}

/** SO_ERROR: the pending error of a socket (0 if none), e.g. after a non-blocking connect became writable. */
export function socketError(fd: FdLike): number {
  return getsockoptInt(fd, K('SOL_SOCKET'), K('SO_ERROR'))
}

/** send(2) → bytes or -errno (MSG_NOSIGNAL always). */
export function send(fd: FdLike, view: ArrayBufferView, flags = 0): number {
  return binding.send(fdOf(fd), view, 0, view.byteLength, flags)
}

/** recv(2) → bytes (0 at EOF) or -errno. */
export function recv(fd: FdLike, view: ArrayBufferView, flags = 0): number {
  return binding.recv(fdOf(fd), view, 0, view.byteLength, flags)
}

/** htons for EtherTypes given in host order. */
export function htons(v: number): number {
  return ((v & 0xff) << 8) | ((v >> 8) & 0xff)
}

/** An AF_PACKET socket (SOCK_RAW by default) for `protocol` (an EtherType in host order; ETH_P_ALL by default). */
export function packetSocket(options: { protocol?: number; type?: number } & SocketOptions = {}): OwnedFd {
  return socket(K('AF_PACKET'), options.type ?? K('SOCK_RAW'), htons(options.protocol ?? K('ETH_P_ALL')), options)
}

/** An AF_XDP socket. */
export function xdpSocket(options: SocketOptions = {}): OwnedFd {
  return socket(K('AF_XDP'), K('SOCK_RAW'), 0, options)
}
