import { readdirSync, readFileSync } from 'node:fs'

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

/** Open fds of this process. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length
}

/** A random even port below the kernel's ephemeral range (so it never meets another test's port 0), for the CLI. */
export function randomPort(): number {
  let low = 32768
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
  } catch {}
  const top = Math.max(12000, Math.min(low, 32768)) - 2
  return 2 * Math.floor((10000 + Math.random() * (top - 10000)) / 2)
}
