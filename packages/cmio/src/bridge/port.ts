// Frame ports: where a TAP bridge end reads and writes Ethernet frames. TapPort is a real TAP device (non-blocking
// fd, readiness from an FdWatcher); MemoryPort pairs carry frames between two ends in one process (tests, tour).
import { readFileSync } from 'node:fs'
import { FdWatcher, ioctlInt, K, negErrno, type OwnedFd, openTun, read, write } from '@x/native'
import { binding } from '../binding.js'

export interface FramePort {
  /**
   * Reads one pending frame into dst; its length, or 0 when none is pending. Never blocks. As a TAP read does, a
   * frame longer than dst is cut and its full length returned (so the caller can tell).
   */
  read(dst: Uint8Array): number
  /** Writes one frame; false when it was dropped (the device queue is full). */
  write(frame: Uint8Array): boolean
  /** Resolves when a frame may be readable, or when signal aborts (never rejects). */
  waitReadable(signal: AbortSignal): Promise<void>
  close(): void
}

export interface TapPortOptions {
  /**
   * Keep the 4-byte packet-information header (struct tun_pi) in front of every frame, as tapcmio does (its
   * tun-tap Iface::new never sets IFF_NO_PI). Default false: IFF_NO_PI, plain Ethernet frames. Both ends of a
   * bridge must agree.
   */
  packetInfo?: boolean
  /**
   * IFF_VNET_HDR with checksum and TSO offloads (TUNSETOFFLOAD): every frame starts with a 10-byte virtio_net_hdr
   * and may be a GSO super-frame of up to 64 KiB, so one entry carries what would be ~40 MTU frames. Both ends must
   * agree, and the interfaces need `gso_max_size` ≤ 65,000 so a super-frame fits the u16 entry length.
   */
  vnetHdr?: boolean
}

const { EAGAIN } = negErrno

export class TapPort implements FramePort {
  readonly name: string
  readonly #fd: OwnedFd
  readonly #watcher: FdWatcher
  /** Frames dropped on write (EAGAIN/ENOBUFS) and read errors other than EAGAIN. */
  dropped = 0
  errors = 0

  constructor(fd: OwnedFd, name: string) {
    this.#fd = fd
    this.name = name
    this.#watcher = new FdWatcher(fd)
  }

  /** Opens (creating if needed) TAP interface `name`, non-blocking and CLOEXEC. */
  static open(name: string, options: TapPortOptions = {}): TapPort {
    const t = openTun({ name, mode: 'tap', noPacketInfo: !options.packetInfo, vnetHdr: options.vnetHdr })
    if (options.vnetHdr) {
      const c = binding().constants
      try {
        ioctlInt(
          t.fd,
          K('TUNSETOFFLOAD'),
          c.TUN_F_CSUM | c.TUN_F_TSO4 | c.TUN_F_TSO6 | c.TUN_F_TSO_ECN,
          'TUNSETOFFLOAD',
        )
      } catch (e) {
        t.fd.close()
        throw e
      }
    }
    if (options.vnetHdr) warnGso(t.name)
    return new TapPort(t.fd, t.name)
  }

  read(dst: Uint8Array): number {
    const n = read(this.#fd, dst)
    if (n >= 0) return n
    if (n !== EAGAIN) this.errors++
    return 0
  }

  write(frame: Uint8Array): boolean {
    const n = write(this.#fd, frame)
    if (n >= 0) return true
    this.dropped++
    return false
  }

  async waitReadable(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return
    try {
      await this.#watcher.wait('readable', signal)
    } catch {}
  }

  close(): void {
    this.#watcher.close()
    this.#fd.close()
  }
}

/** GSO super-frames must fit a u16 entry with their virtio_net_hdr: warn when the interface allows bigger ones. */
function warnGso(name: string): void {
  let gso = 0
  try {
    gso = Number(readFileSync(`/sys/class/net/${name}/gso_max_size`, 'utf8').trim())
  } catch {
    return
  }
  if (gso > 65000) {
    process.emitWarning(
      `${name}: gso_max_size is ${gso}; with --vnet-hdr set it to 65000 or less (ip link set dev ${name} gso_max_size 65000), or super-frames over 65,535 bytes are dropped`,
      { code: 'X_CMIO_GSO' },
    )
  }
}

/** One end of an in-memory frame link. */
export class MemoryPort implements FramePort {
  readonly #inbox: Uint8Array[] = []
  #peer: MemoryPort | null = null
  #waiters: (() => void)[] = []
  #closed = false
  /** Frames this end has written. */
  readonly sent: Uint8Array[] = []

  /** Two connected ends: a frame written to one is read from the other. */
  static pair(): [MemoryPort, MemoryPort] {
    const a = new MemoryPort()
    const b = new MemoryPort()
    a.#peer = b
    b.#peer = a
    return [a, b]
  }

  /** Like a TAP read: a frame longer than dst is cut to fit, and its full length is returned. */
  read(dst: Uint8Array): number {
    const f = this.#inbox.shift()
    if (f === undefined) return 0
    dst.set(f.byteLength > dst.byteLength ? f.subarray(0, dst.byteLength) : f)
    return f.byteLength
  }

  write(frame: Uint8Array): boolean {
    const p = this.#peer
    if (this.#closed || p === null || p.#closed) return false
    const copy = frame.slice()
    this.sent.push(copy)
    p.#inbox.push(copy)
    for (const w of p.#waiters.splice(0)) w()
    return true
  }

  /** Frames waiting to be read at this end. */
  get pending(): number {
    return this.#inbox.length
  }

  waitReadable(signal: AbortSignal): Promise<void> {
    if (this.#inbox.length > 0 || signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done)
        const i = this.#waiters.indexOf(done)
        if (i >= 0) this.#waiters.splice(i, 1)
        resolve()
      }
      this.#waiters.push(done)
      signal.addEventListener('abort', done, { once: true })
    })
  }

  close(): void {
    this.#closed = true
    for (const w of this.#waiters.splice(0)) w()
  }
}
