// The vrtd wire protocol's numbers: opcodes, revisions, and per revision the body sizes and fd counts of each
// request and OK reply (Xilinx/SLASH vrt/vrtd/include/vrtd/wire.h: v0 = f8e2d89c, v1.0 = 8c09f8aa). There is no
// version field or negotiation: the revision is chosen by the caller (default v1.0).
import { VRTD_BODY_MAX, VRTD_HEADER_SIZE, VRTD_MSG_MAX_SIZE } from '@x/framing'

export const Opcode = {
  GET_NUM_DEVICES: 0,
  GET_DEVICE_INFO: 1,
  GET_BAR_INFO: 2,
  GET_BAR_FD: 3,
  QDMA_GET_INFO: 4,
  QDMA_QPAIR_ADD: 5,
  QDMA_QPAIR_OP: 6,
  QDMA_QPAIR_GET_FD: 7,
  DESIGN_WRITE: 8,
  CLOCK_OP: 9,
  BUFFER_OPEN: 10,
  BUFFER_CLOSE: 11,
  GET_DEVICE_BY_BDF: 12,
  DEVICE_HOTPLUG_OP: 13,
  GET_SENSOR_INFO: 14,
  BUFFER_OPEN_RAW: 15,
} as const

export type OpcodeName = keyof typeof Opcode

const OPCODE_NAMES = Object.keys(Opcode) as OpcodeName[]

/** 'GET_BAR_FD' for 3; 'UNKNOWN' past the newest revision's table. */
export function opcodeName(opcode: number): OpcodeName | 'UNKNOWN' {
  return OPCODE_NAMES[opcode] ?? 'UNKNOWN'
}

/** Protocol revisions: v0 (the seed document, opcodes 0–3) and v1.0 (SLASH main, opcodes 0–15). */
export type Protocol = 'v0' | 'v1.0'
export const PROTOCOLS: readonly Protocol[] = ['v0', 'v1.0']
export const DEFAULT_PROTOCOL: Protocol = 'v1.0'

/** The socket path every revision defaults to (VRTD_STANDARD_PATH). */
export const STANDARD_PATH = '/run/vrtd.sock'

/** Header bytes, datagram maximum (VRTD_MSG_MAX_SIZE) and body maximum: @x/framing's vrtd header constants. */
export const HEADER_SIZE: number = VRTD_HEADER_SIZE
export const MSG_MAX_SIZE: number = VRTD_MSG_MAX_SIZE
export const BODY_MAX: number = VRTD_BODY_MAX
/** BARs per device ([0, 6)). */
export const BAR_COUNT = 6
export const DEVICE_NAME_LEN = 128
export const PCI_BDF_LEN = 32
export const SENSOR_ENTRY_SIZE = 72
export const SENSOR_MAX_ENTRIES = Math.floor((MSG_MAX_SIZE - HEADER_SIZE - 4) / SENSOR_ENTRY_SIZE)

export interface OpSpec {
  /** Request body bytes (the daemon rejects shorter bodies with BAD_REQUEST). */
  readonly req: number
  /** Minimum OK-reply body bytes (longer replies are accepted; wire.h says trailing bytes are ignored). */
  readonly resp: number
  /** fds a request carries in SCM_RIGHTS. */
  readonly reqFds: 0 | 1
  /** fds an OK reply carries. */
  readonly respFds: 0 | 1
}

const op = (req: number, resp: number, reqFds: 0 | 1 = 0, respFds: 0 | 1 = 0): OpSpec => ({
  req,
  resp,
  reqFds,
  respFds,
})

const V0: readonly OpSpec[] = [op(1, 4), op(4, 128), op(5, 24), op(5, 8, 0, 1)]

const V1: readonly OpSpec[] = [
  op(1, 4), // GET_NUM_DEVICES {u8 zero} → {u32}
  op(4, 168), // GET_DEVICE_INFO {u32} → vrtd_device_info
  op(5, 24), // GET_BAR_INFO {u32, u8} → slash_ioctl_bar_info
  op(5, 8, 0, 1), // GET_BAR_FD {u32, u8} → {u64 len} + BAR fd
  op(4, 20), // QDMA_GET_INFO {u32} → slash_qdma_info
  op(32, 28), // QDMA_QPAIR_ADD {u32, slash_qdma_qpair_add} → slash_qdma_qpair_add
  op(12, 1), // QDMA_QPAIR_OP {u32 dev, qid, op} → {u8}
  op(12, 1, 0, 1), // QDMA_QPAIR_GET_FD {u32 dev, qid, flags} → {u8} + qpair fd
  op(4, 1, 1, 0), // DESIGN_WRITE {u32} + PDI fd → {u8} (deferred)
  op(10, 4), // CLOCK_OP {u32 dev, u32 rate, u8 op, u8 region} → {u32 rate}
  op(28, 16, 0, 1), // BUFFER_OPEN → {u64 size, u64 phys} + qpair fd
  op(20, 1), // BUFFER_CLOSE {u32, u64, u64} → {u8}
  op(32, 4), // GET_DEVICE_BY_BDF {char[32]} → {u32}
  op(6, 1), // DEVICE_HOTPLUG_OP {u32, u8 op, u8 function} → {u8}
  op(4, 4), // GET_SENSOR_INFO {u32} → {u32 n, entry[n]}
  op(24, 1, 0, 1), // BUFFER_OPEN_RAW → {u8} + qpair fd
]

const SPECS: Record<Protocol, readonly OpSpec[]> = { v0: V0, 'v1.0': V1 }

/** The opcode's sizes in a revision, or undefined when the revision does not define it. */
export function opSpec(protocol: Protocol, opcode: number): OpSpec | undefined {
  return SPECS[protocol][opcode]
}

/** How many opcodes a revision defines ([0, n)). */
export function opcodeCount(protocol: Protocol): number {
  return SPECS[protocol].length
}

export function isProtocol(v: unknown): v is Protocol {
  return v === 'v0' || v === 'v1.0'
}
