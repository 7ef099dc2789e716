// nic.ts: NIC ports without the netmap module (`netmap:eth0`, `netmap:eth0-0`, `/R`, `/T`): one TX and one RX ring
// of the kernel's layout in a private region, fed by an AF_PACKET socket (copying, batched: sendmmsg/recvmmsg from
// @x/native). txsync transmits [hwcur, head) and frees the slots at once; rxsync returns [hwcur, head) and copies
// waiting frames into the free slots. Host rings (`^`, `*`) have no faithful user-space mapping: Unsupported.
import {
  bind,
  DatagramBatch,
  FdWatcher,
  ifNameToIndex,
  K as NK,
  type OwnedFd,
  packetSocket,
  recvMmsg,
  SendBatch,
  sendMmsg,
  setsockoptInt,
  sockaddrLl,
} from '@x/native'
import { RingView } from '@x/ring'
import { NetmapError } from './errors.js'
import { ifOffset, NETMAP_IF, pipeGeometry } from './layout.js'
import { formatPipeRegion } from './region.js'
import type { RingDriver } from './ring.js'
import { NR_RX_RINGS_ONLY, NR_TX_RINGS_ONLY, type PortSpec } from './spec.js'

const SOL_PACKET = 263
const PACKET_IGNORE_OUTGOING = 23

export class NicPort {
  readonly fd: number
  readonly memId = 0
  readonly nifOff: number
  readonly buffer: ArrayBuffer
  readonly niTxRings = 1
  readonly niRxRings = 1
  readonly niHostTxRings = 1
  readonly niHostRxRings = 1
  readonly txDriver: RingDriver
  readonly rxDriver: RingDriver
  readonly #sock: OwnedFd
  readonly #flags: number
  readonly #tx: RingView
  readonly #rx: RingView
  #watcher: FdWatcher | null = null
  #closed = false

  constructor(spec: PortSpec, flags: number, slots: number) {
    if (spec.mode !== 1 && !(spec.mode === 4 && spec.ringid === 0))
      throw new NetmapError(
        'UnsupportedPlatform',
        `${spec.spec}: without the netmap kernel module a NIC port has one ring pair (netmap:IF or netmap:IF-0); host rings need the module`,
      )
    let ifindex: number
    try {
      ifindex = ifNameToIndex(spec.port)
    } catch (e) {
      throw new NetmapError('BindFail', `${spec.spec}: no interface '${spec.port}' (${(e as Error).message})`, {
        cause: e,
      })
    }
    let sock: OwnedFd
    try {
      sock = packetSocket()
      bind(sock, sockaddrLl({ ifindex, protocol: NK('ETH_P_ALL') }))
      setsockoptInt(sock, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
      try {
        setsockoptInt(sock, 1, 33, 8 << 20) // SO_RCVBUFFORCE: room for bursts between rxsyncs
      } catch {
        setsockoptInt(sock, 1, 8, 8 << 20) // SO_RCVBUF, capped by net.core.rmem_max
      }
    } catch (e) {
      throw new NetmapError('BindFail', `${spec.spec}: AF_PACKET socket: ${(e as Error).message}`, { cause: e })
    }
    this.#sock = sock
    this.fd = sock.fd
    this.#flags = spec.flags | flags
    const g = pipeGeometry(1, slots)
    this.buffer = new ArrayBuffer(g.total)
    formatPipeRegion(this.buffer, g, spec.port, 'nic', process.pid)
    this.nifOff = g.ifOff + ifOffset(g, 0, -1)
    this.#tx = this.#view(0)!
    this.#rx = this.#view(2)!
    const n = slots
    const lim = n - 1
    const bufBase = this.#tx.byteOffset + this.#tx.bufOfs
    const u8 = new Uint8Array(this.buffer)
    // kring state (private: no other process sees this region)
    let txHwcur = 0
    let rxHwcur = 0
    let rxHwtail = 0
    const out = new SendBatch({ capacity: 64, bytes: 64 * 2048 })
    const inb = new DatagramBatch({ slots: 64, slotSize: 2048, addresses: false })
    const tx = this.#tx
    const rx = this.#rx
    const wait = (ev: 'readable' | 'writable') => (signal?: AbortSignal) => {
      this.#watcher ??= new FdWatcher(this.fd)
      return this.#watcher.wait(ev, signal)
    }
    this.txDriver = {
      sync: () => {
        const head = tx.head
        if (head > lim) throw new NetmapError('SyncError', `txsync prologue: head ${head} out of range`)
        let k = txHwcur
        while (k !== head) {
          const len = tx.len(k)
          if (!out.add(new Uint8Array(this.buffer, bufBase + tx.bufIdx(k) * tx.nrBufSize, len))) {
            this.#flush(out)
            continue
          }
          k = k === lim ? 0 : k + 1
        }
        this.#flush(out)
        txHwcur = head
        tx.tail = head === 0 ? lim : head - 1 // transmitted: every slot but one is free again
      },
      wait: wait('writable'),
      ready: () => false,
    }
    this.rxDriver = {
      sync: () => {
        const head = rx.head
        if (head > lim) throw new NetmapError('SyncError', `rxsync prologue: head ${head} out of range`)
        rxHwcur = head
        for (;;) {
          let room = rxHwcur - 1 - rxHwtail
          if (room < 0) room += n
          if (room === 0) break
          const got = recvMmsg(this.#sock, inb)
          if (got <= 0) break
          for (let i = 0; i < got && room > 0; i++, room--) {
            const len = Math.min(inb.meta[i * 3]!, rx.nrBufSize)
            u8.set(
              inb.buffer.subarray(i * inb.slotSize, i * inb.slotSize + len),
              bufBase + rx.bufIdx(rxHwtail) * rx.nrBufSize,
            )
            rx.setLen(rxHwtail, len)
            rx.setSlotFlags(rxHwtail, 0)
            rxHwtail = rxHwtail === lim ? 0 : rxHwtail + 1
          }
          if (got < inb.slots) break
        }
        rx.tail = rxHwtail
      },
      wait: wait('readable'),
      ready: () => false,
    }
  }

  #flush(out: SendBatch): void {
    while (out.count > 0) {
      const r = sendMmsg(this.#sock, out)
      if (r > 0) {
        out.consume(r)
        continue
      }
      out.clear()
      // -EAGAIN / -ENOBUFS: the qdisc is full; the frames are dropped, as a NIC under load would
      if (r === -11 || r === -105) break
      throw new NetmapError('Io', `sendmmsg failed: errno ${-r}`)
    }
  }

  #view(k: number): RingView | null {
    const ofs = Number(new DataView(this.buffer, this.nifOff + NETMAP_IF.ringOfs + 8 * k, 8).getBigInt64(0, true))
    return ofs === 0 ? null : new RingView(this.buffer, this.nifOff + ofs, { atomic: false })
  }

  ring(k: number): RingView | null {
    if (k === 0 && this.#flags & NR_RX_RINGS_ONLY) return null
    if (k === 2 && this.#flags & NR_TX_RINGS_ONLY) return null
    return this.#view(k)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#watcher?.close()
    this.#sock.close()
  }
}
