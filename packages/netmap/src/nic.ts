// nic.ts: NIC ports without the netmap module (`netmap:eth0`, `netmap:eth0-N`, `/R`, `/T`, and host rings `^`, `^0`
// on TAP devices; `*` on a TAP is refused): rings of the kernel's layout in a private region. This file opens the
// port (checks, geometry, region, one AF_PACKET socket per queue, the tap fd); the rings' syncs are in nic-ring.ts
// (NIC ring pairs) and host-ring.ts (the host ring pair), their shared pieces in nic-shared.ts.
//
// NIC rings: one ring pair per queue of the interface (/sys/class/net/IF/queues/{rx,tx}-*), each pair fed by its own
// AF_PACKET socket (copying, batched: sendmmsg/recvmmsg from @x/native). With more than one queue each socket carries
// an eBPF socket filter on skb->queue_mapping (qfilter.ts), so RX ring N sees exactly the frames of RX queue N. TX
// queue selection stays the kernel's (XPS / flow hash): AF_PACKET has no per-socket TX queue.
//
// Host rings: on a TAP device the tap fd is the stack side of the interface. Other interfaces: Unsupported.
import { readFileSync } from 'node:fs'
import {
  bind,
  ifNameToIndex,
  ifQueues,
  K as NK,
  type OwnedFd,
  openTun,
  packetSocket,
  setsockoptInt,
  sockaddrLl,
} from '@x/native'
import { RingView } from '@x/ring'
import { NetmapError } from './errors.js'
import { hostRing } from './host-ring.js'
import { type NicGeometry, nicGeometry, nicRingSlot } from './layout.js'
import { nicRing } from './nic-ring.js'
import { gatherBytes, type NicStats, Pollable, type RingHost, rxBatchBytes, TAP_READ_BYTES } from './nic-shared.js'
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

/** The interface's MTU (sysfs), or 1500 when sysfs does not show it. */
export function interfaceMtu(ifname: string): number {
  try {
    const v = Number.parseInt(readFileSync(`/sys/class/net/${ifname}/mtu`, 'utf8').trim(), 10)
    return Number.isInteger(v) && v > 0 ? v : 1500
  } catch {
    return 1500
  }
}

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
  /** TX errors and RX truncations (see NicStats). */
  readonly stats: NicStats = { txErrors: 0, txLastErrno: 0, rxTruncated: 0 }
  readonly #flags: number
  readonly #drivers = new Map<number, RingDriver>()
  readonly #owned: Closable[] = []
  #scratch = 0
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
      if (mode === NR_REG_NIC_SW)
        throw new NetmapError(
          'UnsupportedPlatform',
          `${spec.spec}: NIC + host rings ('*') on a TAP need the netmap kernel module: without it the NIC rings (AF_PACKET on '${spec.port}') and the host rings (the tap fd) see the same frames — the NIC RX ring a copy of every host TX frame, the host RX ring every NIC TX frame — where the kernel keeps those sets disjoint, so a NIC↔host forwarder would loop frames; open '^' (host rings) and the NIC rings separately if that is what you mean`,
        )
      const FEATURES = NK('IFF_VNET_HDR') | NK('IFF_NO_PI')
      if ((tun & FEATURES) !== NK('IFF_NO_PI'))
        throw new NetmapError(
          'BindFail',
          `${spec.spec}: TAP '${spec.port}' has tun_flags 0x${tun.toString(16)} (${(tun & NK('IFF_VNET_HDR')) !== 0 ? 'IFF_VNET_HDR: its frames carry virtio-net headers, as a VM backend uses' : 'no IFF_NO_PI: its frames carry a packet-information header'}); host rings attach only to taps with IFF_NO_PI and without IFF_VNET_HDR (attaching with other flags would change the tap's flags for its other users too)`,
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
    const rings = !nic ? [] : mode === NR_REG_ONE_NIC ? [spec.ringid] : Array.from({ length: n }, (_, i) => i)
    const bound = new Set<number>()
    for (const i of host ? [...rings, n] : rings) {
      if (wantTx) bound.add(nicRingSlot({ nRings: n }, true, i))
      if (wantRx) bound.add(nicRingSlot({ nRings: n }, false, i))
    }
    // buffers for the bound rings only (the kernel makes rings only for krings in use); ring_ofs stays the kernel's
    const g = nicGeometry(n, host ? 1 : 0, slots, undefined, bound.size)
    this.geometry = g
    // past memsize (nr_memsize stays the kernel's): per-ring scratch, so every copy is a copyWithin in one buffer
    const mtu = interfaceMtu(spec.port)
    const nicRings = rings.length
    const scratch =
      (wantTx ? (nicRings + (host ? 1 : 0)) * gatherBytes(g.bufSize) : 0) +
      (wantRx ? nicRings * rxBatchBytes(g.bufSize, mtu) + (host ? TAP_READ_BYTES : 0) : 0)
    this.buffer = new ArrayBuffer(g.memsize + scratch)
    this.#scratch = g.memsize
    formatNicRegion(this.buffer, g, spec.port, bound)
    // the port's side of a ring, for the ring pairs' builders
    const rh: RingHost = {
      geometry: g,
      buffer: this.buffer,
      stats: this.stats,
      view: (k) => this.#view(k),
      take: (bytes) => this.#take(bytes),
      setDriver: (k, d) => this.#drivers.set(k, d),
    }
    const fds = new Map<number | 'host', number>()
    try {
      const base = n > 1 ? queueBase(spec.port) : 0
      for (const i of rings) {
        const p = this.#own(new Pollable(openQueueSocket(spec, ifindex, i, n, base, wantRx)))
        fds.set(i, p.fd.fd)
        nicRing(rh, p, i, mtu)
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
        hostRing(rh, p)
      }
    } catch (e) {
      this.close()
      throw e
    }
    this.fds = fds
    this.fd = rings.length > 0 ? fds.get(rings[0]!)! : fds.get('host')!
  }

  /** `bytes` of scratch past memsize (sized in the constructor). */
  #take(bytes: number): number {
    const o = this.#scratch
    this.#scratch += bytes
    if (this.#scratch > this.buffer.byteLength) throw new RangeError('NicPort: scratch area overrun')
    return o
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
    setsockoptInt(sock, NK('SOL_PACKET'), NK('PACKET_IGNORE_OUTGOING'), 1)
    if (rx) {
      try {
        setsockoptInt(sock, NK('SOL_SOCKET'), NK('SO_RCVBUFFORCE'), 8 << 20) // room for bursts between rxsyncs
      } catch {
        setsockoptInt(sock, NK('SOL_SOCKET'), NK('SO_RCVBUF'), 8 << 20) // capped by net.core.rmem_max
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
