// Network-namespace kit for the packages' tests: a probe (root, iproute2, a namespace can be made, and the caller's
// own checks), unique names, namespaces (IPv6 off unless asked, lo up), commands and `node` children inside one,
// and veth pairs with N queues that wait (bounded) for carrier. The packages keep their own harnesses on top.
// Safety rules: every namespace gets a unique name (uniqueName: prefix + pid + counter + random, ≤ 15 chars);
// nothing is done in the root namespace (commands run as `ip -n NS` or `ip netns exec NS`, both veth ends are
// created inside namespaces); everything made here is removed on every path (createNetns deletes the namespace when
// its setup throws, deleteNetns never throws and belongs in afterAll/finally, and whatever is left is deleted when
// the process exits or is stopped by SIGTERM/SIGINT); deleteNetns touches only namespaces made here; every wait is
// bounded.
import { type ChildProcessByStdio, execFile, execFileSync, spawn } from 'node:child_process'
import type { Readable } from 'node:stream'
import { promisify } from 'node:util'

export interface Probe {
  ok: boolean
  reason: string
}

/** Whether `cmd` is on the PATH. */
export function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * Whether namespace tests can run here, and why not: Linux, root (`root` says what for), iproute2, then each of
 * `needs` (`what` is the reason, as "needs <what>"), then that a namespace can be made (and removed) here.
 */
export function probeNetns(options: { root?: string; needs?: { what: string; ok: () => boolean }[] } = {}): Probe {
  if (process.platform !== 'linux') return { ok: false, reason: 'needs Linux' }
  if (process.getuid?.() !== 0) return { ok: false, reason: `needs root (${options.root ?? 'CAP_NET_ADMIN'})` }
  if (!has('ip')) return { ok: false, reason: 'needs iproute2 (ip)' }
  for (const n of options.needs ?? []) if (!n.ok()) return { ok: false, reason: `needs ${n.what}` }
  const name = uniqueName('xp')
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (e) {
    return {
      ok: false,
      reason: `cannot create network namespaces: ${String((e as { stderr?: unknown }).stderr).trim()}`,
    }
  }
  netnsDel(name)
  return { ok: true, reason: 'root, iproute2, ip netns' }
}

let counter = 0
/**
 * prefix + pid + 'x' + counter + random (base 36), at most 15 characters: a long prefix is cut, never the unique
 * tail (the separator keeps pid 3000 with counter 468 apart from pid 108013 with counter 0).
 */
export function uniqueName(prefix: string): string {
  const tail = `${process.pid.toString(36)}x${(counter++).toString(36)}${Math.random().toString(36).slice(2, 5)}`
  return `${prefix.slice(0, Math.max(0, 15 - tail.length))}${tail}`.slice(0, 15)
}

function netnsDel(ns: string): void {
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
  } catch {}
}

/**
 * The namespaces this process made and has not deleted. While there are any, the process deletes them on its way out:
 * at exit, and on SIGTERM/SIGINT (which end a Node process without 'exit': vitest stops its workers with SIGTERM), then
 * dies of the signal's exit status; the signal handlers go away with the last namespace.
 */
const live = new Set<string>()
const onSignal = (sig: NodeJS.Signals): void => {
  for (const ns of live) netnsDel(ns)
  live.clear()
  process.exit(sig === 'SIGINT' ? 130 : 143)
}
const dropAll = (): void => {
  for (const ns of live) netnsDel(ns)
}
function track(ns: string): void {
  if (live.size === 0) {
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    process.on('exit', dropAll)
  }
  live.add(ns)
}
function untrack(ns: string): void {
  if (!live.delete(ns) || live.size > 0) return
  process.off('SIGTERM', onSignal)
  process.off('SIGINT', onSignal)
  process.off('exit', dropAll)
}

/**
 * Creates namespace `ns` (IPv6 off inside it unless `ipv6`, so no stray ND/MLD frames; lo up), runs setup, and
 * deletes the namespace again if anything throws. Returns `ns`.
 */
export function createNetns(ns: string, setup?: (ns: string) => void, options: { ipv6?: boolean } = {}): string {
  execFileSync('ip', ['netns', 'add', ns], { stdio: ['ignore', 'ignore', 'pipe'] })
  track(ns)
  try {
    if (!options.ipv6) {
      execInNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'])
      execInNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1'])
    }
    ipn(ns, 'link', 'set', 'lo', 'up')
    setup?.(ns)
  } catch (e) {
    deleteNetns(ns)
    throw e
  }
  return ns
}

/**
 * Deletes a namespace createNetns made in this process; never throws (already gone is fine). Any other name is left
 * alone: when `ip netns add` failed because the name existed, the namespace is somebody else's.
 */
export function deleteNetns(ns: string): void {
  if (!live.has(ns)) return
  untrack(ns)
  netnsDel(ns)
}

/** `ip -n ns …args` (iproute2 acting inside the namespace); stdout. */
export function ipn(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** `ip netns exec ns …argv` to completion; stdout. */
export function execInNs(ns: string, argv: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** argv run inside ns (`ip netns exec ns …argv`), or argv itself when ns is null. */
export function inNs(ns: string | null, argv: string[]): [string, ...string[]] {
  return ns === null ? [argv[0]!, ...argv.slice(1)] : ['ip', 'netns', 'exec', ns, ...argv]
}

/** Spawns argv inside ns (or here when ns is null): stdin ignored, stdout and stderr piped. */
export function spawnInNs(
  ns: string | null,
  argv: string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): ChildProcessByStdio<null, Readable, Readable> {
  const [cmd, ...args] = inNs(ns, argv)
  return spawn(cmd, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Spawns `node …args` (this process's node) inside ns, or here when ns is null. */
export function spawnNode(
  ns: string | null,
  args: string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): ChildProcessByStdio<null, Readable, Readable> {
  return spawnInNs(ns, [process.execPath, ...args], options)
}

const execFileAsync = promisify(execFile)
/** Runs `node …args` inside ns to completion (killed after timeoutMs); rejects on a non-zero exit. */
export function nodeInNs(ns: string, args: string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string }> {
  const [cmd, ...rest] = inNs(ns, [process.execPath, ...args])
  return execFileAsync(cmd, rest, { timeout: timeoutMs, killSignal: 'SIGKILL' })
}

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * A veth pair: end `a` in ns, end `b` in `peerNs` (default ns), `queues` TX and RX queues on each end (default 1; 0:
 * the kernel's default, one per possible CPU). Unless `up` is false, both ends are set up and this waits (sleeping, at
 * most carrierMs) for carrier on both, then throws.
 */
export function addVeth(
  ns: string,
  a: string,
  b: string,
  options: { queues?: number; peerNs?: string; up?: boolean; carrierMs?: number } = {},
): void {
  const { queues = 1, peerNs = ns, up = true, carrierMs = 5000 } = options
  const q = queues === 0 ? [] : ['numtxqueues', `${queues}`, 'numrxqueues', `${queues}`]
  ipn(ns, 'link', 'add', a, ...q, 'type', 'veth', 'peer', 'name', b, ...q, ...(peerNs === ns ? [] : ['netns', peerNs]))
  if (!up) return
  ipn(ns, 'link', 'set', a, 'up')
  ipn(peerNs, 'link', 'set', b, 'up')
  const show = (n: string, dev: string): string => ipn(n, '-o', 'link', 'show', 'dev', dev)
  const carrier = (n: string, dev: string): boolean => /[<,]LOWER_UP[,>].* state UP /.test(show(n, dev))
  const deadline = Date.now() + carrierMs
  while (!(carrier(ns, a) && carrier(peerNs, b))) {
    if (Date.now() > deadline)
      throw new Error(`veth ${a}/${b} in ${ns}: no carrier after ${carrierMs} ms:\n${show(ns, a)}${show(peerNs, b)}`)
    sleep(10)
  }
}
