// native.ts: the native netmap backend — /dev/netmap, NIOCCTRL register (API 14), one mmap per mem_id per process
// (refcounted), NIOC[TR]XSYNC once per batch, uv_poll readiness. Only used when /dev/netmap opens.
import { closeSync, existsSync } from 'node:fs'
import { FdWatcher, type MappedRegion, mmap } from '@x/native'
import { RingView } from '@x/ring'
import { binding } from './binding.js'
import { NetmapError } from './errors.js'
import { NETMAP_IF } from './layout.js'
import type { RingDriver } from './ring.js'
import type { PortSpec } from './spec.js'

export interface NativeProbe {
  readonly ok: boolean
  readonly reason: string
}

/** Can /dev/netmap be used? (ENOENT: no module; EACCES: no permission.) */
export function probeNative(): NativeProbe {
  if (!existsSync('/dev/netmap')) return { ok: false, reason: '/dev/netmap is absent (no netmap kernel module)' }
  let fd = -1
  try {
    fd = binding.nm_open()
  } catch (e) {
    return { ok: false, reason: `/dev/netmap does not open: ${(e as Error).message}` }
  } finally {
    if (fd >= 0) closeSync(fd)
  }
  return { ok: true, reason: '/dev/netmap opens' }
}

const maps = new Map<number, { map: MappedRegion; refs: number }>()

export interface NativeOptions {
  txRings: number
  rxRings: number
  txSlots: number
  rxSlots: number
  flags: number
  extraBufs: number
}

export class NativePort {
  readonly fd: number
  readonly memId: number
  readonly nifOff: number
  readonly buffer: ArrayBuffer
  readonly niTxRings: number
  readonly niRxRings: number
  readonly niHostTxRings: number
  readonly niHostRxRings: number
  readonly txDriver: RingDriver
  readonly rxDriver: RingDriver
  #watcher: FdWatcher | null = null
  #closed = false

  constructor(spec: PortSpec, o: NativeOptions) {
    let fd: number
    try {
      fd = binding.nm_open()
    } catch (e) {
      throw new NetmapError(
        'UnsupportedPlatform',
        `native netmap needs the netmap kernel module: ${(e as Error).message}`,
        {
          cause: e,
        },
      )
    }
    this.fd = fd
    try {
      const r = binding.nioc_register(
        fd,
        spec.name,
        spec.mode,
        spec.ringid,
        spec.flags | o.flags,
        spec.memId,
        o.txRings,
        o.rxRings,
        o.txSlots,
        o.rxSlots,
        o.extraBufs,
      )
      this.memId = r.memId
      let m = maps.get(r.memId)
      if (!m) {
        m = { map: mmap(fd, r.memsize), refs: 0 }
        maps.set(r.memId, m)
      }
      m.refs++
      this.buffer = m.map.buffer
      this.nifOff = r.offset
    } catch (e) {
      closeSync(fd)
      throw new NetmapError('BindFail', `${spec.spec}: ${(e as Error).message}`, { cause: e })
    }
    const dv = new DataView(this.buffer, this.nifOff, NETMAP_IF.ringOfs)
    this.niTxRings = dv.getUint32(NETMAP_IF.niTxRings, true)
    this.niRxRings = dv.getUint32(NETMAP_IF.niRxRings, true)
    this.niHostTxRings = dv.getUint32(NETMAP_IF.niHostTxRings, true)
    this.niHostRxRings = dv.getUint32(NETMAP_IF.niHostRxRings, true)
    const wait = (ev: 'readable' | 'writable') => (signal?: AbortSignal) => {
      this.#watcher ??= new FdWatcher(this.fd)
      return this.#watcher.wait(ev, signal)
    }
    this.txDriver = {
      sync: () => this.#check(binding.nioc_txsync(this.fd), 'NIOCTXSYNC'),
      wait: wait('writable'),
      ready: () => false,
    }
    this.rxDriver = {
      sync: () => this.#check(binding.nioc_rxsync(this.fd), 'NIOCRXSYNC'),
      wait: wait('readable'),
      ready: () => false,
    }
  }

  #check(r: number, what: string): void {
    if (r < 0) throw new NetmapError('Io', `ioctl(${what}) failed: errno ${-r}`)
  }

  /** ring_ofs[k] (0 = not bound to this fd) → a view, or null. */
  ring(k: number): RingView | null {
    const ofs = Number(new DataView(this.buffer, this.nifOff + NETMAP_IF.ringOfs + 8 * k, 8).getBigInt64(0, true))
    if (ofs === 0) return null
    return new RingView(this.buffer, this.nifOff + ofs, { atomic: false })
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#watcher?.close()
    const m = maps.get(this.memId)
    if (m && --m.refs === 0) {
      m.map.unmap()
      maps.delete(this.memId)
    }
    closeSync(this.fd)
  }
}
