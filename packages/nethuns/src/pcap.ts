// pcap backend: libpcap live captures (snaplen, promiscuous, timeout, immediate, kernel buffer, direction, BPF
// filter via pcap_setfilter) and offline files (pcap and pcapng, µs or ns), read to EOF. Packets are copied from
// libpcap's buffer into the socket's Context; transmission is pcap_inject of staged frames at flush().
import { existsSync } from 'node:fs'
import { binding, N, type NativePcap } from './binding.js'
import { type ChannelOptions, type WithChannel, withChannel } from './channel.js'
import { Context } from './context.js'
import { NethunsError } from './errors.js'
import { havePcap } from './filter.js'
import { type PcapFlags, type ResolvedPcapFlags, resolvePcapFlags } from './flags.js'
import { type PcapMeta, readPcapMeta } from './metadata.js'
import { notAvailable, parsePortspec } from './portspec.js'
import { pollRelay, Socket } from './socket.js'

// Constants of the libpcap part of the addon: looked up lazily (a build without libpcap has none).
const dirCode = (d: 'in' | 'out' | 'inout'): number =>
  N(d === 'in' ? 'PCAP_DIR_IN' : d === 'out' ? 'PCAP_DIR_OUT' : 'PCAP_DIR_INOUT')

interface PcapNativeError {
  code?: string
  status?: number
  syscall?: string
  message?: string
}

function pcapError(e: unknown, portspec: string): unknown {
  const n = e as PcapNativeError
  if (!(e instanceof Error) || typeof n.code !== 'string') return e
  if (n.code === 'ERR_NETHUNS_BPF') {
    return new NethunsError('ERR_NETHUNS_BPF', `pcap '${portspec}': bad filter: ${n.message}`, {
      kind: 'Pcap',
      portspec,
      cause: e,
    })
  }
  const status = n.status ?? 0
  const text = String(n.message)
  if (status === N('PCAP_ERROR_NO_SUCH_DEVICE') || /No such device/i.test(text)) {
    return new NethunsError('ENODEV', `pcap: cannot open '${portspec}': no such interface (${text})`, {
      errno: -19,
      syscall: n.syscall,
      portspec,
      kind: 'Pcap',
      cause: e,
    })
  }
  if (status === N('PCAP_ERROR_PERM_DENIED') || status === N('PCAP_ERROR_PROMISC_PERM_DENIED')) {
    return new NethunsError('EPERM', `pcap: cannot open '${portspec}': needs root, or CAP_NET_RAW (${text})`, {
      errno: -1,
      syscall: n.syscall,
      portspec,
      kind: 'Pcap',
      cause: e,
    })
  }
  return new NethunsError('ERR_NETHUNS_PCAP', `pcap '${portspec}': ${text}`, {
    kind: 'Pcap',
    syscall: n.syscall,
    portspec,
    cause: e,
  })
}

export class PcapSocket extends Socket<PcapMeta> {
  readonly backend = 'pcap' as const
  readonly flags: Readonly<ResolvedPcapFlags>
  /** True for a capture file. */
  readonly offline: boolean
  /** The capture's link type (DLT_*; 1 is Ethernet). */
  readonly linkType: number
  readonly #nat: NativePcap
  readonly #frameSize: number

  private constructor(
    portspec: string,
    offline: boolean,
    flags: ResolvedPcapFlags,
    nat: NativePcap,
    relay: ReturnType<typeof pollRelay>,
    context: Context,
  ) {
    const tx = !offline && flags.mode !== 'rx_only'
    super({
      portspec,
      queue: null,
      context,
      native: nat,
      relay,
      reader: readPcapMeta,
      batchSize: flags.batchSize,
      stashSize: flags.stashSize,
      coalesceMs: flags.coalesceMs,
      filter: flags.filterFn,
      noRx: flags.mode === 'tx_only',
      pollable: !offline,
      tx: tx
        ? {
            bytes: new Uint8Array(flags.txFrames * flags.bufferSize),
            maxLen: flags.bufferSize,
            lens: new Uint32Array(flags.txFrames),
          }
        : null,
    })
    this.flags = flags
    this.offline = offline
    this.linkType = nat.datalink()
    this.#nat = nat
    this.#frameSize = flags.bufferSize
    if (this.tx !== null) nat.attach_tx(this.tx.bytes, this.#frameSize, this.tx.lens, this.counters)
  }

  /**
   * Opens a live capture on an interface ("eth0"), or a capture file ("file:x", "*.pcap", "*.pcapng"). `queue` is
   * ignored by libpcap and must be null.
   */
  static create(portspec: string, queue: number | null = null, flags: PcapFlags = {}): PcapSocket {
    const p = parsePortspec(portspec)
    if (p.kind === 'netmap' || p.kind === 'dpdk') throw notAvailable(p)
    if (queue !== null && queue !== undefined) {
      throw new NethunsError('ERR_NETHUNS_QUEUE', `pcap supports only "any queue" (null), got ${String(queue)}`)
    }
    if (!havePcap) {
      throw new NethunsError(
        'ERR_NETHUNS_NOT_AVAILABLE',
        'the pcap backend needs libpcap, which is not available (libpcap0.8 not installed, or built without pcap.h)',
        {
          kind: 'Pcap',
          portspec,
        },
      )
    }
    const f = resolvePcapFlags(flags)
    const offline = p.kind === 'file'
    const source = p.kind === 'file' ? p.path : p.name
    if (offline && !existsSync(source)) {
      throw new NethunsError('ENOENT', `pcap: no such capture file '${source}'`, { errno: -2, portspec, kind: 'Pcap' })
    }
    const relay = pollRelay()
    let nat: NativePcap
    try {
      nat = new binding.Pcap!(
        source,
        offline ? 1 : 0,
        // Bytes past bufferSize would be cut when copied into the Context anyway; a smaller snaplen makes libpcap's
        // ring deeper (in immediate mode every frame takes a snaplen-sized slot).
        Math.min(f.snaplen, f.bufferSize),
        f.promiscuous ? 1 : 0,
        f.timeoutMs,
        f.immediate ? 1 : 0,
        f.kernelBufferSize,
        dirCode(f.direction),
        f.filter,
        relay.callback,
      )
    } catch (e) {
      throw pcapError(e, portspec)
    }
    try {
      return new PcapSocket(portspec, offline, f, nat, relay, Context.create(f.bufferSize, f.bufferCount))
    } catch (e) {
      nat.close()
      throw e
    }
  }

  /** nethuns-rs `create_with_channel`: the socket and a pusher/popper over its Context, for worker threads. */
  static createWithChannel(
    portspec: string,
    queue: number | null = null,
    flags: PcapFlags = {},
    options: ChannelOptions = {},
  ): WithChannel<PcapSocket> {
    return withChannel(PcapSocket.create(portspec, queue, flags), options)
  }

  protected txAvail(): number {
    return this.#nat.tx_avail()
  }

  protected txOffset(k: number): number {
    return k * this.#frameSize
  }

  protected txSubmit(n: number, _kick: boolean): number {
    const r = this.#nat.tx_submit(n, 1)
    if (r < 0) {
      throw new NethunsError('ERR_NETHUNS_PCAP', `pcap_inject on '${this.portspec}': ${this.#nat.last_error()}`, {
        kind: 'Pcap',
        portspec: this.portspec,
      })
    }
    return r
  }
}
