// Authorization exactly as upstream's auth.c: a client's effective role is the OR of the roles of [user:*], of every
// [user:…] with its uid and of every [group:…] whose gid is in its group list, computed at its first request and
// cached for the connection (until a reload). v1.0 device operations also need `query-devices` and an existing
// device, then the policy whose BDF matches the device exactly — or else `any`; an exact match replaces `any`.
import type { Config, DevicePolicy, PolicyFlag } from './config.js'

export interface EffectiveRole {
  query: boolean
  policies: Map<string, DevicePolicy>
  /** v0 flags. */
  anyDevice: boolean
  bar: boolean
  pcieHotplug: boolean
  /** Names of the roles merged (for the denial log). */
  names: string[]
}

/** The merged role of a client (upstream ensure_role / role_merge_add_role). */
export function effectiveRole(config: Config, uid: number, gids: readonly number[]): EffectiveRole {
  const r: EffectiveRole = {
    query: false,
    policies: new Map(),
    anyDevice: false,
    bar: false,
    pcieHotplug: false,
    names: [],
  }
  const roles = [...config.defaultUser.roles]
  for (const u of config.users) if (u.id === uid) roles.push(...u.roles)
  for (const g of config.groups) if (gids.includes(g.id)) roles.push(...g.roles)
  for (const role of roles) {
    r.names.push(role.name)
    r.query ||= role.query
    r.anyDevice ||= role.anyDevice
    r.bar ||= role.bar
    r.pcieHotplug ||= role.pcieHotplug
    for (const [bdf, p] of role.policies) {
      let d = r.policies.get(bdf)
      if (!d) {
        d = {
          bar: false,
          qdma: false,
          buffer: false,
          designWrite: false,
          clock: false,
          pcieHotplug: false,
          rawMemAccess: false,
        }
        r.policies.set(bdf, d)
      }
      for (const k of Object.keys(p) as PolicyFlag[]) d[k] ||= p[k]
    }
  }
  return r
}

/** Config key names of the policy flags (for messages). */
export const FLAG_KEYS: Record<PolicyFlag, string> = {
  bar: 'bar-access',
  qdma: 'qdma',
  buffer: 'buffer',
  designWrite: 'design-write',
  clock: 'clock',
  pcieHotplug: 'pcie-hotplug',
  rawMemAccess: 'raw-mem-access',
}

/** What each v1.0 opcode needs: 'query' or a device policy flag. */
export const V1_NEEDS: readonly ('query' | PolicyFlag)[] = [
  'query', // 0 GET_NUM_DEVICES
  'query', // 1 GET_DEVICE_INFO
  'query', // 2 GET_BAR_INFO
  'bar', // 3 GET_BAR_FD
  'query', // 4 QDMA_GET_INFO
  'qdma', // 5 QDMA_QPAIR_ADD
  'qdma', // 6 QDMA_QPAIR_OP
  'qdma', // 7 QDMA_QPAIR_GET_FD
  'designWrite', // 8 DESIGN_WRITE
  'clock', // 9 CLOCK_OP
  'buffer', // 10 BUFFER_OPEN
  'buffer', // 11 BUFFER_CLOSE
  'query', // 12 GET_DEVICE_BY_BDF
  'pcieHotplug', // 13 DEVICE_HOTPLUG_OP
  'query', // 14 GET_SENSOR_INFO
  'rawMemAccess', // 15 BUFFER_OPEN_RAW
]

/**
 * upstream auth_check_device_permission: null when allowed, else the missing permission (for the log). A device
 * index out of range is denied without a message ('' ), as upstream does.
 */
export function checkDevicePermission(
  role: EffectiveRole,
  deviceBdfs: readonly string[],
  dev: number,
  flag: PolicyFlag,
): string | null {
  if (!role.query) return 'query'
  if (dev >= deviceBdfs.length) return ''
  const bdf = deviceBdfs[dev]!
  const policy = role.policies.get(bdf) ?? role.policies.get('any')
  if (!policy?.[flag]) return `${FLAG_KEYS[flag]} (device ${bdf})`
  return null
}
