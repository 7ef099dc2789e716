// The INI reader (inih's rules), the config loader per revision, and the authorization engine (auth.c's rules).
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ConfigError,
  checkDevicePermission,
  effectiveRole,
  globSync,
  loadConfig,
  normalizeBdf,
  type Protocol,
  parseIni,
  parseSize,
  simulatorConfig,
  UPSTREAM_CONFIG_V0,
  UPSTREAM_CONFIG_V1,
} from '@x/vrtd'
import { afterEach, describe, expect, it } from 'vitest'
import { fakeResolver, tempDir } from './helpers.js'

const resolver = fakeResolver(
  {
    root: { uid: 0, gid: 0 },
    alice: { uid: 1000, gid: 1000, groups: [500] },
    bob: { uid: 1001, gid: 1001, groups: [600] },
    carol: { uid: 1002, gid: 1002 },
  },
  { vrtadmin: 500, board: 600, staff: 50 },
)

const load = (text: string, protocol: Protocol = 'v1.0', baseDir?: string) =>
  loadConfig({ text, protocol, resolver, baseDir })

function ini(text: string): [string, string, string, number][] {
  const out: [string, string, string, number][] = []
  const err = parseIni(text, (s, k, v, l) => {
    out.push([s, k, v, l])
    return true
  })
  if (err) out.push(['!error', '', '', err])
  return out
}

describe('INI reader (inih rules)', () => {
  it('sections, = and :, trimming, comments', () => {
    expect(
      ini(
        '\uFEFFa = 1\n; comment\n# comment\n[s:x]\n  \nkey: value with spaces  \nk2=v2 ; inline\nk3 = v;not-a-comment\n',
      ),
    ).toEqual([
      ['', 'a', '1', 1],
      ['s:x', 'key', 'value with spaces', 6],
      ['s:x', 'k2', 'v2', 7],
      ['s:x', 'k3', 'v;not-a-comment', 8],
    ])
  })

  it('indented lines continue the previous name', () => {
    expect(ini('[r]\nrole = a\n  b\n')).toEqual([
      ['r', 'role', 'a', 2],
      ['r', 'role', 'b', 3],
    ])
  })

  it('reports the first bad line and keeps going', () => {
    expect(ini('[ok]\nnovalue\n[broken\nk = v\n')).toEqual([
      ['ok', 'k', 'v', 4],
      ['!error', '', '', 2],
    ])
  })
})

describe('config loading', () => {
  const temps: (() => void)[] = []
  afterEach(() => {
    for (const c of temps.splice(0)) c()
  })

  it('reads upstream main default in v1.0 mode', () => {
    const c = load(UPSTREAM_CONFIG_V1)
    expect([...c.roles.keys()]).toEqual(['fullaccess', 'info'])
    const full = c.roles.get('fullaccess')!
    expect(full.query).toBe(true)
    expect(full.policies.get('any')).toEqual({
      bar: true,
      qdma: true,
      buffer: true,
      designWrite: true,
      clock: true,
      pcieHotplug: true,
      rawMemAccess: true,
    })
    expect(c.users.map((u) => [u.name, u.id])).toEqual([['root', 0]])
    expect(c.groups.map((g) => [g.name, g.id])).toEqual([['vrtadmin', 500]])
    expect(c.defaultUser.roleNames).toEqual(['info'])
    expect(c.devices).toEqual([])
  })

  it('accepts the v0 default in v0 mode and rejects it in v1.0 mode ("Unknown role key")', () => {
    const v0 = load(UPSTREAM_CONFIG_V0, 'v0')
    const full = v0.roles.get('fullaccess')!
    expect([full.anyDevice, full.bar, full.pcieHotplug, full.query]).toEqual([true, true, true, false])
    expect(() => load(UPSTREAM_CONFIG_V0, 'v1.0')).toThrow(/Unknown role key: 'device'/)
    // and the v1.0 default is not a v0 config
    expect(() => load(UPSTREAM_CONFIG_V1, 'v0')).toThrow(ConfigError)
  })

  it('bad role keys and values, bad user keys and unknown users/groups are fatal', () => {
    expect(() => load('[role:x]\nquery-devices = maybe\n')).toThrow(/Invalid value for role query-devices/)
    expect(() => load('[role:x:any]\nbar-access = read\n')).toThrow(/Invalid value for device bar-access/)
    expect(() => load('[role:x:any]\nteleport = yes\n')).toThrow(/Unknown device policy key/)
    expect(() => load('[role:x:65]\nqdma = yes\n')).toThrow(/Invalid device selector/)
    expect(() => load('[user:nosuchuser]\nrole = info\n')).toThrow(/Could not find uid for user nosuchuser/)
    expect(() => load('[group:nosuchgroup]\nrole = info\n')).toThrow(/Could not find gid for group nosuchgroup/)
    expect(() => load('[user:alice]\ncolour = blue\n')).toThrow(/Invalid key\/value for user alice/)
    expect(() => load('[role:x]\nnovalue\n')).toThrow(/Parse error/)
  })

  it('unknown top-level keys and sections, and undefined role names, only warn', () => {
    const c = load('colour = blue\n[mystery]\nk = v\n[user:alice]\nrole = nosuchrole\n')
    expect(c.warnings.join('\n')).toMatch(/Unknown section\/key: \[\] colour/)
    expect(c.warnings.join('\n')).toMatch(/Unknown section\/key: \[mystery\] k/)
    expect(c.warnings.join('\n')).toMatch(/Failed to find role nosuchrole for alice/)
    expect(c.users[0]!.roles).toEqual([])
  })

  it('normalises BDF selectors like upstream normalize_bdf', () => {
    expect(normalizeBdf('any')).toBe('any')
    expect(normalizeBdf('65:00')).toBe('0000:65:00')
    expect(normalizeBdf('65:00.1')).toBe('0000:65:00')
    expect(normalizeBdf('0001:65:00.3')).toBe('0001:65:00')
    expect(normalizeBdf('65')).toBeNull()
    const c = load('[role:board:65:00.1]\nbar-access = full\n')
    expect([...c.roles.get('board')!.policies.keys()]).toEqual(['0000:65:00'])
  })

  it('include and include-glob resolve against the including file; cycles are skipped', () => {
    const t = tempDir()
    temps.push(t.cleanup)
    mkdirSync(join(t.dir, 'vrtd.conf.d'))
    mkdirSync(join(t.dir, 'other'))
    writeFileSync(
      join(t.dir, 'vrtd.conf'),
      'include-glob = vrtd.conf.d/*.conf\ninclude = other/extra.ini\n[user:*]\nrole = info\n',
    )
    writeFileSync(join(t.dir, 'vrtd.conf.d', '10-a.conf'), 'include = ../vrtd.conf\n[role:info]\nquery-devices = yes\n')
    writeFileSync(join(t.dir, 'vrtd.conf.d', '20-b.conf'), '[role:board:any]\nbar-access = full\n')
    writeFileSync(join(t.dir, 'vrtd.conf.d', '.hidden.conf'), 'garbage\n')
    writeFileSync(join(t.dir, 'other', 'extra.ini'), '[group:board]\nrole = board\n')
    symlinkSync(join(t.dir, 'vrtd.conf'), join(t.dir, 'link.conf'))
    const c = loadConfig({ path: join(t.dir, 'link.conf'), protocol: 'v1.0', resolver })
    expect(c.files.map((f) => f.slice(t.dir.length + 1))).toEqual([
      'vrtd.conf',
      'vrtd.conf.d/10-a.conf',
      'vrtd.conf.d/20-b.conf',
      'other/extra.ini',
    ])
    expect(c.roles.get('info')!.query).toBe(true)
    expect(c.groups[0]!.roles[0]!.name).toBe('board')
    expect(globSync(join(t.dir, 'vrtd.conf.d', '[12]*.conf')).length).toBe(2)
    // a missing include is fatal
    expect(() => load('include = nope.conf\n', 'v1.0', t.dir)).toThrow(/canonical path/)
    // $VRTD_CONFIG picks the file
    expect(
      loadConfig({ protocol: 'v1.0', resolver, env: { VRTD_CONFIG: join(t.dir, 'vrtd.conf') } }).files.length,
    ).toBe(4)
  })

  it('device sections: sim by default, sorted by name, validated', () => {
    const c = load(
      '[device:slash_ctl1]\nbar0 = 4K\nbar2 = 0x10000\nbar2-start = 0xe0000000\nvendor-id = 0x10ee\n[device:slash_ctl0]\nbdf = 65:00.0\n',
    )
    expect(c.devices.map((d) => [d.name, d.type, d.bdf])).toEqual([
      ['slash_ctl0', 'sim', '0000:65:00'],
      ['slash_ctl1', 'sim', '0000:66:00'],
    ])
    expect(c.devices[0]!.bars).toEqual([{ num: 0, length: 64 * 2 ** 20, start: 0x3800_0000_0000n }])
    expect(c.devices[1]!.bars.map((b) => [b.num, b.length, b.start])).toEqual([
      [0, 4096, 0x3800_0000_0000n + 0x1_0000_0000n],
      [2, 65536, 0xe0000000n],
    ])
    expect(() => load('[device:d]\nbar0 = 1000\n')).toThrow(/multiple of 4096/)
    expect(() => load('[device:d]\ntype = fpga\n')).toThrow(/Invalid value for device type/)
    expect(() => load('[device:d]\ncolour = red\n')).toThrow(/Unknown device key/)
    expect(() => load('[device:d]\ntype = pci\n')).toThrow(/pci devices need pci/)
    expect(() => load('[device:d]\ntype = file\nbar0 = 4K\n')).toThrow(/need bar0-file/)
    expect(load('enable-mock-device = yes\n').devices.map((d) => [d.name, d.type])).toEqual([['@mock', 'mock']])
    expect(load('enable-mock-device = yes\n', 'v0').devices).toEqual([])
    expect(parseSize('64M')).toBe(64 * 2 ** 20)
    expect(parseSize('0x1000')).toBe(4096)
    expect(parseSize('lots')).toBeNull()
  })

  it('the embedded simulator config loads', () => {
    const c = load(simulatorConfig({ users: ['alice'], groups: ['staff'] }))
    expect(c.devices.map((d) => d.name)).toEqual(['slash_ctl0'])
    expect(c.devices[0]!.bars.map((b) => b.num)).toEqual([0, 2])
    expect(c.users.map((u) => u.name)).toEqual(['root', 'alice'])
    expect(c.groups.map((g) => g.name)).toEqual(['staff'])
  })
})

describe('authorization (auth.c)', () => {
  const bdfs = ['0000:65:00', '0000:66:00']

  it('OR-merges [user:*], user and group roles', () => {
    const c = load(`${UPSTREAM_CONFIG_V1}[role:board:0000:65:00]\nbar-access = full\n[group:board]\nrole = board\n`)
    const carol = effectiveRole(c, 1002, [1002])
    expect(carol.names).toEqual(['info'])
    expect(carol.query).toBe(true)
    expect(checkDevicePermission(carol, bdfs, 0, 'bar')).toBe('bar-access (device 0000:65:00)')
    const alice = effectiveRole(c, 1000, [1000, 500]) // vrtadmin through her groups
    expect(alice.names).toEqual(['info', 'fullaccess'])
    expect(checkDevicePermission(alice, bdfs, 1, 'bar')).toBeNull()
    const bob = effectiveRole(c, 1001, [1001, 600])
    expect(checkDevicePermission(bob, bdfs, 0, 'bar')).toBeNull()
    expect(checkDevicePermission(bob, bdfs, 1, 'bar')).toBe('bar-access (device 0000:66:00)')
    expect(checkDevicePermission(effectiveRole(c, 0, [0]), bdfs, 1, 'rawMemAccess')).toBeNull()
  })

  it('an exact-BDF policy replaces `any` (no OR across them)', () => {
    const c = load(
      `${UPSTREAM_CONFIG_V1}[role:limited:0000:65:00]\nqdma = yes\n[user:carol]\nrole = fullaccess\nrole = limited\n`,
    )
    const carol = effectiveRole(c, 1002, [1002])
    expect(checkDevicePermission(carol, bdfs, 0, 'bar')).toBe('bar-access (device 0000:65:00)')
    expect(checkDevicePermission(carol, bdfs, 0, 'qdma')).toBeNull()
    expect(checkDevicePermission(carol, bdfs, 1, 'bar')).toBeNull()
  })

  it('device operations need query-devices and an existing device', () => {
    const c = load('[role:bare:any]\nbar-access = full\n[user:carol]\nrole = bare\n')
    const carol = effectiveRole(c, 1002, [1002])
    expect(checkDevicePermission(carol, bdfs, 0, 'bar')).toBe('query')
    const c2 = load(UPSTREAM_CONFIG_V1)
    expect(checkDevicePermission(effectiveRole(c2, 0, [0]), bdfs, 99, 'bar')).toBe('')
  })

  it('v0 merges device = any and bar-access', () => {
    const c = load(UPSTREAM_CONFIG_V0, 'v0')
    const root = effectiveRole(c, 0, [0])
    expect([root.query, root.anyDevice, root.bar]).toEqual([true, true, true])
    const carol = effectiveRole(c, 1002, [1002])
    expect([carol.query, carol.anyDevice, carol.bar]).toEqual([true, false, false])
  })
})
