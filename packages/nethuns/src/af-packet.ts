// af_packet backend: AF_PACKET with a TPACKET_V3 RX ring and a TPACKET_V3 TX ring (one mapping), fanout, qdisc
// bypass, PACKET_STATISTICS, promiscuous membership and a classic-BPF filter attached in the kernel.
import { ifNameToIndex } from '@x/native'
import { binding, N, type NativeAfPacket } from './binding.js'
import { type ChannelOptions, type WithChannel, withChannel } from './channel.js'
import { Context } from './context.js'
import { wrapSystemError } from './errors.js'
import { compileFilter } from './filter.js'
import {
  type AfPacketFlags,
  checkQueueAny,
  fanoutArg,
  type ResolvedAfPacketFlags,
  resolveAfPacketFlags,
} from './flags.js'
import { type AfPacketMeta, readAfPacketMeta } from './metadata.js'
import { interfaceOf } from './portspec.js'
import { pollRelay, Socket } from './socket.js'

const OPT = {
  rx: N('AFP_OPT_RX'),
  tx: N('AFP_OPT_TX'),
  qdiscBypass: N('AFP_OPT_QDISC_BYPASS'),
  promisc: N('AFP_OPT_PROMISC'),
  rxhash: N('AFP_OPT_RXHASH'),
  dirIn: N('AFP_OPT_DIR_IN'),
  dirOut: N('AFP_OPT_DIR_OUT'),
  fanout: N('AFP_OPT_FANOUT'),
  txLoss: N('AFP_OPT_TX_LOSS'),
}
const TX_DATA = N('AFP_TX_DATA_OFFSET')
const S_TX_NEXT = N('S_TX_NEXT')

export class AfPacketSocket extends Socket<AfPacketMeta> {
  readonly backend = 'af_packet' as const
  readonly flags: Readonly<ResolvedAfPacketFlags>
  /** The interface's index. */
  readonly ifindex: number
  readonly #nat: NativeAfPacket
  readonly #txBase: number
  readonly #txFrameSize: number
  readonly #txFrames: number

  private constructor(
    portspec: string,
    ifindex: number,
    flags: ResolvedAfPacketFlags,
    nat: NativeAfPacket,
    relay: ReturnType<typeof pollRelay>,
    context: Context,
  ) {
    const tx = flags.mode !== 'rx_only'
    const mapping = nat.mapping()
    const txBase = flags.numBlocks * flags.blockSize
    super({
      portspec,
      queue: null,
      context,
      native: nat,
      relay,
      reader: readAfPacketMeta,
      batchSize: flags.batchSize,
      stashSize: flags.stashSize,
      coalesceMs: flags.coalesceMs,
      filter: flags.filterFn,
      noRx: flags.mode === 'tx_only',
      tx:
        tx && mapping !== null
          ? {
              bytes: new Uint8Array(mapping),
              maxLen: flags.txFrameSize - TX_DATA,
              lens: new Uint32Array(flags.txFrames),
            }
          : null,
    })
    this.flags = flags
    this.ifindex = ifindex
    this.#nat = nat
    this.#txBase = flags.mode === 'tx_only' ? 0 : txBase
    this.#txFrameSize = flags.txFrameSize
    this.#txFrames = flags.txFrames
    if (this.tx !== null) nat.attach_tx(this.tx.lens, this.state, this.counters)
  }

  /**
   * Opens `portspec` (an interface name). `queue` must be null: AF_PACKET binds the whole interface (spread load
   * with `fanout`). Throws NethunsError: ERR_NETHUNS_PORTSPEC, ERR_NETHUNS_NOT_AVAILABLE (netmap/DPDK portspecs),
   * ERR_NETHUNS_QUEUE, ERR_NETHUNS_FLAGS, ERR_NETHUNS_BPF, or the errno (ENODEV, EPERM, …) of the failing call.
   */
  static create(portspec: string, queue: number | null = null, flags: AfPacketFlags = {}): AfPacketSocket {
    const name = interfaceOf(portspec, 'af_packet')
    checkQueueAny(queue, 'af_packet')
    const f = resolveAfPacketFlags(flags)
    let ifindex: number
    try {
      ifindex = ifNameToIndex(name)
    } catch (e) {
      throw wrapSystemError(e, portspec, 'af_packet: cannot open')
    }
    const prog = f.filter === null ? null : compileFilter(f.filter, f.snaplenForFilter)
    let opts = 0
    if (f.mode !== 'tx_only') opts |= OPT.rx
    if (f.mode !== 'rx_only') opts |= OPT.tx
    if (f.qdiscBypass) opts |= OPT.qdiscBypass
    if (f.promiscuous) opts |= OPT.promisc
    if (f.rxhash) opts |= OPT.rxhash
    if (f.direction === 'in') opts |= OPT.dirIn
    if (f.direction === 'out') opts |= OPT.dirOut
    if (f.fanout !== null) opts |= OPT.fanout
    if (f.txLoss) opts |= OPT.txLoss
    const relay = pollRelay()
    let nat: NativeAfPacket
    try {
      nat = new binding.AfPacket(
        ifindex,
        f.blockSize,
        f.numBlocks,
        f.frameSize,
        f.timeoutMs,
        f.txFrameSize,
        f.mode === 'rx_only' ? 0 : f.txFrames,
        f.txBlockSize,
        opts,
        f.fanout === null ? 0 : fanoutArg(f.fanout),
        prog,
        relay.callback,
      )
    } catch (e) {
      throw wrapSystemError(e, portspec, 'af_packet: cannot open')
    }
    try {
      return new AfPacketSocket(portspec, ifindex, f, nat, relay, Context.create(f.bufferSize, f.bufferCount))
    } catch (e) {
      nat.close()
      throw e
    }
  }

  /** nethuns-rs `create_with_channel`: the socket and a pusher/popper over its Context, for worker threads. */
  static createWithChannel(
    portspec: string,
    queue: number | null = null,
    flags: AfPacketFlags = {},
    options: ChannelOptions = {},
  ): WithChannel<AfPacketSocket> {
    return withChannel(AfPacketSocket.create(portspec, queue, flags), options)
  }

  protected txAvail(): number {
    return this.#nat.tx_avail()
  }

  protected txOffset(k: number): number {
    const frame = (this.state[S_TX_NEXT] + k) % this.#txFrames
    return this.#txBase + frame * this.#txFrameSize + TX_DATA
  }

  protected txSubmit(n: number, kick: boolean): number {
    return this.#nat.tx_submit(n, kick ? 1 : 0)
  }
}
