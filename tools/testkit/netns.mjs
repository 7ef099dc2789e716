// Network-namespace kit for the packages' tests and benchmarks (plain JavaScript, so that Node scripts can import
// it as well as the TypeScript tests; the types are in netns.d.mts): a probe (root, iproute2, a namespace can be
// made, and the caller's own checks), unique names, namespaces (IPv6 off unless asked, lo up), commands and `node`
// children inside one, and veth pairs with N queues that wait (bounded) for carrier. The packages keep their own
// harnesses on top.
// Safety rules: every namespace gets a unique name (uniqueName: prefix + pid + counter + random, ≤ 15 chars);
// nothing is done in the root namespace (commands run as `ip -n NS` or `ip netns exec NS`, both veth ends are
// created inside namespaces); everything made here is removed on every path (createNetns deletes the namespace when
// its setup throws, deleteNetns never throws and belongs in afterAll/finally, and whatever is left is deleted when
// the process exits or is stopped by SIGTERM/SIGINT); deleteNetns touches only namespaces made here; every wait is
// bounded.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { promisify } from 'node:util'

/**
 * Whether `cmd` is on the PATH.
 * @param {string} cmd
 * @returns {boolean}
 */
export function has(cmd) {
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
 * @param {{ root?: string, needs?: { what: string, ok: () => boolean }[] }} [options]
 * @returns {{ ok: boolean, reason: string }}
 */
export function probeNetns(options = {}) {
  if (process.platform !== 'linux') return { ok: false, reason: 'needs Linux' }
  if (process.getuid?.() !== 0) return { ok: false, reason: `needs root (${options.root ?? 'CAP_NET_ADMIN'})` }
  if (!has('ip')) return { ok: false, reason: 'needs iproute2 (ip)' }
  for (const n of options.needs ?? []) if (!n.ok()) return { ok: false, reason: `needs ${n.what}` }
  const name = uniqueName('xp')
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (e) {
    return { ok: false, reason: `cannot create network namespaces: ${String(e?.stderr).trim()}` }
  }
  netnsDel(name)
  return { ok: true, reason: 'root, iproute2, ip netns' }
}

let counter = 0
/**
 * prefix + pid + 'x' + counter + random (base 36), at most 15 characters: a long prefix is cut, never the unique
 * tail (the separator keeps pid 3000 with counter 468 apart from pid 108013 with counter 0).
 * @param {string} prefix
 * @returns {string}
 */
export function uniqueName(prefix) {
  const tail = `${process.pid.toString(36)}x${(counter++).toString(36)}${Math.random().toString(36).slice(2, 5)}`
  return `${prefix.slice(0, Math.max(0, 15 - tail.length))}${tail}`.slice(0, 15)
}

/** @param {string} ns */
function netnsDel(ns) {
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
  } catch {}
}

/**
 * The namespaces this process made and has not deleted. While there are any, the process deletes them on its way out:
 * at exit, and on SIGTERM/SIGINT (which end a Node process without 'exit': vitest stops its workers with SIGTERM), then
 * dies of the signal's exit status; the signal handlers go away with the last namespace.
 * @type {Set<string>}
 */
const live = new Set()
/** @param {NodeJS.Signals} sig */
const onSignal = (sig) => {
  for (const ns of live) netnsDel(ns)
  live.clear()
  process.exit(sig === 'SIGINT' ? 130 : 143)
}
const dropAll = () => {
  for (const ns of live) netnsDel(ns)
}
/** @param {string} ns */
function track(ns) {
  if (live.size === 0) {
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    process.on('exit', dropAll)
  }
  live.add(ns)
}
/** @param {string} ns */
function untrack(ns) {
  if (!live.delete(ns) || live.size > 0) return
  process.off('SIGTERM', onSignal)
  process.off('SIGINT', onSignal)
  process.off('exit', dropAll)
}

/**
 * Creates namespace `ns` (IPv6 off inside it unless `ipv6`, so no stray ND/MLD frames; lo up), runs setup, and
 * deletes the namespace again if anything throws. Returns `ns`.
 * @param {string} ns
 * @param {(ns: string) => void} [setup]
 * @param {{ ipv6?: boolean }} [options]
 * @returns {string}
 */
export function createNetns(ns, setup, options = {}) {
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
 * @param {string} ns
 */
export function deleteNetns(ns) {
  if (!live.has(ns)) return
  untrack(ns)
  netnsDel(ns)
}

/**
 * `ip -n ns …args` (iproute2 acting inside the namespace); stdout.
 * @param {string} ns
 * @param {...string} args
 * @returns {string}
 */
export function ipn(ns, ...args) {
  return execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/**
 * `ip netns exec ns …argv` to completion; stdout.
 * @param {string} ns
 * @param {string[]} argv
 * @returns {string}
 */
export function execInNs(ns, argv) {
  return execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/**
 * argv run inside ns (`ip netns exec ns …argv`), or argv itself when ns is null.
 * @param {string | null} ns
 * @param {string[]} argv
 * @returns {string[]}
 */
export function inNs(ns, argv) {
  return ns === null ? [...argv] : ['ip', 'netns', 'exec', ns, ...argv]
}

/**
 * Spawns argv inside ns (or here when ns is null): stdin ignored, stdout and stderr piped.
 * @param {string | null} ns
 * @param {string[]} argv
 * @param {{ env?: NodeJS.ProcessEnv }} [options]
 */
export function spawnInNs(ns, argv, options = {}) {
  const [cmd, ...args] = inNs(ns, argv)
  return spawn(cmd, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
}

/**
 * Spawns `node …args` (this process's node) inside ns, or here when ns is null.
 * @param {string | null} ns
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv }} [options]
 */
export function spawnNode(ns, args, options = {}) {
  return spawnInNs(ns, [process.execPath, ...args], options)
}

const execFileAsync = promisify(execFile)
/**
 * Runs `node …args` inside ns to completion (killed after timeoutMs); rejects on a non-zero exit.
 * @param {string} ns
 * @param {string[]} args
 * @param {number} [timeoutMs]
 * @returns {Promise<{ stdout: string, stderr: string }>}
 */
export function nodeInNs(ns, args, timeoutMs = 60_000) {
  const [cmd, ...rest] = inNs(ns, [process.execPath, ...args])
  return execFileAsync(cmd, rest, { timeout: timeoutMs, killSignal: 'SIGKILL' })
}

/** @param {number} ms */
const sleep = (ms) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * A veth pair: end `a` in ns, end `b` in `peerNs` (default ns), `queues` TX and RX queues on each end (default 1; 0:
 * the kernel's default, one per possible CPU). Unless `up` is false, both ends are set up and this waits (sleeping, at
 * most carrierMs) for carrier on both, then throws.
 * @param {string} ns
 * @param {string} a
 * @param {string} b
 * @param {{ queues?: number, peerNs?: string, up?: boolean, carrierMs?: number }} [options]
 */
export function addVeth(ns, a, b, options = {}) {
  const { queues = 1, peerNs = ns, up = true, carrierMs = 5000 } = options
  const q = queues === 0 ? [] : ['numtxqueues', `${queues}`, 'numrxqueues', `${queues}`]
  ipn(ns, 'link', 'add', a, ...q, 'type', 'veth', 'peer', 'name', b, ...q, ...(peerNs === ns ? [] : ['netns', peerNs]))
  if (!up) return
  ipn(ns, 'link', 'set', a, 'up')
  ipn(peerNs, 'link', 'set', b, 'up')
  /** @type {(n: string, dev: string) => string} */
  const show = (n, dev) => ipn(n, '-o', 'link', 'show', 'dev', dev)
  /** @type {(n: string, dev: string) => boolean} */
  const carrier = (n, dev) => /[<,]LOWER_UP[,>].* state UP /.test(show(n, dev))
  const deadline = Date.now() + carrierMs
  while (!(carrier(ns, a) && carrier(peerNs, b))) {
    if (Date.now() > deadline)
      throw new Error(`veth ${a}/${b} in ${ns}: no carrier after ${carrierMs} ms:\n${show(ns, a)}${show(peerNs, b)}`)
    sleep(10)
  }
}
