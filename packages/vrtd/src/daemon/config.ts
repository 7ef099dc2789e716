// The daemon's configuration: upstream vrtd's INI format (config.c) for roles, users and groups, read with the rules
// of the selected protocol revision, plus `[device:NAME]` sections that say which devices this daemon serves
// (upstream globs /dev/slash_ctl*; its parser ignores these sections with a warning).
//
//   v1.0: [role:X] query-devices; [role:X:DEVSEL] bar-access = full, qdma, buffer, design-write, clock,
//         pcie-hotplug, raw-mem-access (yes|no); DEVSEL = any | a BDF normalised to DDDD:BB:DD.
//   v0:   [role:X] query-devices, pcie-hotplug (yes|no), bar-access = full, device = any.
//   both: [user:NAME] / [user:*] / [group:NAME] with `role = X` (repeatable); include = F; include-glob = P.
//
// Unknown keys and bad values in role/user/group/device sections are fatal, as are unknown users and groups;
// unknown top-level keys and sections only warn; a role name nobody defines only warns.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import type { Protocol } from '../protocol.js'
import type { IdentityResolver } from './identity.js'
import { parseIni } from './ini.js'

export const DEFAULT_CONFIG_PATH = '/etc/vrt/vrtd.conf'

export interface DevicePolicy {
  bar: boolean
  qdma: boolean
  buffer: boolean
  designWrite: boolean
  clock: boolean
  pcieHotplug: boolean
  rawMemAccess: boolean
}

export type PolicyFlag = keyof DevicePolicy

export interface Role {
  name: string
  query: boolean
  /** v1.0: per-device policies keyed by normalised BDF or 'any'. */
  policies: Map<string, DevicePolicy>
  /** v0: `device = any`. */
  anyDevice: boolean
  /** v0: `bar-access = full`. */
  bar: boolean
  /** v0: `pcie-hotplug = yes`. */
  pcieHotplug: boolean
}

export interface Principal {
  /** User or group name ('*' for the default user). */
  name: string
  /** uid or gid (-1 for '*'). */
  id: number
  roleNames: string[]
  roles: Role[]
}

export type DeviceType = 'sim' | 'mock' | 'file' | 'pci'

export interface BarSpec {
  num: number
  /** Bytes (sim: page multiple; file: 0 = the file's size; pci: from sysfs). */
  length: number
  start: bigint
  /** file BARs: the backing file. */
  file?: string
}

export interface DeviceSpec {
  name: string
  type: DeviceType
  /** Board-level "DDDD:BB:DD". */
  bdf: string
  vendorId: number
  deviceId: number
  subsystemVendorId: number
  subsystemDeviceId: number
  bars: BarSpec[]
  /** pci: the function's full address "DDDD:BB:DD.F" and the sysfs root. */
  pciAddress?: string
  sysfs?: string
  /** Where the section was (for messages). */
  source: string
}

export interface Config {
  protocol: Protocol
  roles: Map<string, Role>
  defaultUser: Principal
  users: Principal[]
  groups: Principal[]
  /** Served devices in index order (sorted by name, like upstream's glob of /dev/slash_ctl*). */
  devices: DeviceSpec[]
  /** `enable-mock-device = yes` (parsed but unused upstream; here it adds a libslash-style @mock device). */
  mockDevice: boolean
  /** Files read, in order (realpaths). */
  files: string[]
  warnings: string[]
}

export class ConfigError extends Error {
  readonly errors: string[]
  constructor(errors: string[]) {
    super(`invalid vrtd configuration:\n  ${errors.join('\n  ')}`)
    this.name = 'ConfigError'
    this.errors = errors
  }
}

export interface LoadConfigOptions {
  /** Config file (default $VRTD_CONFIG, else /etc/vrt/vrtd.conf). Ignored when `text` is given. */
  path?: string
  /** Inline INI text instead of a file (relative includes and files resolve against baseDir). */
  text?: string
  /** Directory for relative paths in `text` (default: the current directory). */
  baseDir?: string
  protocol: Protocol
  resolver: IdentityResolver
  env?: NodeJS.ProcessEnv
}

const NO_POLICY: DevicePolicy = {
  bar: false,
  qdma: false,
  buffer: false,
  designWrite: false,
  clock: false,
  pcieHotplug: false,
  rawMemAccess: false,
}

const POLICY_KEYS: Record<string, PolicyFlag> = {
  qdma: 'qdma',
  buffer: 'buffer',
  'design-write': 'designWrite',
  clock: 'clock',
  'pcie-hotplug': 'pcieHotplug',
  'raw-mem-access': 'rawMemAccess',
}

export function newRole(name: string): Role {
  return { name, query: false, policies: new Map(), anyDevice: false, bar: false, pcieHotplug: false }
}

/** upstream normalize_bdf: 'any' stays; '.F' stripped; 'BB:DD' → '0000:BB:DD'; 'DDDD:BB:DD' as is. Else null. */
export function normalizeBdf(input: string): string | null {
  if (input === 'any') return 'any'
  if (input.length >= 64) return null
  const dot = input.lastIndexOf('.')
  const s = dot >= 0 ? input.slice(0, dot) : input
  const colons = s.split(':').length - 1
  if (colons === 1) return `0000:${s}`
  if (colons === 2) return s
  return null
}

/** A parsed size: 4096, 0x1000, 4K, 64M, 1G (powers of 1024). */
export function parseSize(v: string): number | null {
  const m = /^(0x[0-9a-f]+|\d+)\s*([kmgt]i?b?)?$/i.exec(v.trim())
  if (!m) return null
  const n = Number(m[1])
  const unit = (m[2] ?? '').toLowerCase()[0]
  const mul = unit === 'k' ? 2 ** 10 : unit === 'm' ? 2 ** 20 : unit === 'g' ? 2 ** 30 : unit === 't' ? 2 ** 40 : 1
  const r = n * mul
  return Number.isSafeInteger(r) ? r : null
}

function parseU16(v: string): number | null {
  const n = /^(0x[0-9a-f]{1,4}|\d+)$/i.test(v) ? Number(v) : Number.NaN
  return Number.isInteger(n) && n >= 0 && n <= 0xffff ? n : null
}

function parseAddress(v: string): bigint | null {
  if (!/^(0x[0-9a-f]{1,16}|\d+)$/i.test(v)) return null
  const b = BigInt(v)
  return b <= 0xffffffffffffffffn ? b : null
}

/** A small glob(3) for include-glob: *, ? and [...] within path components; sorted; no dotfiles for '*'. */
export function globSync(pattern: string): string[] {
  const parts = pattern.split('/')
  let bases = [pattern.startsWith('/') ? '/' : '.']
  for (let i = pattern.startsWith('/') ? 1 : 0; i < parts.length; i++) {
    const part = parts[i]!
    if (part === '') continue
    const next: string[] = []
    if (!/[*?[]/.test(part)) {
      for (const b of bases) next.push(join(b, part))
    } else {
      const rx = globToRegExp(part)
      for (const b of bases) {
        let names: string[]
        try {
          names = readdirSync(b)
        } catch {
          continue
        }
        for (const n of names.sort())
          if (rx.test(n) && (!n.startsWith('.') || part.startsWith('.'))) next.push(join(b, n))
      }
    }
    bases = next
  }
  return bases.filter((p) => {
    try {
      statSync(p)
      return true
    } catch {
      return false
    }
  })
}

function globToRegExp(part: string): RegExp {
  let rx = ''
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!
    if (c === '*') rx += '[^/]*'
    else if (c === '?') rx += '[^/]'
    else if (c === '[') {
      const end = part.indexOf(']', i + 2)
      if (end < 0) rx += '\\['
      else {
        let set = part.slice(i + 1, end)
        if (set.startsWith('!')) set = `^${set.slice(1)}`
        rx += `[${set.replace(/\\/g, '\\\\')}]`
        i = end
      }
    } else rx += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${rx}$`)
}

interface DeviceDraft {
  name: string
  source: string
  keys: Map<string, { value: string; line: string; dir: string }>
}

/** Loads and validates a configuration; throws ConfigError listing every problem. */
export function loadConfig(options: LoadConfigOptions): Config {
  const env = options.env ?? process.env
  const { protocol, resolver } = options
  const errors: string[] = []
  const warnings: string[] = []
  const roles = new Map<string, Role>()
  const defaultUser: Principal = { name: '*', id: -1, roleNames: [], roles: [] }
  const users: Principal[] = []
  const groups: Principal[] = []
  const drafts = new Map<string, DeviceDraft>()
  const visited: string[] = []
  let mockDevice = false

  const roleOf = (name: string): Role => {
    let r = roles.get(name)
    if (!r) {
      r = newRole(name)
      roles.set(name, r)
    }
    return r
  }

  const yesNo = (v: string): boolean | null => (v === 'yes' ? true : v === 'no' ? false : null)

  const roleKey = (role: Role, key: string, value: string): string | null => {
    if (protocol === 'v0') {
      if (key === 'query-devices' || key === 'pcie-hotplug') {
        const b = yesNo(value)
        if (b === null) return `Invalid value for role ${key}: '${value}'`
        if (key === 'query-devices') role.query = b
        else role.pcieHotplug = b
        return null
      }
      if (key === 'bar-access') {
        if (value !== 'full') return `Invalid value for role bar-access: '${value}'`
        role.bar = true
        return null
      }
      if (key === 'device') {
        if (value !== 'any') return `Invalid value for role device: '${value}'`
        role.anyDevice = true
        return null
      }
      return `Unknown role key: '${key}'`
    }
    if (key !== 'query-devices') return `Unknown role key: '${key}'`
    const b = yesNo(value)
    if (b === null) return `Invalid value for role query-devices: '${value}'`
    role.query = b
    return null
  }

  const policyKey = (p: DevicePolicy, key: string, value: string): string | null => {
    if (key === 'bar-access') {
      if (value !== 'full') return `Invalid value for device bar-access: '${value}'`
      p.bar = true
      return null
    }
    const flag = POLICY_KEYS[key]
    if (flag === undefined) return `Unknown device policy key: '${key}'`
    const b = yesNo(value)
    if (b === null) return `Invalid value for device ${key}: '${value}'`
    p[flag] = b
    return null
  }

  const principal = (list: Principal[], kind: 'user' | 'group', name: string): Principal | string => {
    const found = list.find((p) => p.name === name)
    if (found) return found
    const id = kind === 'user' ? resolver.uidOf(name) : resolver.gidOf(name)
    if (id === null) return `Could not find ${kind === 'user' ? 'uid' : 'gid'} for ${kind} ${name}`
    const p: Principal = { name, id, roleNames: [], roles: [] }
    list.push(p)
    return p
  }

  const parseFile = (path: string, where: string): void => {
    let full: string
    try {
      full = realpathSync(path)
    } catch (e) {
      errors.push(`${where}: Error obtaining the canonical path for ${path} (${(e as { code?: string }).code})`)
      return
    }
    if (visited.includes(full)) return
    visited.push(full)
    let text: string
    try {
      text = readFileSync(full, 'utf8')
    } catch (e) {
      errors.push(`${where}: Could not open file ${full} (${(e as { code?: string }).code})`)
      return
    }
    parseText(text, full, dirname(full))
  }

  const parseText = (text: string, file: string, dir: string): void => {
    const at = (line: number): string => `${file}:${line}`
    const first = parseIni(
      text,
      (section, key, value, line) => {
        const fail = (msg: string): boolean => {
          errors.push(`${at(line)}: ${msg}`)
          return false
        }
        if (section === '' && key === 'include') {
          const before = errors.length
          parseFile(isAbsolute(value) ? value : resolve(dir, value), at(line))
          return errors.length === before
        }
        if (section === '' && key === 'include-glob') {
          const before = errors.length
          for (const f of globSync(isAbsolute(value) ? value : join(dir, value))) parseFile(f, `${at(line)} (${value})`)
          return errors.length === before
        }
        if (section === '' && key === 'enable-mock-device' && protocol !== 'v0') {
          mockDevice = ['1', 'y', 'yes', 'true'].includes(value)
          return true
        }
        const colon = section.indexOf(':')
        const kind = colon > 0 ? section.slice(0, colon) : ''
        const obj = colon > 0 ? section.slice(colon + 1) : ''
        if (kind === 'role' && obj !== '') {
          const sep = protocol === 'v0' ? -1 : obj.indexOf(':')
          if (sep < 0) {
            const err = roleKey(roleOf(obj), key, value)
            return err === null ? true : fail(`${err} (role ${obj})`)
          }
          const name = obj.slice(0, sep)
          const bdf = normalizeBdf(obj.slice(sep + 1))
          if (bdf === null) return fail(`Invalid device selector '${obj.slice(sep + 1)}' for role ${name}`)
          const role = roleOf(name)
          let p = role.policies.get(bdf)
          if (!p) {
            p = { ...NO_POLICY }
            role.policies.set(bdf, p)
          }
          const err = policyKey(p, key, value)
          return err === null ? true : fail(`${err} (role ${name} device ${bdf})`)
        }
        if ((kind === 'user' || kind === 'group') && obj !== '') {
          if (key !== 'role') return fail(`Invalid key/value for ${kind} ${obj}: '${key}' = '${value}'`)
          const p =
            kind === 'user' && obj === '*' ? defaultUser : principal(kind === 'user' ? users : groups, kind, obj)
          if (typeof p === 'string') return fail(p)
          p.roleNames.push(value)
          return true
        }
        if (kind === 'device' && obj !== '') {
          let d = drafts.get(obj)
          if (!d) {
            d = { name: obj, source: at(line), keys: new Map() }
            drafts.set(obj, d)
          }
          d.keys.set(key, { value, line: at(line), dir })
          return true
        }
        warnings.push(`${at(line)}: Unknown section/key: [${section}] ${key}`)
        return true
      },
      (section, line) => {
        // a [device:NAME] section defines a device even without keys (a default simulated one)
        if (section.startsWith('device:') && section.length > 7 && !drafts.has(section.slice(7))) {
          drafts.set(section.slice(7), { name: section.slice(7), source: at(line), keys: new Map() })
        }
      },
    )
    if (first !== 0 && !errors.some((e) => e.startsWith(`${at(first)}:`))) errors.push(`${at(first)}: Parse error`)
  }

  if (options.text !== undefined) {
    parseText(options.text, '<config>', resolve(options.baseDir ?? '.'))
  } else {
    const path = options.path ?? (env.VRTD_CONFIG || DEFAULT_CONFIG_PATH)
    parseFile(path, 'config')
  }

  // phase 2: role names → roles (unknown names warn, as upstream)
  for (const p of [defaultUser, ...users, ...groups]) {
    for (const n of p.roleNames) {
      const r = roles.get(n)
      if (r) p.roles.push(r)
      else warnings.push(`Failed to find role ${n} for ${p === defaultUser ? 'user *' : p.name}`)
    }
  }

  const devices = buildDevices([...drafts.values()], mockDevice, errors)
  if (errors.length > 0) throw new ConfigError(errors)
  return { protocol, roles, defaultUser, users, groups, devices, mockDevice, files: visited, warnings }
}

const DEVICE_KEYS = new Set([
  'type',
  'bdf',
  'vendor-id',
  'device-id',
  'subsystem-vendor-id',
  'subsystem-device-id',
  'pci',
  'sysfs',
  'bars',
])

function buildDevices(drafts: DeviceDraft[], mock: boolean, errors: string[]): DeviceSpec[] {
  const out: DeviceSpec[] = []
  const sorted = drafts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  sorted.forEach((d, i) => {
    const get = (k: string): string | undefined => d.keys.get(k)?.value
    const err = (k: string, msg: string): void => {
      errors.push(`${d.keys.get(k)?.line ?? d.source}: device ${d.name}: ${msg}`)
    }
    for (const [k] of d.keys) {
      if (!DEVICE_KEYS.has(k) && !/^bar[0-5](-start|-file)?$/.test(k)) err(k, `Unknown device key: '${k}'`)
    }
    if (d.name.includes('/')) err('type', 'device names cannot contain /')
    const type = (get('type') ?? 'sim') as DeviceType
    if (!['sim', 'mock', 'file', 'pci'].includes(type)) {
      err('type', `Invalid value for device type: '${type}' (sim, mock, file or pci)`)
      return
    }
    const ids = {
      vendorId: 0x10ee,
      deviceId: 0x50b4,
      subsystemVendorId: 0x10ee,
      subsystemDeviceId: 0x000e,
    }
    const idKeys = [
      ['vendor-id', 'vendorId'],
      ['device-id', 'deviceId'],
      ['subsystem-vendor-id', 'subsystemVendorId'],
      ['subsystem-device-id', 'subsystemDeviceId'],
    ] as const
    for (const [k, f] of idKeys) {
      const v = get(k)
      if (v === undefined) continue
      const n = parseU16(v)
      if (n === null) err(k, `Invalid value for ${k}: '${v}'`)
      else ids[f] = n
    }
    let bdf = `0000:${(0x65 + i).toString(16).padStart(2, '0')}:00`
    const bdfValue = get('bdf') ?? (type === 'pci' ? get('pci') : undefined)
    if (bdfValue !== undefined) {
      const n = normalizeBdf(bdfValue)
      if (n === null || n === 'any' || !/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}$/i.test(n))
        err('bdf', `Invalid BDF '${bdfValue}'`)
      else bdf = n.toLowerCase()
    }
    const spec: DeviceSpec = { name: d.name, type, bdf, ...ids, bars: [], source: d.source }
    for (let n = 0; n < 6; n++) {
      const size = get(`bar${n}`)
      const start = get(`bar${n}-start`)
      const file = get(`bar${n}-file`)
      if (size === undefined && file === undefined) {
        if (start !== undefined) err(`bar${n}-start`, `bar${n}-start without bar${n}`)
        continue
      }
      if (type === 'pci' || type === 'mock') {
        err(`bar${n}`, `${type} devices take their BARs from ${type === 'pci' ? 'sysfs' : 'libslash mock mode'}`)
        continue
      }
      const length = size === undefined ? 0 : parseSize(size)
      if (length === null) {
        err(`bar${n}`, `Invalid size for bar${n}: '${size}'`)
        continue
      }
      if (type === 'sim' && (length <= 0 || length % 4096 !== 0)) {
        err(`bar${n}`, `bar${n} must be a positive multiple of 4096 bytes, got ${length}`)
        continue
      }
      if (type === 'sim' && file !== undefined) err(`bar${n}-file`, 'sim BARs are memfds; use type = file')
      if (type === 'file' && file === undefined) {
        err(`bar${n}`, `file devices need bar${n}-file`)
        continue
      }
      let startAddr = 0x3800_0000_0000n + BigInt(i) * 0x1_0000_0000n + BigInt(n) * 0x1000_0000n
      if (start !== undefined) {
        const a = parseAddress(start)
        if (a === null) err(`bar${n}-start`, `Invalid address '${start}'`)
        else startAddr = a
      }
      const bar: BarSpec = { num: n, length, start: startAddr }
      if (file !== undefined) {
        const where = d.keys.get(`bar${n}-file`)!
        bar.file = isAbsolute(file) ? file : resolve(where.dir, file)
      }
      spec.bars.push(bar)
    }
    if (type === 'mock') spec.bars = [{ num: 0, length: 64 * 2 ** 20, start: 0n }]
    if (type === 'sim' && spec.bars.length === 0)
      spec.bars.push({ num: 0, length: 64 * 2 ** 20, start: 0x3800_0000_0000n + BigInt(i) * 0x1_0000_0000n })
    if (type === 'pci') {
      const addr = get('pci')
      if (addr === undefined) err('type', 'pci devices need pci = DDDD:BB:DD.F')
      else if (!/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(addr))
        err('pci', `Invalid PCI address '${addr}' (DDDD:BB:DD.F)`)
      else spec.pciAddress = addr.toLowerCase()
      spec.sysfs = get('sysfs') ?? '/sys'
      const bars = get('bars')
      if (bars !== undefined) {
        const nums = bars.split(',').map((s) => Number(s.trim()))
        if (nums.some((x) => !Number.isInteger(x) || x < 0 || x > 5)) err('bars', `Invalid BAR list '${bars}'`)
        else spec.bars = nums.map((num) => ({ num, length: 0, start: 0n }))
      }
    } else if (get('pci') !== undefined || get('sysfs') !== undefined || get('bars') !== undefined) {
      err('pci', 'pci, sysfs and bars apply to type = pci only')
    }
    out.push(spec)
  })
  if (mock && !out.some((d) => d.name === '@mock')) {
    out.push({
      name: '@mock',
      type: 'mock',
      bdf: '0000:00:00',
      vendorId: 0x10ee,
      deviceId: 0x50b4,
      subsystemVendorId: 0x10ee,
      subsystemDeviceId: 0x000e,
      bars: [{ num: 0, length: 64 * 2 ** 20, start: 0n }],
      source: 'enable-mock-device',
    })
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }
  return out
}
