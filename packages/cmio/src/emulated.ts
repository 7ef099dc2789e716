// The emulated backend: the guest end of the emulated device (see protocol.ts) — a SEQPACKET pathname socket to a
// CmioHost, the two buffers as memfds received over SCM_RIGHTS and mapped at the addresses of the setup with
// MAP_FIXED_NOREPLACE, and 8-byte yields. yieldSync blocks the calling thread in poll(2)/recv(2) inside the addon,
// exactly as the kernel's ioctl blocks it; yieldAsync waits for the reply on this thread's event loop (an FdWatcher),
// so no threadpool thread is parked while the host holds the yield.
import { fstatSync } from 'node:fs'
import {
  connect,
  FdWatcher,
  K,
  type MappedRegion,
  negErrno,
  OwnedFd,
  recv,
  recvMsg,
  send,
  sendMsg,
  sockaddrUn,
  socket,
} from '@x/native'
import { binding } from './binding.js'
import type { Backend } from './device.js'
import { CmioError, Errno } from './errors.js'
import { mapBuffer } from './mapping.js'
import { encodeHello, STATUS_SIZE, WELCOME_SIZE, WORD_SIZE } from './protocol.js'
import { type CmioSetup, decodeSetup } from './setup.js'

export interface EmulatedOptions {
  /** How long to wait for the host's handshake reply (default 10 s). */
  timeoutMs?: number
  signal?: AbortSignal
}

const { EAGAIN } = negErrno

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted()
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * socket + connect. Blocking mode waits in connect(2) while the host's backlog is full; non-blocking mode returns
 * pending = true then (EAGAIN: for AF_UNIX nothing is under way, the caller retries).
 */
function openSocket(path: string, nonBlocking: boolean): { fd: OwnedFd; pending: boolean } {
  let fd: OwnedFd
  try {
    fd = socket(K('AF_UNIX'), K('SOCK_SEQPACKET'), 0, { nonBlocking })
  } catch (e) {
    throw CmioError.fromSystem('OpenError', e)
  }
  try {
    const r = connect(fd, sockaddrUn(path))
    return { fd, pending: r < 0 }
  } catch (e) {
    fd.close()
    throw CmioError.fromSystem('OpenError', e)
  }
}

function refused(status: number): CmioError {
  return CmioError.fromErrno('OpenError', -status, 'connect', 'refused by the CMIO host')
}

/** Reads the WELCOME (or a refusal) and maps the buffers; closes every fd it got, whatever happens. */
function finishHandshake(path: string, fd: OwnedFd, msg: Uint8Array, n: number, fds: OwnedFd[]): EmulatedBackend {
  try {
    if (n === 0) throw CmioError.fromErrno('OpenError', -Errno.ECONNRESET, 'recvmsg', 'the host closed the socket')
    if (n < STATUS_SIZE) throw CmioError.fromErrno('SetupError', -Errno.EPROTO, 'recvmsg', `${n}-byte handshake`)
    const status = new DataView(msg.buffer, msg.byteOffset, 4).getUint32(0, true)
    if (status !== 0) throw refused(status)
    if (n !== WELCOME_SIZE || fds.length !== 2) {
      throw CmioError.fromErrno('SetupError', -Errno.EPROTO, 'recvmsg', `${n}-byte setup with ${fds.length} fds`)
    }
    const setup = decodeSetup(msg, 4)
    for (const [i, b] of [setup.tx, setup.rx].entries()) {
      const size = fstatSync(fds[i]!.fd).size
      if (size < b.length) {
        throw new CmioError('MapError', `EINVAL: ${i ? 'rx' : 'tx'} memfd has ${size} bytes, setup says ${b.length}`, {
          code: 'EINVAL',
          errno: -22,
          syscall: 'fstat',
        })
      }
    }
    const tx = mapBuffer(fds[0]!, setup.tx, 'tx', true)
    let rx: MappedRegion
    try {
      rx = mapBuffer(fds[1]!, setup.rx, 'rx', true)
    } catch (e) {
      tx.unmap()
      throw e
    }
    return new EmulatedBackend(path, fd, setup, tx, rx)
  } catch (e) {
    fd.close()
    throw e
  } finally {
    for (const f of fds) f.close()
  }
}

export class EmulatedBackend implements Backend {
  readonly kind = 'emulated' as const
  readonly path: string
  readonly setup: CmioSetup
  readonly tx: Uint8Array
  readonly rx: Uint8Array
  readonly #fd: OwnedFd
  readonly #txRegion: MappedRegion
  readonly #rxRegion: MappedRegion
  #watcher: FdWatcher | null = null
  readonly #out = new Uint8Array(WORD_SIZE)
  readonly #in = new Uint8Array(16)
  #closed = false

  /** @internal */
  constructor(path: string, fd: OwnedFd, setup: CmioSetup, tx: MappedRegion, rx: MappedRegion) {
    this.path = path
    this.#fd = fd
    this.setup = setup
    this.#txRegion = tx
    this.#rxRegion = rx
    this.tx = new Uint8Array(tx.buffer)
    this.rx = new Uint8Array(rx.buffer)
  }

  /** Connects and does the handshake, blocking the thread (≤ timeoutMs) — the host must be another thread/process. */
  static open(path: string, options: EmulatedOptions = {}): EmulatedBackend {
    const timeout = options.timeoutMs ?? 10_000
    const { fd } = openSocket(path, false)
    const msg = new Uint8Array(64)
    const fdsOut = new Int32Array(2)
    let n: number
    try {
      const hello = encodeHello()
      n = binding().cmio_emu_call(fd.fd, hello, 0, hello.byteLength, msg, 0, msg.byteLength, fdsOut, timeout)
    } catch (e) {
      fd.close()
      throw e
    }
    if (n < 0) {
      fd.close()
      throw CmioError.fromErrno(n === -Errno.ETIMEDOUT ? 'OpenError' : 'SetupError', n, 'cmio handshake')
    }
    const fds = Array.from(fdsOut)
      .filter((f) => f >= 0)
      .map((f) => new OwnedFd(f, 'received'))
    return finishHandshake(path, fd, msg, n, fds)
  }

  /** The same handshake without blocking the event loop (the host may run on this thread). */
  static async openAsync(path: string, options: EmulatedOptions = {}): Promise<EmulatedBackend> {
    options.signal?.throwIfAborted()
    const timeout = options.timeoutMs ?? 10_000
    const timer = AbortSignal.timeout(timeout)
    const signal = options.signal ? AbortSignal.any([options.signal, timer]) : timer
    let { fd, pending } = openSocket(path, true)
    while (pending) {
      // the host's backlog is full: AF_UNIX has no connect in progress, so try again shortly
      fd.close()
      try {
        await delay(5, signal)
      } catch (e) {
        if (timer.aborted && !options.signal?.aborted) {
          throw CmioError.fromErrno('OpenError', -Errno.ETIMEDOUT, 'connect', 'the host backlog stayed full')
        }
        throw e
      }
      ;({ fd, pending } = openSocket(path, true))
    }
    const w = new FdWatcher(fd)
    try {
      for (;;) {
        const r = sendMsg(fd, encodeHello())
        if (r >= 0) break
        if (r !== EAGAIN) throw CmioError.fromErrno('OpenError', r, 'sendmsg')
        await w.wait('writable', signal)
      }
      const msg = new Uint8Array(64)
      for (;;) {
        const r = recvMsg(fd, msg, { maxFds: 2 })
        if (r !== null) {
          w.close()
          return finishHandshake(path, fd, msg, r.truncated ? -1 : r.bytes, r.fds)
        }
        await w.wait('readable', signal)
      }
    } catch (e) {
      w.close()
      fd.close()
      if (e instanceof CmioError) throw e
      if (timer.aborted && !options.signal?.aborted) {
        throw CmioError.fromErrno('OpenError', -Errno.ETIMEDOUT, 'cmio handshake')
      }
      if ((e as { code?: string }).code === 'EMSGSIZE') throw CmioError.fromSystem('SetupError', e)
      throw e
    }
  }

  yieldSync(word: BigUint64Array): void {
    this.#check()
    const r = binding().cmio_emu_yield(this.#fd.fd, word)
    if (r < 0) throw CmioError.fromErrno('YieldError', r, 'cmio yield', 'emulated device')
  }

  async yieldAsync(word: BigUint64Array): Promise<void> {
    this.#check()
    const fd = this.#fd
    new DataView(this.#out.buffer).setBigUint64(0, word[0]!, true)
    let r = send(fd, this.#out)
    while (r === EAGAIN) {
      await this.#wait('writable')
      r = send(fd, this.#out)
    }
    if (r < 0) throw CmioError.fromErrno('YieldError', r === -Errno.EPIPE ? -Errno.ECONNRESET : r, 'send')
    for (;;) {
      const n = recv(fd, this.#in)
      if (n === EAGAIN) {
        await this.#wait('readable')
        continue
      }
      if (n === WORD_SIZE) {
        word[0] = new DataView(this.#in.buffer).getBigUint64(0, true)
        return
      }
      if (n < 0) throw CmioError.fromErrno('YieldError', n, 'recv')
      if (n === 0) throw CmioError.fromErrno('YieldError', -Errno.ECONNRESET, 'recv', 'the host closed the device')
      if (n === STATUS_SIZE) {
        const st = new DataView(this.#in.buffer).getUint32(0, true)
        throw CmioError.fromErrno('YieldError', -(st === 0 ? Errno.EIO : st), 'recv', 'the host ended the session')
      }
      throw CmioError.fromErrno('YieldError', -Errno.EPROTO, 'recv', `${n}-byte reply`)
    }
  }

  async #wait(ev: 'readable' | 'writable'): Promise<void> {
    this.#check()
    this.#watcher ??= new FdWatcher(this.#fd)
    try {
      await this.#watcher.wait(ev)
    } catch (e) {
      if (this.#closed) throw CmioError.fromErrno('YieldError', -Errno.EBADF, 'cmio yield', 'the device was closed')
      throw CmioError.fromSystem('YieldError', e)
    }
  }

  #check(): void {
    if (this.#closed) throw CmioError.fromErrno('YieldError', -Errno.EBADF, 'cmio yield', 'the device is closed')
  }

  /** Detaches the views, unmaps both buffers, closes the socket (the host frees its slot). Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#watcher?.close()
    this.#txRegion.unmap()
    this.#rxRegion.unmap()
    this.#fd.close()
  }
}
