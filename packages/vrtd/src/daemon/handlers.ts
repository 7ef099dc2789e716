// One request → one reply, as upstream serve.c decides it, with its checks in this order: known opcode (else
// BAD_REQUEST), `query-devices` (else AUTH_ERROR), body size (else BAD_REQUEST), device permission for device
// operations (else AUTH_ERROR — also for an index out of range), the inbound fd count (else BAD_REQUEST), then the
// operation (NOEXIST, BAD_REQUEST for bar ≥ 6, INVALID_ARGUMENT, …). Error replies carry no body and no fd; OK bodies
// are written zero-filled into the daemon's reply buffer.
import type { OwnedFd } from '@x/native'
import { encodeBarInfoInto, encodeDeviceInfoInto, encodeSensorsInto, getCString } from '../bodies.js'
import { Ret } from '../errors.js'
import { BAR_COUNT, HEADER_SIZE, Opcode, opcodeName, opSpec, PCI_BDF_LEN, type Protocol } from '../protocol.js'
import { checkDevicePermission, type EffectiveRole, V1_NEEDS } from './auth.js'
import type { Device } from './devices.js'
import type { Logger } from './log.js'

export interface RequestContext {
  protocol: Protocol
  devices: readonly Device[]
  bdfs: readonly string[]
  log: Logger
  /** The client's role, computed on first use (ensure_role). */
  role: () => EffectiveRole
  /** For log lines. */
  who: { uid: number; name: string; connId: number }
}

export interface Outcome {
  ret: number
  /** Body bytes written at out[8…]. */
  size: number
  /** An fd to lend with an OK reply. */
  fd: OwnedFd | null
}

/** upstream's lower-case operation names for log lines, computed once. */
const OP_NAMES: readonly string[] = Array.from({ length: 16 }, (_, i) => opcodeName(i).toLowerCase())

const fail = (ret: number): Outcome => ({ ret, size: 0, fd: null })
const ok = (size: number, fd: OwnedFd | null = null): Outcome => ({ ret: Ret.OK, size, fd })

function deny(ctx: RequestContext, op: string, missing: string): Outcome {
  if (missing !== '') {
    const { uid, name } = ctx.who
    ctx.log.warning(`Permission denied for uid ${uid}(${name}): '${op}' requires '${missing}'`, {
      uid,
      user: name,
      op,
      missing,
    })
    const roles = ctx.role().names
    ctx.log.info(
      roles.length
        ? `User uid ${uid}(${name}) has roles: ${roles.join(', ')}`
        : `User uid ${uid}(${name}) has no roles`,
      {
        uid,
      },
    )
  }
  return fail(Ret.AUTH_ERROR)
}

/**
 * Handles one well-framed request. `req` views the datagram (header at 0), `size` is its body length; the reply
 * body goes to out[8…] (outView views the same buffer).
 */
export function handleRequest(
  ctx: RequestContext,
  opcode: number,
  req: DataView,
  size: number,
  fds: readonly OwnedFd[],
  out: Uint8Array,
  outView: DataView,
): Outcome {
  const spec = opSpec(ctx.protocol, opcode)
  const name = OP_NAMES[opcode] ?? 'unknown'
  if (spec === undefined) {
    ctx.log.warning(`Unknown opcode=${opcode} from uid=${ctx.who.uid} conn_id=${ctx.who.connId}`, {
      opcode,
      uid: ctx.who.uid,
    })
    return fail(Ret.BAD_REQUEST)
  }
  const role = ctx.role()
  if (!role.query) return deny(ctx, name, 'query')
  if (size < spec.req) {
    ctx.log.warning(`${name}: malformed request`, { opcode, size, need: spec.req, uid: ctx.who.uid })
    return fail(Ret.BAD_REQUEST)
  }
  const body = HEADER_SIZE
  const n = ctx.devices.length
  if (ctx.protocol === 'v0') {
    if (opcode === Opcode.GET_BAR_FD && !(role.anyDevice && role.bar)) {
      return deny(ctx, name, role.anyDevice ? 'bar-access' : 'device')
    }
  } else {
    const need = V1_NEEDS[opcode]!
    if (need !== 'query') {
      const missing = checkDevicePermission(role, ctx.bdfs, req.getUint32(body, true), need)
      if (missing !== null) return deny(ctx, name, missing)
    }
  }
  if (fds.length !== spec.reqFds) {
    ctx.log.warning(`${name}: ${fds.length} fds with the request, expected ${spec.reqFds}`, {
      opcode,
      uid: ctx.who.uid,
    })
    return fail(Ret.BAD_REQUEST)
  }
  const o = HEADER_SIZE
  switch (opcode) {
    case Opcode.GET_NUM_DEVICES:
      outView.setUint32(o, n, true)
      return ok(4)
    case Opcode.GET_DEVICE_INFO: {
      const d = device(ctx, req.getUint32(body, true), name)
      if (!d) return fail(Ret.NOEXIST)
      return ok(encodeDeviceInfoInto(out, o, { name: d.name, pci: d.pci }, ctx.protocol))
    }
    case Opcode.GET_BAR_INFO:
    case Opcode.GET_BAR_FD: {
      const d = device(ctx, req.getUint32(body, true), name)
      if (!d) return fail(Ret.NOEXIST)
      const bar = req.getUint8(body + 4)
      if (bar >= BAR_COUNT) {
        ctx.log.warning(`${name}: invalid BAR number ${bar}`, { bar })
        return fail(Ret.BAD_REQUEST)
      }
      const slot = d.bars[bar]
      if (opcode === Opcode.GET_BAR_INFO) {
        if (!slot) return notAvailable(ctx, name, d, bar)
        return ok(encodeBarInfoInto(outView, o, slot.info))
      }
      if (!slot?.fd) return notAvailable(ctx, name, d, bar)
      outView.setBigUint64(o, slot.length, true)
      return ok(8, slot.fd)
    }
    case Opcode.QDMA_GET_INFO:
    case Opcode.QDMA_QPAIR_ADD:
    case Opcode.QDMA_QPAIR_OP:
    case Opcode.QDMA_QPAIR_GET_FD: {
      const d = device(ctx, req.getUint32(body, true), name)
      if (!d) return fail(Ret.NOEXIST)
      ctx.log.notice(`${name}: device ${d.index} has no QDMA`, { device: d.name })
      return fail(Ret.NOEXIST)
    }
    case Opcode.BUFFER_OPEN:
    case Opcode.BUFFER_CLOSE:
    case Opcode.BUFFER_OPEN_RAW: {
      const d = device(ctx, req.getUint32(body, true), name)
      if (!d) return fail(Ret.NOEXIST)
      ctx.log.notice(`${name}: device ${d.index} has no buffer allocator`, { device: d.name })
      return fail(Ret.NOEXIST)
    }
    case Opcode.DESIGN_WRITE: {
      const d = device(ctx, req.getUint32(body, true), name)
      if (!d) return fail(Ret.NOEXIST)
      if (!d.simulated) {
        ctx.log.notice(`design_write: device ${d.index} has no design writer`, { device: d.name })
        return fail(Ret.NOEXIST)
      }
      ctx.log.info(`Design write (simulated) dev=${d.index} uid=${ctx.who.uid} conn_id=${ctx.who.connId}`, {
        device: d.name,
      })
      out[o] = 0
      return ok(1)
    }
    case Opcode.CLOCK_OP: {
      const d = device(ctx, req.getUint32(body, true), name)
      if (!d) return fail(Ret.NOEXIST)
      if (!d.clocks) {
        ctx.log.notice(`clock_op: device ${d.index} has no clock driver`, { device: d.name })
        return fail(Ret.NOEXIST)
      }
      const rate = req.getUint32(body + 4, true)
      const op = req.getUint8(body + 8)
      const region = req.getUint8(body + 9)
      if (region > 1 || op > 1 || (op === 1 && rate === 0)) {
        ctx.log.warning(`clock_op: invalid op ${op} / region ${region} / rate ${rate}`, { op, region, rate })
        return fail(Ret.INVALID_ARGUMENT)
      }
      const key = region === 0 ? 'service' : 'user'
      if (op === 1) d.clocks[key] = rate
      outView.setUint32(o, d.clocks[key], true)
      return ok(4)
    }
    case Opcode.GET_DEVICE_BY_BDF: {
      const raw = getCString(new Uint8Array(req.buffer, req.byteOffset + body, PCI_BDF_LEN - 1), 0, PCI_BDF_LEN - 1)
      if (raw === '') {
        ctx.log.warning('get_device_by_bdf: empty BDF string')
        return fail(Ret.INVALID_ARGUMENT)
      }
      const bdf = normalizeQueryBdf(raw)
      const i = ctx.bdfs.indexOf(bdf)
      if (i < 0) {
        ctx.log.notice(`get_device_by_bdf: no device found for bdf=${bdf}`, { bdf })
        return fail(Ret.NOEXIST)
      }
      outView.setUint32(o, i, true)
      return ok(4)
    }
    case Opcode.DEVICE_HOTPLUG_OP: {
      const d = device(ctx, req.getUint32(body, true), name)
      if (!d) return fail(Ret.NOEXIST)
      const op = req.getUint8(body + 4)
      const fn = req.getUint8(body + 5)
      if (op > 4 || (op >= 1 && op <= 3 && fn > 7)) {
        ctx.log.warning(`hotplug_op: invalid op ${op} / function ${fn}`, { op, fn })
        return fail(Ret.INVALID_ARGUMENT)
      }
      if (!d.simulated) {
        ctx.log.notice(`hotplug_op: device ${d.index} is not simulated; hotplug is not supported here`, {
          device: d.name,
        })
        return fail(Ret.NOEXIST)
      }
      ctx.log.info(`Hotplug op=${op} (simulated, no-op) bdf=${d.pci.bdf} dev=${d.index} uid=${ctx.who.uid}`, { op, fn })
      out[o] = 0
      return ok(1)
    }
    case Opcode.GET_SENSOR_INFO: {
      const d = device(ctx, req.getUint32(body, true), name)
      if (!d) return fail(Ret.NOEXIST)
      if (!d.sensors) {
        ctx.log.error(`get_sensor_info: no AMI for device ${d.index}`, { device: d.name })
        return fail(Ret.INTERNAL_ERROR)
      }
      return ok(encodeSensorsInto(out, o, d.sensors))
    }
    default:
      return fail(Ret.BAD_REQUEST)
  }
}

function device(ctx: RequestContext, dev: number, name: string): Device | null {
  const d = ctx.devices[dev]
  if (!d) ctx.log.notice(`${name}: device ${dev} does not exist`, { dev })
  return d ?? null
}

function notAvailable(ctx: RequestContext, name: string, d: Device, bar: number): Outcome {
  ctx.log.notice(`${name}: BAR ${bar} not available on device ${d.index}`, { device: d.name, bar })
  return fail(Ret.NOEXIST)
}

/** GET_DEVICE_BY_BDF's normalisation: '.F' stripped, 'BB:DD' → '0000:BB:DD'. */
function normalizeQueryBdf(s: string): string {
  const dot = s.lastIndexOf('.')
  const b = dot >= 0 ? s.slice(0, dot) : s
  return b.split(':').length === 2 ? `0000:${b}` : b
}
