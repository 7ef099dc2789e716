// sendmsg/recvmsg with SCM_RIGHTS. Received fds arrive CLOEXEC (MSG_CMSG_CLOEXEC) as OwnedFds; a truncated
// control message (MSG_CTRUNC) is an error and the fds that did arrive are already closed; a truncated datagram
// (MSG_TRUNC) is reported. Both calls return -errno for EAGAIN and kin (hot path) — recvMsg returns null then.
import { binding, K } from './binding.js'
import { errnoException, negErrno } from './errors.js'
import { type FdLike, fdOf, OwnedFd } from './fd.js'
import type { Sockaddr } from './sockaddr.js'

export interface SendMsgOptions {
  /** File descriptors to pass (the kernel duplicates them; the caller still owns its own). */
  fds?: readonly FdLike[]
  flags?: number
  /** Destination for unconnected sockets. */
  to?: Sockaddr
}

/** sendmsg(2) → bytes sent, or -errno (-EAGAIN when the socket buffer is full). */
export function sendMsg(fd: FdLike, data: ArrayBufferView, options: SendMsgOptions = {}): number {
  const fds = options.fds && options.fds.length > 0 ? Int32Array.from(options.fds, fdOf) : null
  return binding.sendmsg(fdOf(fd), data, 0, data.byteLength, fds, options.flags ?? 0, options.to ?? null)
}

export interface RecvMsgResult {
  /** Bytes received into the buffer (for SOCK_SEQPACKET/DGRAM: the message's length, capped at the buffer). */
  bytes: number
  /** Received fds, owned by the caller. */
  fds: OwnedFd[]
  /** MSG_TRUNC: the message was longer than the buffer; the rest is lost. */
  truncated: boolean
  /** The raw msg_flags. */
  flags: number
}

export interface RecvMsgOptions {
  /** How many fds may arrive (default 8; at most 253). More is MSG_CTRUNC, an error. */
  maxFds?: number
  flags?: number
}

const outScratch = new Int32Array(3)
const fdScratch = new Int32Array(253)

/**
 * recvmsg(2) into buf → the result, or null when nothing is ready (EAGAIN). bytes === 0 with no fds is EOF on a
 * stream or an orderly shutdown of a SEQPACKET peer. Throws the Node-style error for real failures and for
 * MSG_CTRUNC (code 'EMSGSIZE', syscall 'recvmsg', message says control data truncated).
 */
export function recvMsg(fd: FdLike, buf: ArrayBufferView, options: RecvMsgOptions = {}): RecvMsgResult | null {
  const max = Math.min(Math.max(options.maxFds ?? 8, 0), 253)
  const fdsOut = max > 0 ? fdScratch.subarray(0, max) : null
  const n = binding.recvmsg(fdOf(fd), buf, 0, buf.byteLength, fdsOut, options.flags ?? 0, outScratch, null)
  if (n < 0) {
    if (n === negErrno.EAGAIN) return null
    throw errnoException(n, 'recvmsg')
  }
  const flags = outScratch[0]!
  if (flags & K('MSG_CTRUNC')) {
    throw errnoException(-90, 'recvmsg', '(control data truncated, MSG_CTRUNC: received fds were closed)')
  }
  const count = outScratch[1]!
  const fds: OwnedFd[] = []
  for (let i = 0; i < count; i++) fds.push(new OwnedFd(fdScratch[i]!, 'received'))
  return { bytes: n, fds, truncated: (flags & K('MSG_TRUNC')) !== 0, flags }
}
