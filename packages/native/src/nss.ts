// The passwd and group databases through NSS (getpwuid_r, getpwnam_r, getgrnam_r, getgrgid_r, getgrouplist): the
// identity of *another* user, which Node cannot look up (os.userInfo() and process.getgroups() are this process's
// only). A name or id that does not exist is null; a failing name service throws { code, errno, syscall }.
import { binding, type NativeGroup, type NativePasswd } from './binding.js'
import { XNativeError } from './errors.js'

export type PasswdEntry = NativePasswd
export type GroupEntry = NativeGroup

function id(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new XNativeError('ERR_INVALID_ARG_VALUE', `${what} must be an integer in [0, 2^32), got ${v}`)
  }
  return v
}

/** getpwuid_r(3): the passwd entry of uid, or null when there is none. */
export function getpwuid(uid: number): PasswdEntry | null {
  return binding.getpwuid(id(uid, 'uid'))
}

/** getpwnam_r(3): the passwd entry named name, or null. */
export function getpwnam(name: string): PasswdEntry | null {
  return binding.getpwnam(name)
}

/** getgrnam_r(3): the group named name (with its listed members), or null. */
export function getgrnam(name: string): GroupEntry | null {
  return binding.getgrnam(name)
}

/** getgrgid_r(3): the group with gid, or null. */
export function getgrgid(gid: number): GroupEntry | null {
  return binding.getgrgid(id(gid, 'gid'))
}

/**
 * getgrouplist(3): gid (normally the user's primary group) followed by every group of the group database that
 * lists user as a member — what login would give the user, independent of any process's supplementary groups.
 */
export function getgrouplist(user: string, gid: number): number[] {
  return binding.getgrouplist(user, id(gid, 'gid'))
}
