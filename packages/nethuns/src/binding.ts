// The only file that loads the addon: build/Release in a workspace checkout, else prebuilds/ (node-gyp-build).
// Its untyped exports are narrowed here, once, to the interfaces below.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** What every backend's native socket has: readiness, the receive batch, close. */
export interface NativeSocket {
  /** Starts uv_poll with UV_READABLE | UV_WRITABLE bits; 0 or a negative libuv error. */
  poll_start(events: number): number
  poll_stop(): number
  ref(): void
  unref(): void
  /** Lends the receive side its JS memory (kept referenced natively until close). */
  attach_rx(
    pool: Uint8Array,
    bufSize: number,
    stash: Uint32Array,
    state: Int32Array,
    descs: Uint32Array,
    meta: Uint32Array,
    counters: Float64Array,
  ): void
  /** Receives up to max packets into the socket's batch arrays (or the caller's): the count, or -errno. */
  rx(max: number, descs?: Uint32Array, meta?: Uint32Array): number
  /** Folds the kernel's statistics into the counters. */
  stats(): void
  fd(): number
  close(): void
}

export type PollCallback = (status: number, events: number, drained: number) => void

export interface NativeAfPacket extends NativeSocket {
  mapping(): ArrayBuffer | null
  attach_tx(lens: Uint32Array, state: Int32Array, counters: Float64Array): void
  tx_avail(): number
  tx_submit(n: number, kick: number): number
}

export interface NativePcap extends NativeSocket {
  attach_tx(staging: Uint8Array, frameSize: number, lens: Uint32Array, counters: Float64Array): void
  tx_avail(): number
  tx_submit(n: number, kick: number): number
  datalink(): number
  last_error(): string
}

export interface NativeAfXdp extends NativeSocket {
  fill(): number
  bind(ifindex: number, queue: number, flags: number): number
  umem_offset(): number
  attach_tx(
    descs: Uint32Array,
    lens: Uint32Array,
    releases: Uint32Array,
    state: Int32Array,
    counters: Float64Array,
  ): void
  tx_avail(): number
  tx_submit(n: number, kick: number): number
  set_filter(prog: Uint8Array | null): void
  zero_copy(): boolean
}

export interface Binding {
  constants: Record<string, number>
  /** pcap_compile on a dead handle: struct sock_filter[] bytes, or libpcap's error text. Absent without libpcap. */
  bpf_compile?: (expr: string, snaplen: number, optimize: number) => Uint8Array | string
  AfPacket: new (
    ifindex: number,
    rxBlockSize: number,
    rxBlockNr: number,
    rxFrameSize: number,
    retireTovMs: number,
    txFrameSize: number,
    txFrameNr: number,
    txBlockSize: number,
    options: number,
    fanoutArg: number,
    filter: Uint8Array | null,
    callback: PollCallback,
  ) => NativeAfPacket
  AfXdp: new (
    memory: Uint8Array,
    frameSize: number,
    numFrames: number,
    fillSize: number,
    compSize: number,
    rxSize: number,
    txSize: number,
    options: number,
    callback: PollCallback,
  ) => NativeAfXdp
  /** Absent when the build has no libpcap. */
  Pcap?: new (
    source: string,
    offline: number,
    snaplen: number,
    promisc: number,
    timeoutMs: number,
    immediate: number,
    bufferSize: number,
    direction: number,
    filter: string | null,
    callback: PollCallback,
  ) => NativePcap
}

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('..', import.meta.url))
const load = require('node-gyp-build') as (dir: string) => unknown

export const binding = load(process.env.X_NETHUNS_PREBUILD ?? root) as Binding
const constants: Readonly<Record<string, number>> = Object.freeze({ ...binding.constants })

/** A constant exported by the addon; throws if the build does not have it. */
export function N(name: string): number {
  const v = constants[name]
  if (v === undefined) throw new Error(`@x/nethuns: constant ${name} is not in this build`)
  return v
}
