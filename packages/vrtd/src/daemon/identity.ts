// Who a peer is: uid → user name via getpwuid, name + gid → groups via getgrouplist, and the names a config
// refers to via getpwnam / getgrnam — the NSS passwd and group databases, exactly what upstream vrtd reads (not the
// peer process's supplementary groups). Injectable for unit tests.
import { getgrnam, getgrouplist, getpwnam, getpwuid } from '@x/native'

export interface IdentityResolver {
  /** The passwd entry of uid (name and primary gid), or null when the uid has none. */
  userByUid(uid: number): { name: string; gid: number } | null
  /** uid of a user name, or null. */
  uidOf(name: string): number | null
  /** gid of a group name, or null. */
  gidOf(name: string): number | null
  /** The group list of a user whose primary gid is gid (gid included). */
  groupsOf(name: string, gid: number): number[]
}

export const nssResolver: IdentityResolver = {
  userByUid(uid) {
    const pw = getpwuid(uid)
    return pw ? { name: pw.name, gid: pw.gid } : null
  },
  uidOf(name) {
    return getpwnam(name)?.uid ?? null
  },
  gidOf(name) {
    return getgrnam(name)?.gid ?? null
  },
  groupsOf(name, gid) {
    return getgrouplist(name, gid)
  },
}
