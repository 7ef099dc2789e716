// The only file that loads the addon: build/Release in a workspace checkout, else prebuilds/ (node-gyp-build).
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export interface RegisterResult {
  offset: number
  memsize: number
  txSlots: number
  rxSlots: number
  txRings: number
  rxRings: number
  hostTxRings: number
  hostRxRings: number
  memId: number
  extraBufs: number
}

export interface Binding {
  /** sizeof_*, offsetof_*, alignof_netmap_ring, NIOC*, NETMAP_API. */
  constants: Readonly<Record<string, number>>
  /** open("/dev/netmap", O_RDWR | O_CLOEXEC); throws a Node-style error. */
  nm_open(): number
  /** NIOCCTRL NETMAP_REQ_REGISTER (API 14); throws. */
  nioc_register(
    fd: number,
    name: string,
    mode: number,
    ringid: number,
    flags: number,
    memId: number,
    txRings: number,
    rxRings: number,
    txSlots: number,
    rxSlots: number,
    extraBufs: number,
  ): RegisterResult
  /** NIOCCTRL NETMAP_REQ_PORT_INFO_GET → 0 or -errno. */
  nioc_port_info(fd: number, name: string): number
  nioc_txsync(fd: number): number
  nioc_rxsync(fd: number): number
  mkfifo(path: string, mode: number): number
}

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('..', import.meta.url))
const load = require('node-gyp-build') as (dir: string) => unknown

export const binding = load(process.env.X_NETMAP_PREBUILD ?? root) as Binding
