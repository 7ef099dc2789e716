// Network namespaces for the NIC and host-ring tests: every veth/TAP lives in a namespace made here with a unique
// name (pid + random suffix) and removed in afterAll, even on failure. Nothing touches the root namespace.
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export function netnsProbe(): { ok: boolean; reason: string } {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root (netns, AF_PACKET, TUNSETIFF, bpf)' }
  try {
    execFileSync('sh', ['-c', 'command -v ip'], { stdio: 'ignore' })
  } catch {
    return { ok: false, reason: 'needs iproute2' }
  }
  return { ok: true, reason: 'root, iproute2: interfaces in a namespace made here' }
}

export function netnsName(tag: string): string {
  return `${tag}${process.pid}x${Math.random().toString(36).slice(2, 7)}`
}

export function ipn(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' })
}

/** Creates the namespace (IPv6 off, so no stray ND/MLD frames), runs setup, deletes it if setup throws. */
export function createNetns(ns: string, setup: () => void): void {
  execFileSync('ip', ['netns', 'add', ns])
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'])
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1'])
    ipn(ns, 'link', 'set', 'lo', 'up')
    setup()
  } catch (e) {
    deleteNetns(ns)
    throw e
  }
}

export function deleteNetns(ns: string): void {
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
  } catch {}
}

/** A veth pair a ↔ b with `queues` TX and RX queues on each end, both up, waiting (sleeping) for carrier. */
export function addVeth(ns: string, a: string, b: string, queues = 1): void {
  const q = ['numtxqueues', `${queues}`, 'numrxqueues', `${queues}`]
  ipn(ns, 'link', 'add', a, ...q, 'type', 'veth', 'peer', 'name', b, ...q)
  ipn(ns, 'link', 'set', a, 'up')
  ipn(ns, 'link', 'set', b, 'up')
  for (let i = 0; i < 500; i++) {
    const out = ipn(ns, '-o', 'link', 'show')
    const up = (n: string, p: string) => new RegExp(`${n}@${p}:.*LOWER_UP.*state UP`).test(out)
    if (up(a, b) && up(b, a)) return
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
  }
  throw new Error(`veth ${a}/${b} has no carrier`)
}

/** Runs `node args…` inside the namespace. */
export function nodeInNs(ns: string, args: string[], timeout = 60_000): Promise<{ stdout: string; stderr: string }> {
  return run('ip', ['netns', 'exec', ns, process.execPath, ...args], { timeout })
}
