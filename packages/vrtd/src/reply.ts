// Checking and settling one reply, shared by the async Connection and the BlockingConnection (reference §5.3):
// an OK reply must be `8 + size` bytes, not truncated, with at least the revision's body size and fds (extra fds
// are closed, trailing bytes ignored as wire.h promises); an error reply is read from its header only (a v0 daemon
// may send a garbage size) and any fd with it is closed; ret 1 or 2 on the wire is a protocol violation.
import type { OwnedFd } from '@x/native'
import { Ret, VrtdError } from './errors.js'
import { HEADER_SIZE, type OpSpec, opcodeName, type Protocol } from './protocol.js'

/** A reply as rawRequest returns it: any ret, the body copied out, every fd received (the caller owns them). */
export interface RawReply {
  ret: number
  seqno: number
  size: number
  body: Uint8Array
  fds: OwnedFd[]
}

/** Decodes an OK reply's body (at dv[off], size bytes) and takes the fds it expects. */
export type Decode<T> = (dv: DataView, off: number, size: number, fds: OwnedFd[]) => T

export function closeAll(fds: readonly OwnedFd[]): void {
  for (const f of fds) f.close()
}

/**
 * Why a reply (already matched to its request) breaks the protocol, or null when it does not. `spec` is null for
 * raw requests (no size or fd expectations).
 */
export function violation(
  dv: DataView,
  len: number,
  truncated: boolean,
  nfds: number,
  opcode: number,
  spec: OpSpec | null,
  protocol: Protocol,
): string | null {
  const size = dv.getUint16(0, true)
  const ret = dv.getUint16(2, true)
  if (ret === Ret.BAD_LIB_CALL || ret === Ret.BAD_CONN) return `client-local code ${ret} received on the wire`
  if (ret !== Ret.OK) return null
  if (truncated || len !== HEADER_SIZE + size) return `OK reply of ${len} bytes whose header says 8 + ${size}`
  if (spec !== null && (size < spec.resp || nfds < spec.respFds)) {
    return `${opcodeName(opcode)} reply has ${size} bytes and ${nfds} fds; ${protocol} needs ${spec.resp} and ${spec.respFds}`
  }
  return null
}

/**
 * The value of a checked reply: decode(body) for a typed request (throwing the VrtdError of an error reply), the
 * RawReply for a raw one (decode null). fds not handed over are closed.
 */
export function settle(
  dv: DataView,
  buf: Uint8Array,
  opcode: number,
  spec: OpSpec | null,
  decode: Decode<unknown> | null,
  fds: OwnedFd[],
): unknown {
  const size = dv.getUint16(0, true)
  const ret = dv.getUint16(2, true)
  const seqno = dv.getUint32(4, true)
  if (decode === null) {
    const body = ret === Ret.OK ? buf.slice(HEADER_SIZE, HEADER_SIZE + size) : new Uint8Array(0)
    return { ret, seqno, size, body, fds } satisfies RawReply
  }
  if (ret !== Ret.OK) {
    closeAll(fds)
    throw new VrtdError(ret, { opcode, seqno, detail: opcodeName(opcode), fromWire: true })
  }
  const want = spec?.respFds ?? 0
  if (fds.length > want) closeAll(fds.splice(want))
  try {
    return decode(dv, HEADER_SIZE, size, fds)
  } catch (e) {
    closeAll(fds)
    throw e
  }
}
