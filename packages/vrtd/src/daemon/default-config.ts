// The default configurations upstream ships (vrt/vrtd/conf/vrtd.conf; license header and blank lines dropped) and
// the embedded one the simulator starts with when given no file: main's roles plus one simulated device.

/** Xilinx/SLASH vrt/vrtd/conf/vrtd.conf at main (26f9c55c). */
export const UPSTREAM_CONFIG_V1 = `include-glob = vrtd.conf.d/*.conf
[role:fullaccess]
query-devices = yes
[role:fullaccess:any]
bar-access = full
qdma = yes
buffer = yes
design-write = yes
clock = yes
pcie-hotplug = yes
raw-mem-access = yes
[role:info]
query-devices = yes
[user:root]
role = fullaccess
[group:vrtadmin]
role = fullaccess
[user:*]
role = info
`

/** Xilinx/SLASH vrt/vrtd/conf/vrtd.conf at v0 (f8e2d89c; note vrt.conf.d). */
export const UPSTREAM_CONFIG_V0 = `include-glob = vrt.conf.d/*.conf
[role:fullaccess]
device = any
bar-access = full
pcie-hotplug = yes
[role:info]
query-devices = yes
[user:root]
role = fullaccess
[group:vrtadmin]
role = fullaccess
[user:*]
role = info
`

export interface SimulatorConfigOptions {
  /** Users granted fullaccess besides root (default: none). */
  users?: string[]
  /** Groups granted fullaccess (default: none; upstream's vrtadmin only if you list it — it must exist). */
  groups?: string[]
  /** Simulated devices (default: one, slash_ctl0, BAR0 64 MiB and BAR2 128 KiB). */
  devices?: { name: string; bars?: Record<number, number>; bdf?: string }[]
}

/**
 * An embedded v1.0 configuration for the simulator: upstream's roles ([role:fullaccess], [role:info],
 * [user:root], [user:*]) with fullaccess for the listed users and groups, and simulated devices.
 */
export function simulatorConfig(options: SimulatorConfigOptions = {}): string {
  const lines = [
    '[role:fullaccess]',
    'query-devices = yes',
    '[role:fullaccess:any]',
    'bar-access = full',
    'qdma = yes',
    'buffer = yes',
    'design-write = yes',
    'clock = yes',
    'pcie-hotplug = yes',
    'raw-mem-access = yes',
    '[role:info]',
    'query-devices = yes',
    '[user:root]',
    'role = fullaccess',
  ]
  for (const u of options.users ?? []) if (u !== 'root') lines.push(`[user:${u}]`, 'role = fullaccess')
  for (const g of options.groups ?? []) lines.push(`[group:${g}]`, 'role = fullaccess')
  lines.push('[user:*]', 'role = info')
  const devices = options.devices ?? [{ name: 'slash_ctl0', bars: { 0: 64 * 2 ** 20, 2: 128 * 2 ** 10 } }]
  for (const d of devices) {
    lines.push(`[device:${d.name}]`, 'type = sim')
    if (d.bdf) lines.push(`bdf = ${d.bdf}`)
    for (const [n, size] of Object.entries(d.bars ?? { 0: 64 * 2 ** 20 })) lines.push(`bar${n} = ${size}`)
  }
  return `${lines.join('\n')}\n`
}
