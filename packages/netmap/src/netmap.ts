// netmap.ts: NetmapBuilder(spec) → build() → Netmap, choosing the backend from the spec: native netmap when
// /dev/netmap opens, else shared-memory pipes for `netmap:NAME{ID` / `netmap:NAME}ID`.
import { NetmapError } from './errors.js'
import { NM_PIPE_MAXRINGS } from './layout.js'
import { NativePort, probeNative } from './native.js'
import { NicPort } from './nic.js'
import type { NicStats } from './nic-shared.js'
import { type RingDriver, RxRing, TxRing } from './ring.js'
import { type InheritedPipe, ShmEndpoint } from './shm.js'
import {
  NR_EXCLUSIVE,
  NR_REG_NIC_SW,
  NR_REG_ONE_NIC,
  NR_REG_ONE_SW,
  NR_REG_SW,
  type PortSpec,
  parseSpec,
} from './spec.js'

export type Backend = 'auto' | 'native' | 'shm' | 'nic'

export class NetmapBuilder {
  readonly spec: PortSpec
  #tx = 0
  #rx = 0
  #slots = 0
  #flags = 0
  #extraBufs = 0
  #backend: Backend = 'auto'
  #shared: SharedArrayBuffer | undefined
  #inherited: InheritedPipe | undefined
  #dir: string | undefined

  constructor(spec: string) {
    this.spec = parseSpec(spec)
  }

  static new(spec: string): NetmapBuilder {
    return new NetmapBuilder(spec)
  }

  /** nr_tx_rings: for a pipe the open that creates it, the number of ring pairs; for a NIC a hint. */
  numTxRings(n: number): this {
    this.#tx = checkCount('numTxRings', n)
    return this
  }

  numRxRings(n: number): this {
    this.#rx = checkCount('numRxRings', n)
    return this
  }

  /** Slots per ring (pipes the open creates; default 1024). */
  numSlots(n: number): this {
    this.#slots = checkCount('numSlots', n)
    return this
  }

  /** Extra nr_flags (NR_* from this package, ORed into the spec's; NR_NO_TX_POLL is 0x20000). */
  flags(f: number): this {
    if (!Number.isInteger(f) || f < 0) throw new NetmapError('BindFail', `flags must be a non-negative integer`)
    this.#flags = f
    return this
  }

  /** nr_extra_bufs (native only). */
  extraBufs(n: number): this {
    this.#extraBufs = n
    return this
  }

  /** Force a backend ('auto': native if /dev/netmap opens, else shm for pipes). */
  backend(b: Backend): this {
    this.#backend = b
    return this
  }

  /** Open the pipe in this SharedArrayBuffer (from createSharedPipe) instead of a /dev/shm file. */
  sharedMemory(sab: SharedArrayBuffer): this {
    this.#shared = sab
    return this
  }

  /**
   * Open the pipe in an inherited memfd region with eventfd doorbells (PipeMemfd; in a child, the fd numbers it got
   * in stdio). The fds stay the caller's: close() does not close them.
   */
  inherited(fds: InheritedPipe): this {
    this.#inherited = fds
    return this
  }

  /** Directory of the region files (default /dev/shm, or X_NETMAP_SHM_DIR). */
  shmDir(dir: string): this {
    this.#dir = dir
    return this
  }

  build(): Netmap {
    const s = this.spec
    if (s.subsystem === 'vale')
      throw new NetmapError('UnsupportedPlatform', `${s.spec}: VALE ports need the netmap kernel module`)
    const conf = s.options.conf ?? {}
    const rings = this.#tx || this.#rx || num(conf.tx_rings ?? conf.rings) || 1
    const rxRings = this.#rx || this.#tx || num(conf.rx_rings ?? conf.rings) || rings
    const slots = this.#slots || num(conf.tx_slots ?? conf.slots) || 1024
    const wantNative =
      this.#backend === 'native' ||
      (this.#backend === 'auto' && !this.#shared && !this.#inherited && (!s.pipe || probeNative().ok))
    if (wantNative) {
      if (!s.pipe && !probeNative().ok) {
        if (this.#backend === 'native')
          throw new NetmapError(
            'UnsupportedPlatform',
            `${s.spec}: needs the netmap kernel module (${probeNative().reason})`,
          )
        return new Netmap(s, { kind: 'nic', port: new NicPort(s, this.#flags, this.#slots || 1024) })
      }
      const port = new NativePort(s, {
        txRings: this.#tx,
        rxRings: this.#rx,
        txSlots: this.#slots,
        rxSlots: this.#slots,
        flags: this.#flags,
        extraBufs: this.#extraBufs,
      })
      return new Netmap(s, { kind: 'native', port })
    }
    if (this.#backend === 'nic' && !s.pipe)
      return new Netmap(s, { kind: 'nic', port: new NicPort(s, this.#flags, this.#slots || 1024) })
    if (!s.pipe)
      throw new NetmapError(
        'UnsupportedPlatform',
        `${s.spec}: the shared-memory backend serves pipes only (NAME{ID or NAME}ID); NIC and host rings need the netmap kernel module`,
      )
    if (rings !== rxRings)
      throw new NetmapError(
        'BindFail',
        `${s.spec}: the shm backend makes symmetric pipes (tx rings ${rings} ≠ rx rings ${rxRings})`,
      )
    const ep = ShmEndpoint.open({
      parent: s.pipe.parent,
      id: s.pipe.id,
      endpoint: s.pipe.role === 'master' ? 0 : 1,
      ring: s.mode === NR_REG_ONE_NIC ? s.ringid : -1,
      rings,
      slots,
      exclusive: ((s.flags | this.#flags) & NR_EXCLUSIVE) !== 0,
      ...(this.#shared ? { shared: this.#shared } : {}),
      ...(this.#inherited ? { inherited: this.#inherited } : {}),
      ...(this.#dir ? { dir: this.#dir } : {}),
    })
    return new Netmap(s, { kind: 'shm', ep })
  }
}

function num(v: string | undefined): number {
  if (v === undefined) return 0
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > NM_PIPE_MAXRINGS * 16)
    throw new NetmapError('BindFail', `bad @conf value '${v}'`)
  return n
}

function checkCount(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new NetmapError('BindFail', `${what} must be a positive integer, got ${n}`)
  return n
}

type Impl = { kind: 'native'; port: NativePort } | { kind: 'nic'; port: NicPort } | { kind: 'shm'; ep: ShmEndpoint }

export class Netmap implements Disposable {
  readonly spec: PortSpec
  /** native netmap, shared-memory pipe, or an AF_PACKET-fed NIC port. */
  readonly backend: 'native' | 'shm' | 'nic'
  readonly #impl: Impl
  readonly #tx = new Map<number, TxRing>()
  readonly #rx = new Map<number, RxRing>()
  #closed = false

  /** @internal use NetmapBuilder */
  constructor(spec: PortSpec, impl: Impl) {
    this.spec = spec
    this.#impl = impl
    this.backend = impl.kind
  }

  /** The pollable fd: native /dev/netmap fd; shm: this end's doorbell FIFO (-1 for a SharedArrayBuffer pipe). */
  get fd(): number {
    return this.#impl.kind !== 'shm' ? this.#impl.port.fd : this.#impl.ep.fd
  }

  /**
   * The fds behind the bound rings, by ring index (and 'host' for a TAP's host ring pair): a NIC port without the
   * module has one AF_PACKET socket per ring pair, so `fd` (the first one) does not cover the others; native and shm
   * ports have the one `fd` for every ring.
   */
  get ringFds(): ReadonlyMap<number | 'host', number> {
    const i = this.#impl
    if (i.kind === 'nic') return new Map(i.port.fds)
    const m = new Map<number | 'host', number>()
    for (let k = this.firstRing; k <= this.lastRing; k++) m.set(k, this.fd)
    return m
  }

  get numTxRings(): number {
    return this.#impl.kind !== 'shm' ? this.#impl.port.niTxRings : this.#impl.ep.geometry.nRings
  }

  get numRxRings(): number {
    return this.#impl.kind !== 'shm' ? this.#impl.port.niRxRings : this.#impl.ep.geometry.nRings
  }

  /**
   * First and last ring bound to this fd, as txRing(i)/rxRing(i) count them: ONE_NIC `-K` and ONE_SW `^K`: both K;
   * `^`: the host rings 0 … host rings - 1; `*`: 0 … numTxRings (the host ring pair is ring numTxRings, as
   * NETMAP_TXRING(nifp, ni_tx_rings) is).
   */
  get firstRing(): number {
    if (this.#impl.kind === 'shm') return this.#impl.ep.firstRing
    const m = this.spec.mode
    return m === NR_REG_ONE_NIC || m === NR_REG_ONE_SW ? this.spec.ringid : 0
  }

  get lastRing(): number {
    const i = this.#impl
    if (i.kind === 'shm') return i.ep.lastRing
    const m = this.spec.mode
    if (m === NR_REG_ONE_NIC || m === NR_REG_ONE_SW) return this.spec.ringid
    if (m === NR_REG_SW) return i.port.niHostTxRings - 1
    if (m === NR_REG_NIC_SW) return i.port.niTxRings + i.port.niHostTxRings - 1
    return this.numTxRings - 1
  }

  /** Bound to host (software) rings: `^`, `^K` or `*`. */
  isHostIf(): boolean {
    const m = this.spec.mode
    return m === NR_REG_SW || m === NR_REG_ONE_SW || m === NR_REG_NIC_SW
  }

  /** The shm peer: 'open', 'closed' (not open) or 'dead' (its process died). Native: always 'open'. */
  peerState(): 'open' | 'closed' | 'dead' {
    return this.#impl.kind === 'shm' ? this.#impl.ep.peerState() : 'open'
  }

  /**
   * NIC ports without the module: TX frames the kernel refused for good (the sync that dropped them throws `Io`
   * once, after moving past them), and RX frames too long to receive. null on other backends.
   */
  get stats(): Readonly<NicStats> | null {
    return this.#impl.kind === 'nic' ? this.#impl.port.stats : null
  }

  /** nr_offset / nr_memsize as the register request reports them. */
  get region(): { offset: number; memsize: number; buffer: ArrayBuffer | SharedArrayBuffer } {
    const i = this.#impl
    if (i.kind === 'nic') return { offset: i.port.nifOff, memsize: i.port.geometry.memsize, buffer: i.port.buffer }
    if (i.kind !== 'shm') return { offset: i.port.nifOff, memsize: i.port.buffer.byteLength, buffer: i.port.buffer }
    return { offset: i.ep.nrOffset, memsize: i.ep.memsize, buffer: i.ep.buffer }
  }

  /**
   * TX ring i: a NIC ring index (0 … numTxRings-1) on NIC/pipe ports, a host ring index (0 …) on `^` ports, as
   * NETMAP_TXRING(nifp, ni_tx_rings + i) does. Rings this fd did not bind throw InvalidRingIndex.
   */
  txRing(i: number): TxRing {
    this.#live()
    let r = this.#tx.get(i)
    if (!r) {
      r = this.#make(i, true) as TxRing
      this.#tx.set(i, r)
    }
    return r
  }

  rxRing(i: number): RxRing {
    this.#live()
    let r = this.#rx.get(i)
    if (!r) {
      r = this.#make(i, false) as RxRing
      this.#rx.set(i, r)
    }
    return r
  }

  #make(i: number, tx: boolean): TxRing | RxRing {
    const impl = this.#impl
    if (!Number.isInteger(i) || i < 0) throw new NetmapError('InvalidRingIndex', `ring index ${i}`)
    if (impl.kind === 'shm') {
      const ep = impl.ep
      if (i < ep.firstRing || i > ep.lastRing)
        throw new NetmapError(
          'InvalidRingIndex',
          `${tx ? 'TX' : 'RX'} ring ${i} is not bound (rings ${ep.firstRing}…${ep.lastRing})`,
        )
      const kr = tx ? ep.txKrings[i]! : ep.rxKrings[i]!
      const ready = (): boolean => kr.peerAdvanced()
      const driver: RingDriver = {
        sync: tx ? () => kr.txsync() : () => kr.rxsync(),
        wait: (signal) => ep.waitFor(ready, signal),
        ready,
      }
      return tx ? new TxRing(kr.ring, i, driver) : new RxRing(kr.ring, i, driver)
    }
    const p = impl.port
    // `^` ports count host rings from 0 (NETMAP_TXRING(nifp, ni_tx_rings + i)); `*` and NIC ports use ring_ofs
    // order directly, so on `*` ring numTxRings is the host ring pair
    const host = this.isHostIf() && this.spec.mode !== NR_REG_NIC_SW
    const k = tx ? (host ? p.niTxRings + i : i) : p.niTxRings + p.niHostTxRings + (host ? p.niRxRings + i : i)
    const limit = tx
      ? host
        ? p.niHostTxRings
        : p.niTxRings + (this.spec.mode === NR_REG_NIC_SW ? p.niHostTxRings : 0)
      : host
        ? p.niHostRxRings
        : p.niRxRings + (this.spec.mode === NR_REG_NIC_SW ? p.niHostRxRings : 0)
    const view = i < limit ? p.ring(k) : null
    if (!view)
      throw new NetmapError(
        'InvalidRingIndex',
        `${tx ? 'TX' : 'RX'} ring ${i} is not bound to this fd (rings ${this.firstRing}…${this.lastRing})`,
      )
    const driver = impl.kind === 'nic' ? impl.port.driver(k) : tx ? impl.port.txDriver : impl.port.rxDriver
    return tx ? new TxRing(view, i, driver) : new RxRing(view, i, driver)
  }

  #live(): void {
    if (this.#closed) throw new NetmapError('Closed', 'port is closed')
  }

  /** Waits (no busy loop) until RX ring i (default the first bound) has packets or TX ring i has space. */
  async poll(what: 'rx' | 'tx' = 'rx', i = this.firstRing, signal?: AbortSignal): Promise<void> {
    if (what === 'rx') await this.rxRing(i).ready(signal)
    else await this.txRing(i).ready(1, signal)
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Unmaps (views become empty) and closes; the last closer of a shm pipe removes its files. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const r of [...this.#tx.values(), ...this.#rx.values()]) r.stopEvents()
    if (this.#impl.kind !== 'shm') this.#impl.port.close()
    else this.#impl.ep.close()
  }

  [Symbol.dispose](): void {
    this.close()
  }
}
