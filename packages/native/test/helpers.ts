import { readdirSync, readFileSync } from 'node:fs'

/** Open fds of this process (from /proc), to prove nothing leaks. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length
}

/** The flags line of /proc/self/fdinfo/<fd> (octal). */
export function fdFlags(fd: number): number {
  const m = /flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))
  return m ? Number.parseInt(m[1]!, 8) : -1
}

export const O_NONBLOCK = 0o4000
export const O_CLOEXEC = 0o2000000
export const isRoot = process.getuid?.() === 0
