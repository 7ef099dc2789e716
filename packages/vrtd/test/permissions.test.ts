// Multi-tenancy with real credentials: clients are spawned under other uids and gids; the daemon identifies them
// by SO_PEERCRED and the NSS group database (a spawned child has no supplementary groups — libuv calls
// setgroups(0) — so group roles reach the daemon only through getgrouplist, as upstream reads them).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { getgrgid, getgrnam, getpwnam } from '@x/native'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtures, isRoot, killChildren, runNode, startDaemon, type TestDaemon } from './helpers.js'

interface Probe {
  ok: boolean
  reason: string
}

function probe(): Probe {
  if (!isRoot) return { ok: false, reason: 'needs root to spawn clients under other uids' }
  if (!getpwnam('nobody')) return { ok: false, reason: 'needs a nobody user' }
  return { ok: true, reason: 'root' }
}
const p = probe()

/** A (user, group) pair from the group database where the group lists the user; created when there is none. */
function supplementaryPair(): { user: string; uid: number; gid: number; group: string; created: string[] } {
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const [name, , , members] = line.split(':')
    for (const m of (members ?? '').split(',').filter(Boolean)) {
      const pw = getpwnam(m)
      if (pw && pw.uid !== 0 && m !== 'nobody' && name && getgrnam(name)) {
        return { user: m, uid: pw.uid, gid: pw.gid, group: name, created: [] }
      }
    }
  }
  const tag = `vrtdt${process.pid}`
  execFileSync('groupadd', [tag])
  execFileSync('useradd', ['-M', '-N', '-g', tag, '-s', '/usr/sbin/nologin', tag])
  const board = `${tag}b`
  execFileSync('groupadd', ['-U', tag, board])
  const pw = getpwnam(tag)!
  return { user: tag, uid: pw.uid, gid: pw.gid, group: board, created: [tag] }
}

/** A group nobody is not in (by the group database), for a "primary gid" grant. */
function primaryOnlyGroup(): { name: string; gid: number } {
  for (const gid of [50, 100, 10, 20, 24, 25, 29, 30, 40, 60]) {
    const g = getgrgid(gid)
    if (g && !g.members.includes('nobody')) return { name: g.name, gid }
  }
  throw new Error('no spare group found')
}

const NOBODY = 65534

describe.skipIf(!p.ok)(`permissions with real credentials (${p.reason})`, () => {
  let d: TestDaemon
  let strict: TestDaemon
  let pair: ReturnType<typeof supplementaryPair>
  let staff: { name: string; gid: number }

  beforeAll(() => {
    pair = supplementaryPair()
    staff = primaryOnlyGroup()
    const roles = `[role:fullaccess]
query-devices = yes
[role:fullaccess:any]
bar-access = full
[role:info]
query-devices = yes
[role:board:0000:65:00]
bar-access = full
[role:limited:0000:65:00]
qdma = yes
[user:root]
role = fullaccess
[user:*]
role = info
[device:slash_ctl0]
bdf = 0000:65:00
bar0 = 4K
[device:slash_ctl1]
bdf = 0000:66:00
bar0 = 4K
`
    d = startDaemon({
      configText: `${roles}[group:${staff.name}]\nrole = fullaccess\n[group:${pair.group}]\nrole = board\n`,
    })
    strict = startDaemon({ configText: `${roles}[user:nobody]\nrole = fullaccess\nrole = limited\n` })
  })

  afterAll(() => {
    killChildren()
    d?.close()
    strict?.close()
    for (const name of pair?.created ?? []) {
      try {
        execFileSync('userdel', [name])
      } catch {}
      for (const g of [`${name}b`, name]) {
        try {
          execFileSync('groupdel', [g])
        } catch {}
      }
    }
  })

  const steps = [{ op: 'whoami' }, { op: 'num' }, { op: 'barfd', dev: 0, bar: 0 }, { op: 'barfd', dev: 1, bar: 0 }]

  async function as(uid: number, gid: number, path: string, s: object[] = steps): Promise<unknown[]> {
    const r = await runNode([join(fixtures, 'client.mjs'), JSON.stringify(s)], {
      uid,
      gid,
      env: { VRTD_SOCKET: path, HOME: '/' },
    })
    expect(r.stderr).toBe('')
    return JSON.parse(r.stdout)
  }

  it('[user:*] info only: queries yes, BAR fds no', async () => {
    expect(await as(NOBODY, NOBODY, d.path)).toEqual([
      { ok: { uid: NOBODY, gid: NOBODY } },
      { ok: 2 },
      { err: 'AUTH_ERROR' },
      { err: 'AUTH_ERROR' },
    ])
    expect(d.logs.text()).toMatch(
      /Permission denied for uid 65534\(nobody\): 'get_bar_fd' requires 'bar-access \(device 0000:65:00\)'/,
    )
  })

  it('a group role through the primary gid (spawn gid)', async () => {
    expect(await as(NOBODY, staff.gid, d.path)).toEqual([
      { ok: { uid: NOBODY, gid: staff.gid } },
      { ok: 2 },
      { ok: 4096 },
      { ok: 4096 },
    ])
  })

  it('a group role through the group database (getgrouplist), scoped to one BDF', async () => {
    expect(await as(pair.uid, pair.gid, d.path)).toEqual([
      { ok: { uid: pair.uid, gid: pair.gid } },
      { ok: 2 },
      { ok: 4096 },
      { err: 'AUTH_ERROR' },
    ])
  })

  it('root has full access', async () => {
    expect((await as(0, 0, d.path)).slice(1)).toEqual([{ ok: 2 }, { ok: 4096 }, { ok: 4096 }])
  })

  it('an exact-BDF role without bar-access overrides fullaccess on that device', async () => {
    expect((await as(NOBODY, NOBODY, strict.path)).slice(1)).toEqual([{ ok: 2 }, { err: 'AUTH_ERROR' }, { ok: 4096 }])
  })

  it('a uid without a passwd entry is disconnected without a reply', async () => {
    const r = await as(4242, 4242, d.path, [{ op: 'num' }])
    expect(r).toEqual([{ err: 'BAD_CONN', reason: 'PEER_CLOSED' }])
    expect(d.logs.text()).toMatch(/No passwd entry for uid 4242/)
  })

  it('the lent BAR works across uids: a write by one tenant is read by another', async () => {
    expect(await as(NOBODY, staff.gid, d.path, [{ op: 'write32', dev: 1, bar: 0, off: 8, value: 0x600d }])).toEqual([
      { ok: 0x600d },
    ])
    expect(await as(0, 0, d.path, [{ op: 'read32', dev: 1, bar: 0, off: 8 }])).toEqual([{ ok: 0x600d }])
  })

  it('a 0660 socket keeps other uids out at connect (EACCES)', async () => {
    const locked = startDaemon({ socketMode: 0o660 })
    try {
      expect(await as(NOBODY, NOBODY, locked.path, [{ op: 'num' }])).toEqual([
        { err: 'BAD_CONN', reason: 'CONNECT_FAILED', cause: 'EACCES' },
      ])
    } finally {
      locked.close()
    }
  })
})
