// nic.ts: NIC ports without the netmap module (`netmap:eth0`, `netmap:eth0-N`, `/R`, `/T`, and host rings `^`, `^0`,
// `*` on TAP devices): rings of the kernel's layout in a private region.
//
// NIC rings: one ring pair per queue of the interface (/sys/class/net/IF/queues/{rx,tx}-*), each pair fed by its own
// AF_PACKET socket (copying, batched: sendmmsg/recvmmsg from @x/native). With more than one queue each socket carries
// an eBPF socket filter on skb->queue_mapping (qfilter.ts), so RX ring N sees exactly the frames of RX queue N.
// txsync transmits [hwcur, head) and frees the slots at once; rxsync returns [hwcur, head) and copies waiting frames
// into the free slots. TX queue selection stays the kernel's (XPS / flow hash): AF_PACKET has no per-socket TX queue.
//
// Host rings: on a TAP device the tap fd is the stack side of the interface. Host TX ring → write(2) on the tap fd
// (the kernel receives the frame on tapX, as if from the wire); host RX ring ← read(2) from the tap fd (what the
// stack transmits out of tapX). One syscall per packet: a tap fd has no batch call. Other interfaces: Unsupported.
import { readFileSync } from 'node:fs'
import {
  bind,
  DatagramBatch,
  FdWatcher,
  ifNameToIndex,
  ifQueues,
  K as NK,
  type OwnedFd,
  openTun,
  packetSocket,
  read,
  recvMmsg,
  SendBatch,
  sendMmsg,
  setsockoptInt,
  sockaddrLl,
  write,
} from '@x/native'
import { RingView } from '@x/ring'
import { NetmapError } from './errors.js'
import { type NicGeometry, nicGeometry, nicRingSlot } from './layout.js'
import { loadQueueFilter, queueBase, SO_ATTACH_BPF } from './qfilter.js'
import { formatNicRegion } from './region.js'
import type { RingDriver } from './ring.js'
import {
  NR_REG_ALL_NIC,
  NR_REG_NIC_SW,
  NR_REG_ONE_NIC,
  NR_REG_ONE_SW,
  NR_REG_SW,
  NR_RX_RINGS_ONLY,
  NR_TX_RINGS_ONLY,
  type PortSpec,
} from './spec.js'

const SOL_PACKET = 263
const PACKET_IGNORE_OUTGOING = 23
const EAGAIN = 11
const ENOBUFS = 105
const EIO = 5
const EINVAL = 22
const ENOMEM = 12

/** Queues of an interface: max(rx, tx) as sysfs counts them (1 if sysfs does not show it). */
export function queueCount(ifname: string): number {
  const q = ifQueues(ifname)
  return Math.max(q.rx, q.tx)
}

/** tun_flags of a TUN/TAP interface (IFF_TAP 0x2, IFF_MULTI_QUEUE 0x100, …), or null for any other interface. */
export function tunFlags(ifname: string): number | null {
  try {
    return Number.parseInt(readFileSync(`/sys/class/net/${ifname}/tun_flags`, 'utf8').trim(), 16)
  } catch {
    return null
  }
}

interface Closable {
  close(): void
}

/** One fd with a lazily made uv_poll watcher: readiness for the rings it feeds. */
class Pollable {
  readonly fd: OwnedFd
  #watcher: FdWatcher | null = null

  constructor(fd: OwnedFd) {
    this.fd = fd
  }

  wait(ev: 'readable' | 'writable', signal?: AbortSignal): Promise<void> {
    this.#watcher ??= new FdWatcher(this.fd)
    return this.#watcher.wait(ev, signal)
  }

  close(): void {
    this.#watcher?.close()
    this.#watcher = null
    this.fd.close()
  }
}

export class NicPort {
  /** The pollable fd: the socket of the first bound NIC ring (host-only ports: the tap fd). */
  readonly fd: number
  readonly memId = 0
  readonly nifOff = 0
  readonly buffer: ArrayBuffer
  readonly niTxRings: number
  readonly niRxRings: number
  readonly niHostTxRings = 1
  readonly niHostRxRings = 1
  readonly geometry: NicGeometry
  /** The fds per NIC ring pair (index = ring) and the tap fd ('host'), for tests and diagnostics. */
  readonly fds: ReadonlyMap<number | 'host', number>
  readonly #flags: number
  readonly #drivers = new Map<number, RingDriver>()
  readonly #owned: Closable[] = []
  #closed = false

  constructor(spec: PortSpec, flags: number, slots: number) {
    const mode = spec.mode
    const host = mode === NR_REG_SW || mode === NR_REG_ONE_SW || mode === NR_REG_NIC_SW
    const nic = mode === NR_REG_ALL_NIC || mode === NR_REG_ONE_NIC || mode === NR_REG_NIC_SW
    if (!host && !nic)
      throw new NetmapError('UnsupportedPlatform', `${spec.spec}: this port mode needs the netmap kernel module`)
    let ifindex: number
    try {
      ifindex = ifNameToIndex(spec.port)
    } catch (e) {
      throw new NetmapError('BindFail', `${spec.spec}: no interface '${spec.port}' (${(e as Error).message})`, {
        cause: e,
      })
    }
    let tun: number | null = null
    if (host) {
      tun = tunFlags(spec.port)
      if (tun === null || (tun & NK('IFF_TAP')) === 0)
        throw new NetmapError(
          'UnsupportedPlatform',
          `${spec.spec}: host rings need the netmap kernel module ('${spec.port}' is ${tun === null ? 'not a TUN/TAP device' : 'a TUN device, not a TAP'}); without it host rings work on TAP devices only (the tap fd is the stack side)`,
        )
      if (mode === NR_REG_ONE_SW && spec.ringid !== 0)
        throw new NetmapError('BindFail', `${spec.spec}: no such host ring ${spec.ringid} ('${spec.port}' has 1)`)
    }
    const n = queueCount(spec.port)
    if (mode === NR_REG_ONE_NIC && spec.ringid >= n)
      throw new NetmapError(
        'BindFail',
        `${spec.spec}: no such ring ${spec.ringid} ('${spec.port}' has ${n} ring pair${n === 1 ? '' : 's'})`,
      )
    this.niTxRings = n
    this.niRxRings = n
    this.#flags = spec.flags | flags
    const wantTx = (this.#flags & NR_RX_RINGS_ONLY) === 0
    const wantRx = (this.#flags & NR_TX_RINGS_ONLY) === 0
    const g = nicGeometry(n, host ? 1 : 0, slots)
    this.geometry = g
    const rings = !nic ? [] : mode === NR_REG_ONE_NIC ? [spec.ringid] : Array.from({ length: n }, (_, i) => i)
    const bound = new Set<number>()
    for (const i of host ? [...rings, n] : rings) {
      if (wantTx) bound.add(nicRingSlot(g, true, i))
      if (wantRx) bound.add(nicRingSlot(g, false, i))
    }
    this.buffer = new ArrayBuffer(g.memsize)
    formatNicRegion(this.buffer, g, spec.port, bound)
    const fds = new Map<number | 'host', number>()
    try {
      const base = n > 1 ? queueBase(spec.port) : 0
      for (const i of rings) {
        const p = this.#own(new Pollable(openQueueSocket(spec, ifindex, i, n, base, wantRx)))
        fds.set(i, p.fd.fd)
        this.#nicRing(p, i)
      }
      if (host) {
        let dev: { fd: OwnedFd }
        try {
          dev = openTun({ name: spec.port, mode: 'tap', multiQueue: (tun! & NK('IFF_MULTI_QUEUE')) !== 0 })
        } catch (e) {
          throw new NetmapError(
            'BindFail',
            `${spec.spec}: cannot attach to TAP '${spec.port}' (${(e as Error).message}; a tap held by another process must be multi-queue to share it)`,
            { cause: e },
          )
        }
        const p = this.#own(new Pollable(dev.fd))
        fds.set('host', p.fd.fd)
        this.#hostRing(p)
      }
    } catch (e) {
      this.close()
      throw e
    }
    this.fds = fds
    this.fd = rings.length > 0 ? fds.get(rings[0]!)! : fds.get('host')!
  }

  #own<T extends Closable>(c: T): T {
    this.#owned.push(c)
    return c
  }

  /** A view of ring_ofs position k, or null when this fd did not bind it. */
  #view(k: number): RingView | null {
    const ofs = Number(new DataView(this.buffer).getBigInt64(56 + 8 * k, true))
    return ofs === 0 ? null : new RingView(this.buffer, ofs, { atomic: false })
  }

  /** NIC ring pair i over its AF_PACKET socket. */
  #nicRing(p: Pollable, i: number): void {
    const g = this.geometry
    const sock = p.fd
    const tx = this.#view(nicRingSlot(g, true, i))
    const rx = this.#view(nicRingSlot(g, false, i))
    const u8 = new Uint8Array(this.buffer)
    const n = g.numSlots
    const lim = n - 1
    if (tx) {
      const out = new SendBatch({ capacity: 64, bytes: 64 * g.bufSize })
      const bufBase = tx.byteOffset + tx.bufOfs
      let hwcur = 0
      this.#drivers.set(nicRingSlot(g, true, i), {
        sync: () => {
          const head = tx.head
          if (head > lim) throw new NetmapError('SyncError', `txsync prologue: head ${head} out of range`)
          let k = hwcur
          while (k !== head) {
            const len = tx.len(k)
            if (!out.add(new Uint8Array(this.buffer, bufBase + tx.bufIdx(k) * tx.nrBufSize, len))) {
              flush(sock, out)
              continue
            }
            k = k === lim ? 0 : k + 1
          }
          flush(sock, out)
          hwcur = head
          tx.tail = head === 0 ? lim : head - 1 // transmitted: every slot but one is free again
        },
        wait: (signal) => p.wait('writable', signal),
        ready: () => false,
      })
    }
    if (rx) {
      const inb = new DatagramBatch({ slots: 64, slotSize: g.bufSize, addresses: false })
      const bufBase = rx.byteOffset + rx.bufOfs
      let hwtail = 0
      this.#drivers.set(nicRingSlot(g, false, i), {
        sync: () => {
          const head = rx.head
          if (head > lim) throw new NetmapError('SyncError', `rxsync prologue: head ${head} out of range`)
          const hwcur = head
          for (;;) {
            let room = hwcur - 1 - hwtail
            if (room < 0) room += n
            if (room === 0) break
            const got = recvMmsg(sock, inb, 0, room) // never read what the ring has no slot for
            if (got <= 0) break
            for (let j = 0; j < got && room > 0; j++, room--) {
              const len = Math.min(inb.meta[j * 3]!, rx.nrBufSize)
              u8.set(
                inb.buffer.subarray(j * inb.slotSize, j * inb.slotSize + len),
                bufBase + rx.bufIdx(hwtail) * rx.nrBufSize,
              )
              rx.setLen(hwtail, len)
              rx.setSlotFlags(hwtail, 0)
              hwtail = hwtail === lim ? 0 : hwtail + 1
            }
            if (got < inb.slots) break
          }
          rx.tail = hwtail
        },
        wait: (signal) => p.wait('readable', signal),
        ready: () => false,
      })
    }
  }

  /** The host ring pair over the tap fd: TX = write(2) per frame into the stack, RX = read(2) per frame from it. */
  #hostRing(p: Pollable): void {
    const g = this.geometry
    const tap = p.fd
    const tx = this.#view(nicRingSlot(g, true, g.nRings))
    const rx = this.#view(nicRingSlot(g, false, g.nRings))
    const u8 = new Uint8Array(this.buffer)
    const n = g.numSlots
    const lim = n - 1
    if (tx) {
      const bufBase = tx.byteOffset + tx.bufOfs
      let hwcur = 0
      this.#drivers.set(nicRingSlot(g, true, g.nRings), {
        sync: () => {
          const head = tx.head
          if (head > lim) throw new NetmapError('SyncError', `txsync prologue: head ${head} out of range`)
          for (let k = hwcur; k !== head; k = k === lim ? 0 : k + 1) {
            const off = bufBase + tx.bufIdx(k) * tx.nrBufSize
            const r = write(tap, u8.subarray(off, off + tx.len(k)))
            // a full or down tap, or a runt frame: dropped, as the stack would drop it
            if (r < 0 && r !== -EAGAIN && r !== -ENOBUFS && r !== -EIO && r !== -EINVAL && r !== -ENOMEM)
              throw new NetmapError('Io', `write to tap failed: errno ${-r}`)
          }
          hwcur = head
          tx.tail = head === 0 ? lim : head - 1
        },
        wait: (signal) => p.wait('writable', signal),
        ready: () => false,
      })
    }
    if (rx) {
      const bufBase = rx.byteOffset + rx.bufOfs
      let hwtail = 0
      this.#drivers.set(nicRingSlot(g, false, g.nRings), {
        sync: () => {
          const head = rx.head
          if (head > lim) throw new NetmapError('SyncError', `rxsync prologue: head ${head} out of range`)
          let room = head - 1 - hwtail
          if (room < 0) room += n
          for (; room > 0; room--) {
            const off = bufBase + rx.bufIdx(hwtail) * rx.nrBufSize
            const r = read(tap, u8.subarray(off, off + rx.nrBufSize))
            if (r <= 0) {
              if (r === 0 || r === -EAGAIN) break
              throw new NetmapError('Io', `read from tap failed: errno ${-r}`)
            }
            rx.setLen(hwtail, r)
            rx.setSlotFlags(hwtail, 0)
            hwtail = hwtail === lim ? 0 : hwtail + 1
          }
          rx.tail = hwtail
        },
        wait: (signal) => p.wait('readable', signal),
        ready: () => false,
      })
    }
  }

  /** The ring at ring_ofs position k (NIC TX i = i, host TX = n, NIC RX i = n + 1 + i, host RX = 2n + 1). */
  ring(k: number): RingView | null {
    return this.#drivers.has(k) ? this.#view(k) : null
  }

  /** The sync/wait of the ring at ring_ofs position k. */
  driver(k: number): RingDriver {
    const d = this.#drivers.get(k)
    if (!d) throw new NetmapError('InvalidRingIndex', `ring ${k} is not bound to this fd`)
    return d
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const c of this.#owned.splice(0)) c.close()
  }
}

/** An AF_PACKET socket on ifindex for ring pair i of n: the queue filter goes on before bind, so no stray frame. */
function openQueueSocket(spec: PortSpec, ifindex: number, i: number, n: number, base: 0 | 1, rx: boolean): OwnedFd {
  let sock: OwnedFd | null = null
  try {
    sock = packetSocket({ protocol: 0 }) // protocol 0: receives nothing until bind names ETH_P_ALL
    if (n > 1 && rx) {
      let prog: OwnedFd
      try {
        prog = loadQueueFilter(i, n, base)
      } catch (e) {
        throw new NetmapError(
          'BindFail',
          `${spec.spec}: loading the RX queue filter for ring ${i} failed (${(e as Error).message}); multi-queue NIC ports need CAP_BPF (or CAP_SYS_ADMIN)`,
          { cause: e },
        )
      }
      try {
        setsockoptInt(sock, NK('SOL_SOCKET'), SO_ATTACH_BPF, prog.fd)
      } finally {
        prog.close()
      }
    }
    setsockoptInt(sock, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    if (rx) {
      try {
        setsockoptInt(sock, NK('SOL_SOCKET'), 33, 8 << 20) // SO_RCVBUFFORCE: room for bursts between rxsyncs
      } catch {
        setsockoptInt(sock, NK('SOL_SOCKET'), 8, 8 << 20) // SO_RCVBUF, capped by net.core.rmem_max
      }
    }
    // TX-only (/T) sockets bind protocol 0 and receive nothing
    bind(sock, sockaddrLl({ ifindex, protocol: rx ? NK('ETH_P_ALL') : 0 }))
    return sock
  } catch (e) {
    sock?.close()
    if (e instanceof NetmapError) throw e
    throw new NetmapError('BindFail', `${spec.spec}: AF_PACKET socket: ${(e as Error).message}`, { cause: e })
  }
}

function flush(sock: OwnedFd, out: SendBatch): void {
  while (out.count > 0) {
    const r = sendMmsg(sock, out)
    if (r > 0) {
      out.consume(r)
      continue
    }
    out.clear()
    // -EAGAIN / -ENOBUFS: the qdisc is full; the frames are dropped, as a NIC under load would
    if (r === -EAGAIN || r === -ENOBUFS) break
    throw new NetmapError('Io', `sendmmsg failed: errno ${-r}`)
  }
}
