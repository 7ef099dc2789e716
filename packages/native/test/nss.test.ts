import { readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { getgrgid, getgrnam, getgrouplist, getpwnam, getpwuid, XNativeError } from '@x/native'
import { describe, expect, it } from 'vitest'

// /etc/group, parsed only to cross-check the NSS answers on this machine (files backend).
function etcGroups(): { name: string; gid: number; members: string[] }[] {
  return readFileSync('/etc/group', 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [name, , gid, members] = l.split(':')
      return { name: name!, gid: Number(gid), members: members ? members.split(',').filter(Boolean) : [] }
    })
}

describe('name service lookups', () => {
  it('getpwuid / getpwnam agree with os.userInfo() for this process', () => {
    const me = userInfo()
    const byUid = getpwuid(me.uid)
    expect(byUid).toMatchObject({ name: me.username, uid: me.uid, gid: me.gid, dir: me.homedir })
    expect(getpwnam(me.username)).toEqual(byUid)
  })

  it('root is uid 0, gid 0', () => {
    expect(getpwuid(0)).toMatchObject({ name: 'root', uid: 0, gid: 0 })
    expect(getpwnam('root')?.uid).toBe(0)
  })

  it('unknown names and ids are null, not errors', () => {
    expect(getpwnam('x-native-no-such-user')).toBeNull()
    expect(getgrnam('x-native-no-such-group')).toBeNull()
    expect(getpwuid(4_000_000_000)).toBeNull()
    expect(getgrgid(4_000_000_000)).toBeNull()
  })

  it('getgrnam / getgrgid return the group with its members', () => {
    const root = getgrgid(0)
    expect(root).toMatchObject({ name: 'root', gid: 0 })
    expect(getgrnam(root!.name)).toEqual(root)
    for (const g of etcGroups().slice(0, 10)) {
      expect(getgrgid(g.gid)).toMatchObject({ gid: g.gid })
      expect(getgrnam(g.name)?.members.sort()).toEqual([...g.members].sort())
    }
  })

  it('getgrouplist: the given gid first, then the groups listing the user', () => {
    const groups = etcGroups()
    const withMember = groups.find((g) => g.members.length > 0)
    const user = withMember?.members[0] ?? 'root'
    const pw = getpwnam(user)
    const list = getgrouplist(user, pw?.gid ?? 0)
    expect(list[0]).toBe(pw?.gid ?? 0)
    const expected = new Set([pw?.gid ?? 0, ...groups.filter((g) => g.members.includes(user)).map((g) => g.gid)])
    expect(new Set(list)).toEqual(expected)
    // any gid may be passed as the primary one, even one without a group entry
    expect(getgrouplist('x-native-no-such-user', 4242)).toEqual([4242])
  })

  it('rejects bad ids', () => {
    expect(() => getpwuid(-1)).toThrow(XNativeError)
    expect(() => getgrgid(1.5)).toThrow(XNativeError)
  })
})
