// The daemon's side of the socket: a listener and per-client peers over @x/native's primitives (socket, bind,
// listen, accept4, FdWatcher, recvmsg/sendmsg). Built for the daemon's hot path rather than on SeqpacketSocket:
// datagrams are handed over in one shared receive buffer (handling is synchronous, so nothing is copied), the poll
// interest is changed only when it really changes (every uv_poll_start is an epoll_ctl DEL + ADD), and a client
// that sends one request at a time costs one recvmsg per request — the drain budget grows only for pipelined bursts.

import { lstatSync, statSync, unlinkSync } from 'node:fs'
import {
  accept,
  bind,
  errnoException,
  FdWatcher,
  K,
  listen,
  MsgArena,
  negErrno,
  OwnedFd,
  type PeerCred,
  peerCred,
  SendBatch,
  sendMmsg,
  sendMsg,
  sockaddrUn,
  socket,
} from '@x/native'
import { MSG_MAX_SIZE } from '../protocol.js'

const { EAGAIN, EMSGSIZE } = negErrno
/**
 * One receive area for every peer (a datagram is handled before the next is read; a request brings at most 3 fds),
 * and the reply area the daemon writes its replies into (`replyBuffer`): both in one arena the addon checked once,
 * so a recvmsg or an fd-less reply passes only scalars across the boundary.
 */
const io = new MsgArena({ recvSize: MSG_MAX_SIZE, sendSize: MSG_MAX_SIZE, maxFds: 3 })
/** Where the daemon builds a reply; `Peer.send` of a view of it sends straight from the arena. */
export const replyBuffer: Uint8Array = io.sendBuffer
export const replyView: DataView = io.sendView
/** Replies produced while one peer's burst is read, sent together by one sendmmsg when the burst is done. */
const replies = new SendBatch({ capacity: 64, bytes: 64 * MSG_MAX_SIZE, maxFds: 64 })

export interface PeerHandlers {
  /**
   * A datagram of `len` bytes at the start of the shared receive buffer (`buf`, also viewed by `view`; valid only
   * during the call), with its fds (the handler owns them).
   */
  message(buf: Uint8Array, view: DataView, len: number, truncated: boolean, fds: OwnedFd[]): void
  /** The peer is gone (EOF, error, or close()); called once. */
  closed(why: string): void
}

export class Peer {
  readonly #fd: OwnedFd
  readonly #watcher: FdWatcher
  #handlers: PeerHandlers | null = null
  #outbox: { data: Uint8Array; fds: OwnedFd[] }[] = []
  #interest = 0 // 1 readable, 2 writable
  #budget = 1
  #streak = 0
  #draining = false
  #closed = false

  constructor(fd: OwnedFd) {
    this.#fd = fd
    this.#watcher = new FdWatcher(fd)
    this.#watcher.on('readable', () => this.#onReadable())
    this.#watcher.on('writable', () => this.#flush())
    this.#watcher.on('error', (e) => this.close(`socket error: ${e.message}`))
  }

  get fd(): number {
    return this.#fd.fd
  }

  get closed(): boolean {
    return this.#closed
  }

  /** SO_PEERCRED as of connect(). */
  peerCred(): PeerCred {
    return peerCred(this.#fd)
  }

  /** Starts reading. */
  start(handlers: PeerHandlers): void {
    this.#handlers = handlers
    this.#setInterest(1)
  }

  /**
   * Sends one reply. When the socket buffer is full the reply is queued, reading stops until it is out (one reply
   * pending per client, as upstream), and fds are duplicated to stay valid. A failing send closes the peer.
   */
  send(data: Uint8Array, fds?: readonly OwnedFd[]): void {
    if (this.#closed) return
    // inside a burst: batch (the fds lent are the daemon's long-lived BAR fds, valid until the batch goes)
    if (this.#draining && this.#outbox.length === 0) {
      if (replies.add(data, fds)) return
      this.#sendReplies()
      if (this.#outbox.length === 0 && replies.add(data, fds)) return
    }
    if (this.#outbox.length === 0) {
      const r = fds && fds.length > 0 ? sendMsg(this.#fd, data, { fds }) : io.sendFrom(this.#fd, data)
      if (r >= 0) return
      if (r !== EAGAIN) {
        this.close(`send failed: ${errnoException(r, 'sendmsg').code}`)
        return
      }
    }
    this.#outbox.push({ data: data.slice(), fds: (fds ?? []).map((f) => f.dup()) })
    this.#setInterest(2)
  }

  close(why = 'closed'): void {
    if (this.#closed) return
    this.#closed = true
    this.#watcher.close()
    this.#fd.close()
    for (const m of this.#outbox.splice(0)) for (const f of m.fds) f.close()
    const h = this.#handlers
    this.#handlers = null
    h?.closed(why)
  }

  #setInterest(i: number): void {
    if (i === this.#interest || this.#closed) return
    this.#interest = i
    this.#watcher.watch({ readable: (i & 1) !== 0, writable: (i & 2) !== 0 })
  }

  #onReadable(): void {
    const budget = this.#budget
    let n = 0
    this.#draining = budget > 1
    try {
      n = this.#drain(budget)
    } finally {
      this.#draining = false
      if (replies.count > 0) this.#sendReplies()
    }
    // Drain budget: one datagram per wake for a client that waits for each reply (the loop's next poll sees more
    // anyway: no recvmsg is spent on EAGAIN); a few full wakes in a row mean a pipelining client, whose bursts are
    // then read up to 64 at a time, their replies sent by one sendmmsg; draining a burst keeps the budget, a lone
    // datagram brings it back to 1.
    if (n === budget) {
      if (budget === 1 && ++this.#streak < 8) return
      this.#budget = Math.min(64, budget * 4)
    } else if (n <= 1) {
      this.#budget = 1
      this.#streak = 0
    }
  }

  /** Reads and handles up to budget datagrams; returns how many. */
  #drain(budget: number): number {
    let n = 0
    while (n < budget && !this.#closed && this.#outbox.length === 0) {
      const len = io.recv(this.#fd)
      if (len === EAGAIN) break
      if (len < 0) {
        // EMSGSIZE: more than 3 fds or a truncated control message (the fds were closed): malformed
        const why = len === EMSGSIZE ? 'malformed ancillary data' : 'receive failed'
        this.close(`${why}: ${MsgArena.recvError(len).message}`)
        return n
      }
      const fds = io.takeFds()
      if (len === 0 && fds.length === 0) {
        this.close('peer closed')
        return n
      }
      n++
      this.#handlers?.message(io.recvBuffer, io.recvView, len, io.truncated, fds)
    }
    return n
  }

  /** Sends this peer's batched replies; what does not fit goes to the outbox (reading stops until it is out). */
  #sendReplies(): void {
    while (replies.count > 0 && !this.#closed && this.#outbox.length === 0) {
      const r = sendMmsg(this.#fd, replies)
      if (r > 0) {
        replies.consume(r)
        continue
      }
      if (r !== EAGAIN) {
        replies.clear()
        this.close(`send failed: ${errnoException(r, 'sendmmsg').code}`)
        return
      }
      break
    }
    if (this.#closed) {
      replies.clear()
      return
    }
    let at = 0
    let f = 0
    for (let i = 0; i < replies.count; i++) {
      const len = replies.lens[i]!
      const k = replies.fdCounts[i]!
      const fds: OwnedFd[] = []
      for (let j = 0; j < k; j++) fds.push(dupNumber(replies.fds[f + j]!))
      f += k
      this.#outbox.push({ data: replies.buffer.slice(at, at + len), fds })
      at += len
    }
    if (replies.count > 0) this.#setInterest(2)
    replies.clear()
  }

  #flush(): void {
    while (this.#outbox.length > 0 && !this.#closed) {
      const m = this.#outbox[0]!
      const r = m.fds.length > 0 ? sendMsg(this.#fd, m.data, { fds: m.fds }) : sendMsg(this.#fd, m.data)
      if (r === EAGAIN) return
      this.#outbox.shift()
      for (const f of m.fds) f.close()
      if (r < 0) {
        this.close(`send failed: ${errnoException(r, 'sendmsg').code}`)
        return
      }
    }
    this.#setInterest(1)
  }
}

/** A duplicate (F_DUPFD_CLOEXEC) of an fd number this module does not own. */
function dupNumber(fd: number): OwnedFd {
  const borrowed = new OwnedFd(fd, 'borrowed')
  try {
    return borrowed.dup()
  } finally {
    borrowed.release()
  }
}

export interface ListenerOptions {
  backlog?: number
}

/** A listening SOCK_SEQPACKET socket: calls onPeer for every accepted connection. */
export class Listener {
  readonly #fd: OwnedFd
  readonly #watcher: FdWatcher
  readonly #path: string | null
  readonly #ino: number
  #closed = false

  private constructor(fd: OwnedFd, path: string | null, onPeer: (p: Peer) => void, onError: (e: Error) => void) {
    this.#fd = fd
    this.#path = path
    this.#ino = path === null ? -1 : statSync(path).ino
    this.#watcher = new FdWatcher(fd, { readable: true })
    this.#watcher.on('readable', () => {
      for (let i = 0; i < 64 && !this.#closed; i++) {
        let c: OwnedFd | null
        try {
          c = accept(this.#fd)
        } catch (e) {
          onError(e as Error)
          return
        }
        if (c === null) return
        onPeer(new Peer(c))
      }
    })
    this.#watcher.on('error', onError)
  }

  /** unlink + bind + listen at path. */
  static listen(
    path: string,
    onPeer: (p: Peer) => void,
    onError: (e: Error) => void,
    options: ListenerOptions = {},
  ): Listener {
    const fd = socket(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    try {
      const addr = sockaddrUn(path)
      try {
        unlinkSync(path)
      } catch {
        // nothing there
      }
      bind(fd, addr)
      listen(fd, options.backlog ?? 4096)
      return new Listener(fd, path, onPeer, onError)
    } catch (e) {
      fd.close()
      throw e
    }
  }

  /** Serves an inherited listening socket (made non-blocking). */
  static adopt(fd: OwnedFd, onPeer: (p: Peer) => void, onError: (e: Error) => void): Listener {
    fd.setNonBlocking(true)
    return new Listener(fd, null, onPeer, onError)
  }

  get fd(): number {
    return this.#fd.fd
  }

  /** Stops listening and removes the socket file this listener created (not one a successor bound since). */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#watcher.close()
    this.#fd.close()
    if (this.#path !== null) {
      try {
        if (lstatSync(this.#path).ino === this.#ino) unlinkSync(this.#path)
      } catch {
        // already gone
      }
    }
  }
}
