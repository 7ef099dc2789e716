// Types for netns.mjs, the network-namespace kit of the packages' tests and benchmarks (see there for the rules).
import type { ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'

export interface Probe {
  ok: boolean
  reason: string
}

/** Whether `cmd` is on the PATH. */
export function has(cmd: string): boolean

/**
 * Whether namespace tests can run here, and why not: Linux, root (`root` says what for), iproute2, then each of
 * `needs` (`what` is the reason, as "needs <what>"), then that a namespace can be made (and removed) here.
 */
export function probeNetns(options?: { root?: string; needs?: { what: string; ok: () => boolean }[] }): Probe

/** prefix + pid + 'x' + counter + random (base 36), at most 15 characters (a long prefix is cut, never the tail). */
export function uniqueName(prefix: string): string

/**
 * Creates namespace `ns` (IPv6 off inside it unless `ipv6`; lo up), runs setup, and deletes the namespace again if
 * anything throws. Returns `ns`. Deleted at exit and on SIGTERM/SIGINT if still there.
 */
export function createNetns(ns: string, setup?: (ns: string) => void, options?: { ipv6?: boolean }): string

/** Deletes a namespace createNetns made in this process; never throws. Any other name is left alone. */
export function deleteNetns(ns: string): void

/** `ip -n ns …args` (iproute2 acting inside the namespace); stdout. */
export function ipn(ns: string, ...args: string[]): string

/** `ip netns exec ns …argv` to completion; stdout. */
export function execInNs(ns: string, argv: string[]): string

/** argv run inside ns (`ip netns exec ns …argv`), or argv itself when ns is null. */
export function inNs(ns: string | null, argv: string[]): [string, ...string[]]

/** Spawns argv inside ns (or here when ns is null): stdin ignored, stdout and stderr piped. */
export function spawnInNs(
  ns: string | null,
  argv: string[],
  options?: { env?: NodeJS.ProcessEnv },
): ChildProcessByStdio<null, Readable, Readable>

/** Spawns `node …args` (this process's node) inside ns, or here when ns is null. */
export function spawnNode(
  ns: string | null,
  args: string[],
  options?: { env?: NodeJS.ProcessEnv },
): ChildProcessByStdio<null, Readable, Readable>

/** Runs `node …args` inside ns to completion (killed after timeoutMs, default 60 s); rejects on a non-zero exit. */
export function nodeInNs(ns: string, args: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>

/**
 * A veth pair: end `a` in ns, end `b` in `peerNs` (default ns), `queues` TX and RX queues on each end (default 1; 0:
 * the kernel's default). Unless `up` is false, both ends are set up and this waits (at most carrierMs, default 5000)
 * for carrier on both, then throws.
 */
export function addVeth(
  ns: string,
  a: string,
  b: string,
  options?: { queues?: number; peerNs?: string; up?: boolean; carrierMs?: number },
): void
