// CmioHost: the emulator's side of the emulated device, on a SEQPACKET pathname socket. One guest at a time (a
// second one is refused with EBUSY, as the driver's single open); each guest gets fresh 2 MiB memfds.
// Two ways to serve yields, as the emulator offers: onYield(handler) — called for every automatic and manual
// yield —, or the pull API receiveCmioRequest() / sendCmioResponse(reason, data).
import { EventEmitter } from 'node:events'
import { lstatSync, unlinkSync } from 'node:fs'
import { accept, bind, FdWatcher, K, listen, type OwnedFd, sockaddrUn, socket } from '@x/native'
import { Cmd } from '../constants.js'
import { Errno } from '../errors.js'
import { decodeHello, encodeStatus, PROTOCOL_VERSION } from '../protocol.js'
import { type CmioSetup, defaultSetup } from '../setup.js'
import type { EngineOptions } from './engine.js'
import { GuestLink } from './link.js'
import { HostSession, type SessionEnd } from './session.js'
import type { CmioRequest, CmioResponse, CmioSession, YieldHandler, YieldResult } from './types.js'

export interface CmioHostOptions extends EngineOptions {
  /** Buffer placement and sizes (default: the emulator's, rx 0x60000000 and tx 0x60800000, 2 MiB each). */
  setup?: CmioSetup
  /** Remove a stale socket left at the path first (default true; only a socket is ever removed). */
  unlinkExisting?: boolean
  /** Same as calling onYield(handler). */
  handler?: YieldHandler
  /** How long a connected guest may take to say HELLO (default 10 s). */
  helloTimeoutMs?: number
}

interface HostEvents {
  /** A guest attached. */
  session: [CmioSession]
  /** A guest detached (or was detached). */
  end: [CmioSession, SessionEnd]
  /** A handler threw something other than CmioTerminate (the session was ended with EIO). */
  error: [Error]
  close: []
}

interface Pending {
  request: CmioRequest
  session: CmioSession
  resolve: (r: YieldResult) => void
}

export class CmioHost extends EventEmitter<HostEvents> implements Disposable {
  readonly path: string
  readonly #fd: OwnedFd
  readonly #watcher: FdWatcher
  readonly #pendingLinks = new Set<GuestLink>()
  /** The socket file's inode as bound: close() removes the file only if it is still ours. */
  readonly #ino: number
  readonly #options: CmioHostOptions
  #handler: YieldHandler | null
  #session: HostSession | null = null
  #closed = false
  // pull API
  readonly #mailbox: Pending[] = []
  #current: Pending | null = null
  readonly #receivers: { resolve: (p: Pending) => void; reject: (e: Error) => void }[] = []
  readonly #sessionWaiters: ((s: CmioSession) => void)[] = []

  private constructor(path: string, fd: OwnedFd, options: CmioHostOptions) {
    super()
    this.path = path
    this.#fd = fd
    this.#ino = inodeOf(path)
    this.#options = options
    this.#handler = options.handler ?? null
    this.#watcher = new FdWatcher(fd, { readable: true })
    this.#watcher.on('readable', () => this.#accept())
    this.#watcher.on('error', (e) => {
      if (this.listenerCount('error') > 0) this.emit('error', e)
    })
  }

  /** Listens on `path` (a pathname socket: it crosses network namespaces). */
  static listen(path: string, options: CmioHostOptions = {}): CmioHost {
    if (options.unlinkExisting ?? true) {
      try {
        if (lstatSync(path).isSocket()) unlinkSync(path)
      } catch {}
    }
    const fd = socket(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    try {
      bind(fd, sockaddrUn(path))
      listen(fd, 16)
    } catch (e) {
      fd.close()
      throw e
    }
    return new CmioHost(path, fd, options)
  }

  /** Serves every automatic and manual yield with `handler` (replaces the pull API and any earlier handler). */
  onYield(handler: YieldHandler): this {
    this.#handler = handler
    return this
  }

  /** The attached guest, if any. */
  get session(): CmioSession | null {
    return this.#session
  }

  /** Resolves with the next (or current) session. */
  waitForSession(signal?: AbortSignal): Promise<CmioSession> {
    if (this.#session) return Promise.resolve(this.#session)
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal!.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#sessionWaiters.push((s) => {
        signal?.removeEventListener('abort', onAbort)
        resolve(s)
      })
    })
  }

  /**
   * The emulator's receive_cmio_request: the next automatic or manual yield, as (cmd, reason, data). An automatic
   * yield returned before is acknowledged first (the emulator's next run); a manual one still unanswered is
   * returned again (the machine stays yielded until sendCmioResponse).
   */
  receiveCmioRequest(signal?: AbortSignal): Promise<CmioRequest> {
    const cur = this.#current
    if (cur !== null) {
      if (cur.request.cmd === Cmd.MANUAL && !cur.session.ended) return Promise.resolve(cur.request)
      this.#current = null
      cur.resolve(undefined)
    }
    const next = this.#mailbox.shift()
    if (next) {
      this.#current = next
      return Promise.resolve(next.request)
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#receivers.indexOf(entry)
        if (i >= 0) this.#receivers.splice(i, 1)
        reject(signal!.reason)
      }
      const entry = {
        resolve: (p: Pending) => {
          signal?.removeEventListener('abort', onAbort)
          this.#current = p
          resolve(p.request)
        },
        reject: (e: Error) => {
          signal?.removeEventListener('abort', onAbort)
          reject(e)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#receivers.push(entry)
    })
  }

  /** The emulator's send_cmio_response: answers the manual yield receiveCmioRequest returned. */
  sendCmioResponse(reason: number, data?: Uint8Array): void {
    const cur = this.#current
    if (cur === null || cur.request.cmd !== Cmd.MANUAL) throw new Error('iflags.Y is not set')
    this.#current = null
    const res: CmioResponse = { reason }
    if (data !== undefined) res.data = data
    cur.resolve(res)
  }

  /** Acknowledges the automatic yield receiveCmioRequest returned, without waiting for the next request. */
  resume(): void {
    const cur = this.#current
    if (cur === null || cur.request.cmd !== Cmd.AUTOMATIC) return
    this.#current = null
    cur.resolve(undefined)
  }

  #pull: YieldHandler = (request, session) =>
    new Promise<YieldResult>((resolve) => {
      const p: Pending = { request, session, resolve }
      const r = this.#receivers.shift()
      if (r) r.resolve(p)
      else this.#mailbox.push(p)
    })

  #accept(): void {
    for (let i = 0; i < 16 && !this.#closed; i++) {
      let c: OwnedFd | null
      try {
        c = accept(this.#fd)
      } catch (e) {
        if (this.listenerCount('error') > 0) this.emit('error', e as Error)
        return
      }
      if (c === null) return
      this.#onConnection(c)
    }
  }

  #onConnection(fd: OwnedFd): void {
    const timer = setTimeout(() => drop(), this.#options.helloTimeoutMs ?? 10_000)
    timer.unref()
    const drop = (): void => {
      clearTimeout(timer)
      this.#pendingLinks.delete(link)
      link.close()
    }
    const link = new GuestLink(fd, {
      close: () => {
        clearTimeout(timer)
        this.#pendingLinks.delete(link)
      },
      message: (data) => {
        clearTimeout(timer)
        this.#pendingLinks.delete(link)
        const version = decodeHello(data)
        if (version !== PROTOCOL_VERSION) {
          this.#refuse(link, Errno.EPROTONOSUPPORT)
          return
        }
        if (this.#session !== null || this.#closed) {
          this.#refuse(link, Errno.EBUSY)
          return
        }
        let s: HostSession
        try {
          s = new HostSession(
            link,
            this.#options.setup ?? defaultSetup(),
            this.#options,
            () => this.#handler ?? this.#pull,
            (ended, end) => this.#onEnd(ended, end),
            (e) => {
              if (this.listenerCount('error') > 0) this.emit('error', e)
            },
          )
        } catch (e) {
          this.#refuse(link, Errno.EIO)
          if (this.listenerCount('error') > 0) this.emit('error', e as Error)
          return
        }
        this.#session = s
        this.emit('session', s)
        for (const w of this.#sessionWaiters.splice(0)) w(s)
      },
    })
    this.#pendingLinks.add(link)
  }

  #refuse(link: GuestLink, errno: number): void {
    link.send(encodeStatus(errno))
    link.close()
  }

  #onEnd(s: HostSession, end: SessionEnd): void {
    if (this.#session === s) this.#session = null
    // drop pull-API state of this session
    if (this.#current?.session === s) this.#current = null
    for (let i = this.#mailbox.length - 1; i >= 0; i--) if (this.#mailbox[i]!.session === s) this.#mailbox.splice(i, 1)
    this.emit('end', s, end)
  }

  /** Stops listening (the socket file is removed) and ends the session, if any, with EIO. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#watcher.close()
    this.#fd.close()
    if (this.#ino !== 0 && inodeOf(this.path) === this.#ino) {
      try {
        unlinkSync(this.path)
      } catch {}
    }
    for (const l of this.#pendingLinks) l.close()
    this.#pendingLinks.clear()
    this.#session?.end(Errno.EIO, 'the host is closing')
    for (const r of this.#receivers.splice(0)) r.reject(new Error('CmioHost closed'))
    this.emit('close')
  }

  [Symbol.dispose](): void {
    this.close()
  }
}

function inodeOf(path: string): number {
  try {
    const st = lstatSync(path)
    return st.isSocket() ? st.ino : 0
  } catch {
    return 0
  }
}
