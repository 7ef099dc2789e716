// Creates and configures the fds Node cannot (SO_BINDTODEVICE, buffer sizes before connect/listen, keepalive idle
// without libuv's interval and count), in the Rust plugin's order (lib.rs:311-375, :494-594):
//   socket(AF_INET6, CLOEXEC|NONBLOCK) → SO_REUSEADDR → SO_BINDTODEVICE → SO_SNDBUF → SO_RCVBUF → TCP_NODELAY
//   → SO_KEEPALIVE + TCP_KEEPIDLE.
// socket() failures are Io, option failures SocketOption; the fd is closed on any failure.
import {
  bind,
  bindToDevice,
  getsockname,
  getsockoptInt,
  K,
  listen,
  type OwnedFd,
  type SystemError,
  setsockoptInt,
  sockaddrIn6,
  socket,
} from '@x/native'
import { osText, TransportError } from './errors.js'
import type { Logger } from './log.js'

export interface SocketSpec {
  type: 'udp' | 'tcp'
  /** SO_BINDTODEVICE. */
  device?: string
  reuseAddr?: boolean
  /** SO_SNDBUF and SO_RCVBUF; 0 or undefined leaves the kernel's (auto-tuned) defaults. */
  bufferSize?: number
  /** SO_SNDBUFFORCE / SO_RCVBUFFORCE (CAP_NET_ADMIN), falling back to the capped options with a warning. */
  forceBuffers?: boolean
  nodelay?: boolean
  /** SO_KEEPALIVE=1 and TCP_KEEPIDLE=this; TCP_KEEPINTVL / TCP_KEEPCNT are not touched. */
  keepaliveIdleSecs?: number
  logger?: Logger | undefined
}

function setOpt(fd: OwnedFd, level: string, name: string, value: number): void {
  try {
    setsockoptInt(fd, K(level), K(name), value)
  } catch (e) {
    throw TransportError.socketOption(`Failed to set ${name}: ${osText(e)}`, e)
  }
}

function setBuffer(fd: OwnedFd, which: 'SND' | 'RCV', size: number, spec: SocketSpec): void {
  if (spec.forceBuffers) {
    try {
      setsockoptInt(fd, K('SOL_SOCKET'), K(`SO_${which}BUFFORCE`), size)
      return
    } catch (e) {
      if ((e as SystemError).code !== 'EPERM') throw TransportError.socketOption(`Failed to set SO_${which}BUFFORCE`, e)
      setOpt(fd, 'SOL_SOCKET', `SO_${which}BUF`, size)
      const got = getsockoptInt(fd, K('SOL_SOCKET'), K(`SO_${which}BUF`))
      spec.logger?.('Warn', `SO_${which}BUFFORCE not permitted; SO_${which}BUF is ${got} bytes (asked ${size})`)
      return
    }
  }
  setOpt(fd, 'SOL_SOCKET', `SO_${which}BUF`, size)
}

/** A configured, unbound AF_INET6 socket (non-blocking, CLOEXEC). */
export function createSocket(spec: SocketSpec): OwnedFd {
  let fd: OwnedFd
  try {
    fd = socket(K('AF_INET6'), K(spec.type === 'udp' ? 'SOCK_DGRAM' : 'SOCK_STREAM'))
  } catch (e) {
    throw TransportError.io(e)
  }
  try {
    if (spec.reuseAddr) setOpt(fd, 'SOL_SOCKET', 'SO_REUSEADDR', 1)
    if (spec.device !== undefined) {
      try {
        bindToDevice(fd, spec.device)
      } catch (e) {
        throw TransportError.socketOption(`Failed to bind to device ${spec.device}: ${osText(e)}`, e)
      }
    }
    if (spec.bufferSize) {
      setBuffer(fd, 'SND', spec.bufferSize, spec)
      setBuffer(fd, 'RCV', spec.bufferSize, spec)
    }
    if (spec.type === 'tcp' && spec.nodelay) setOpt(fd, 'IPPROTO_TCP', 'TCP_NODELAY', 1)
    if (spec.type === 'tcp' && spec.keepaliveIdleSecs !== undefined) {
      setOpt(fd, 'SOL_SOCKET', 'SO_KEEPALIVE', 1)
      setOpt(fd, 'IPPROTO_TCP', 'TCP_KEEPIDLE', spec.keepaliveIdleSecs)
    }
    return fd
  } catch (e) {
    fd.close()
    throw e
  }
}

/** bind([::]:port), then listen(backlog) when given; failures are Io (lib.rs:586-587). Returns the bound port. */
export function bindAny(fd: OwnedFd, port: number, backlog?: number): number {
  try {
    bind(fd, sockaddrIn6({ address: '::', port }))
    if (backlog !== undefined) listen(fd, backlog)
    return (getsockname(fd) as { port: number }).port
  } catch (e) {
    throw TransportError.io(e)
  }
}
