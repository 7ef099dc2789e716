// spec.ts: the port-spec parser, libnetmap's nmport_prepare grammar (reference §3.1), pure TS.
//   portspec := ('netmap' | 'vale' [ident]) ':' ident [('{'|'}') ident] [mode] ['@' digits] ['/' flags] ('@' option)*
import { NetmapError } from './errors.js'

export const NR_REG_DEFAULT = 0
export const NR_REG_ALL_NIC = 1
export const NR_REG_SW = 2
export const NR_REG_NIC_SW = 3
export const NR_REG_ONE_NIC = 4
export const NR_REG_PIPE_MASTER = 5
export const NR_REG_PIPE_SLAVE = 6
export const NR_REG_NULL = 7
export const NR_REG_ONE_SW = 8

export const NR_MONITOR_TX = 0x100
export const NR_MONITOR_RX = 0x200
export const NR_ZCOPY_MON = 0x400
export const NR_EXCLUSIVE = 0x800
export const NR_RX_RINGS_ONLY = 0x2000
export const NR_TX_RINGS_ONLY = 0x4000
export const NR_ACCEPT_VNET_HDR = 0x8000
export const NR_DO_RX_POLL = 0x10000
export const NR_NO_TX_POLL = 0x20000

const FLAG_CHARS: Readonly<Record<string, number>> = {
  x: NR_EXCLUSIVE,
  z: NR_ZCOPY_MON,
  t: NR_MONITOR_TX,
  r: NR_MONITOR_RX,
  R: NR_RX_RINGS_ONLY,
  T: NR_TX_RINGS_ONLY,
}

/** Keys each option declares (libnetmap nmport.c), after '-' → '_'. */
const OPTION_KEYS: Readonly<Record<string, readonly string[]>> = {
  share: ['port'],
  conf: [
    'rings',
    'host_rings',
    'slots',
    'tx_rings',
    'rx_rings',
    'host_tx_rings',
    'host_rx_rings',
    'tx_slots',
    'rx_slots',
  ],
  extmem: ['file', 'if_num', 'if_size', 'ring_num', 'ring_size', 'buf_num', 'buf_size'],
  offset: ['initial', 'bits'],
}
/** The key `@name=value` sets; options without one reject that form. */
const DEFAULT_KEY: Readonly<Record<string, string>> = { share: 'port', extmem: 'file' }

export type PipeRole = 'master' | 'slave'

export interface PipeSpec {
  readonly parent: string
  readonly id: string
  readonly role: PipeRole
}

export interface PortSpec {
  readonly spec: string
  readonly subsystem: 'netmap' | 'vale'
  /** `nr_name`: "netmap:" stripped, "valeX:" kept, pipe suffix kept. */
  readonly name: string
  /** The port without the pipe suffix (the pipe's parent), or the VALE port. */
  readonly port: string
  readonly mode: number
  readonly ringid: number
  /** nr_flags from '/…'. */
  readonly flags: number
  /** nr_mem_id, 0 if not given. */
  readonly memId: number
  readonly options: Readonly<Record<string, Readonly<Record<string, string>>>>
  readonly pipe?: PipeSpec
}

const IDENT = /^[A-Za-z0-9_]+$/

function bad(spec: string, reason: string): NetmapError {
  return new NetmapError('BadSpec', reason, { message: `invalid port spec '${spec}': ${reason}` })
}

/**
 * Parses a port spec. The documented aliases `pipe{ID}` and `pipe}ID}` mean `netmap:pipe{ID` / `netmap:pipe}ID`
 * (netmap-rs spelled its pipes this way); nothing else without a prefix is accepted.
 */
export function parseSpec(input: string): PortSpec {
  if (typeof input !== 'string') throw new NetmapError('BadSpec', 'port spec must be a string')
  const alias = /^pipe([{}])([A-Za-z0-9_]+)\}$/.exec(input)
  const spec = alias ? `netmap:pipe${alias[1]}${alias[2]}` : input
  let subsystem: 'netmap' | 'vale'
  let rest: string
  let prefix: string
  const vale = /^vale([A-Za-z0-9_]*):/.exec(spec)
  if (spec.startsWith('netmap:')) {
    subsystem = 'netmap'
    prefix = ''
    rest = spec.slice(7)
  } else if (vale) {
    subsystem = 'vale'
    prefix = vale[0]
    rest = spec.slice(vale[0].length)
  } else {
    throw bad(input, 'prefix unknown or missing')
  }
  // the name runs to the first of -*^/@
  let i = 0
  while (i < rest.length && !'-*^/@'.includes(rest[i]!)) i++
  const vp = rest.slice(0, i)
  let pipe: PipeSpec | undefined
  let port = vp
  const m = vp.lastIndexOf('{')
  const s = vp.lastIndexOf('}')
  const at = m >= 0 ? m : s
  if (at >= 0) {
    const id = vp.slice(at + 1)
    port = vp.slice(0, at)
    if (id.length === 0) throw bad(input, 'invalid empty pipe name')
    if (!IDENT.test(id)) throw bad(input, 'invalid pipe name')
    pipe = { parent: port, id, role: m >= 0 ? 'master' : 'slave' }
  }
  if (!IDENT.test(port)) throw bad(input, port.length === 0 ? 'invalid empty port name' : 'invalid port name')
  const name = prefix + vp
  if (Buffer.byteLength(name) >= 64) throw bad(input, 'name too long')
  let mode = NR_REG_ALL_NIC
  let ringid = 0
  const digits = (): string => {
    const j = i
    while (i < rest.length && rest[i]! >= '0' && rest[i]! <= '9') i++
    return rest.slice(j, i)
  }
  const c = rest[i]
  if (c === '^') {
    i++
    const d = digits()
    if (d === '') mode = NR_REG_SW
    else {
      mode = NR_REG_ONE_SW
      ringid = Number(d)
      if (ringid > 4094) throw bad(input, 'invalid ring id')
    }
  } else if (c === '*') {
    i++
    mode = NR_REG_NIC_SW
  } else if (c === '-') {
    i++
    const d = digits()
    if (d === '') throw bad(input, 'invalid ring id')
    ringid = Number(d)
    if (ringid > 4094) throw bad(input, 'invalid ring id')
    mode = NR_REG_ONE_NIC
  }
  if (pipe && mode !== NR_REG_ALL_NIC && mode !== NR_REG_ONE_NIC) throw bad(input, 'invalid mode for a pipe')
  let memId = 0
  if (rest[i] === '@' && rest[i + 1]! >= '0' && rest[i + 1]! <= '9') {
    i++
    memId = Number(digits())
    if (memId <= 0 || memId > 0xffff) throw bad(input, 'invalid memory id')
  }
  let flags = 0
  if (rest[i] === '/') {
    i++
    if (i >= rest.length || rest[i] === '@') throw bad(input, 'missing flags after /')
    while (i < rest.length && rest[i] !== '@') {
      const f = FLAG_CHARS[rest[i]!]
      if (f === undefined) throw bad(input, `unrecognized flag: '${rest[i]}'`)
      flags |= f
      i++
    }
  }
  const options: Record<string, Record<string, string>> = {}
  while (i < rest.length) {
    if (rest[i] !== '@') throw bad(input, `unexpected character '${rest[i]}'`)
    const j = rest.indexOf('@', i + 1)
    const body = rest.slice(i + 1, j < 0 ? rest.length : j)
    i = j < 0 ? rest.length : j
    const om = /^([A-Za-z0-9_-]+)(?:([=:])(.*))?$/.exec(body)
    if (!om) throw bad(input, `invalid option '${body}'`)
    const oname = om[1]!.replace(/-/g, '_')
    const keys = OPTION_KEYS[oname]
    if (!keys) throw bad(input, `unknown option: '${oname}'`)
    if (options[oname]) throw bad(input, `option '${oname}' given twice`)
    const kv: Record<string, string> = {}
    if (om[2] === '=') {
      const dk = DEFAULT_KEY[oname]
      if (!dk) throw bad(input, `option '${oname}' has no default key`)
      kv[dk] = om[3]!
    } else if (om[2] === ':') {
      for (const part of om[3]!.split(',')) {
        const e = part.indexOf('=')
        if (e <= 0) throw bad(input, `option '${oname}': missing value in '${part}'`)
        const k = part.slice(0, e).replace(/-/g, '_')
        if (!keys.includes(k)) throw bad(input, `option '${oname}': unknown key '${k}'`)
        kv[k] = part.slice(e + 1)
      }
    }
    options[oname] = kv
  }
  return Object.freeze({
    spec,
    subsystem,
    name,
    port: prefix + port,
    mode,
    ringid,
    flags,
    memId,
    options: Object.freeze(options),
    ...(pipe ? { pipe: Object.freeze(pipe) } : {}),
  })
}
