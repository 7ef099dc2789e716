// Network-namespace harness for the end-to-end tests and benchmarks: namespaces with unique names (≤ 15 chars),
// TAP devices and addresses only inside them, children spawned with `ip netns exec`, and a teardown that kills every
// child and deletes every namespace on every path. Nothing is done in the root namespace.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

export interface Probe {
  ok: boolean
  reason: string
}

export function probeNetns(): Probe {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)' }
  if (!existsSync('/dev/net/tun')) return { ok: false, reason: 'needs /dev/net/tun' }
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' })
  } catch {
    return { ok: false, reason: 'needs iproute2 (ip)' }
  }
  const name = uniqueName('xp')
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' })
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' })
  } catch {
    return { ok: false, reason: 'cannot create network namespaces' }
  }
  return { ok: true, reason: 'root, /dev/net/tun, ip netns' }
}

export function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

let counter = 0
/** prefix + pid + counter + random, at most 15 characters (IFNAMSIZ-1, as netns names are used in paths). */
export function uniqueName(prefix: string): string {
  const r = Math.random().toString(36).slice(2, 5)
  return `${prefix}${process.pid % 100000}${(counter++ % 36).toString(36)}${r}`.slice(0, 15)
}

export interface Child {
  proc: ChildProcess
  /** stdout + stderr so far. */
  readonly output: string
  /** Resolves when `re` appears in the output (rejects when the child exits first or after timeoutMs). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>
}

export class Lab {
  readonly namespaces: string[] = []
  readonly children: Child[] = []

  ip(...args: string[]): string {
    return execFileSync('ip', args, { encoding: 'utf8' })
  }

  netns(prefix: string): string {
    const n = uniqueName(prefix)
    this.ip('netns', 'add', n)
    this.namespaces.push(n)
    this.ip('-n', n, 'link', 'set', 'lo', 'up')
    return n
  }

  /**
   * A persistent TAP (IFF_NO_PI, as `ip tuntap` makes it) with an address, up, inside ns. vnetHdr: IFF_VNET_HDR and
   * gso_max_size 65000 (so a GSO super-frame fits a u16 TAP entry).
   */
  tap(ns: string, name: string, cidr: string, options: { pi?: boolean; vnetHdr?: boolean } = {}): void {
    const flags = [...(options.pi ? ['pi'] : []), ...(options.vnetHdr ? ['vnet_hdr'] : [])]
    this.ip('-n', ns, 'tuntap', 'add', 'dev', name, 'mode', 'tap', ...flags)
    if (options.vnetHdr) this.ip('-n', ns, 'link', 'set', name, 'gso_max_size', '65000')
    this.ip('-n', ns, 'addr', 'add', cidr, 'dev', name)
    this.ip('-n', ns, 'link', 'set', name, 'up')
  }

  /** A veth pair joining two namespaces (the benchmark's reference). */
  veth(nsA: string, a: string, cidrA: string, nsB: string, b: string, cidrB: string): void {
    this.ip('-n', nsA, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', nsB)
    this.ip('-n', nsA, 'addr', 'add', cidrA, 'dev', a)
    this.ip('-n', nsB, 'addr', 'add', cidrB, 'dev', b)
    this.ip('-n', nsA, 'link', 'set', a, 'up')
    this.ip('-n', nsB, 'link', 'set', b, 'up')
  }

  /** Spawns `cmd args` inside ns (or here when ns is null). */
  spawn(ns: string | null, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
    const argv = ns === null ? [cmd, ...args] : ['ip', 'netns', 'exec', ns, cmd, ...args]
    const proc = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const listeners = new Set<() => void>()
    const onData = (d: Buffer): void => {
      output += d.toString()
      for (const l of listeners) l()
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', onData)
    const exited = new Promise<number | string>((resolve) =>
      proc.once('close', (code, sig) => {
        for (const l of listeners) l()
        resolve(code ?? sig ?? -1)
      }),
    )
    const child: Child = {
      proc,
      get output() {
        return output
      },
      exited,
      waitFor(re, timeoutMs = 15_000) {
        return new Promise((resolve, reject) => {
          const check = (): void => {
            if (re.test(output)) {
              done()
              resolve()
            } else if (proc.exitCode !== null || proc.signalCode !== null) {
              done()
              reject(new Error(`${cmd} exited (${proc.exitCode ?? proc.signalCode}) before ${re}: ${output}`))
            }
          }
          const t = setTimeout(() => {
            done()
            reject(new Error(`timed out waiting for ${re} from ${cmd}: ${output}`))
          }, timeoutMs)
          const done = (): void => {
            clearTimeout(t)
            listeners.delete(check)
          }
          listeners.add(check)
          check()
        })
      },
    }
    this.children.push(child)
    return child
  }

  /** Runs to completion inside ns; returns {code, output}. */
  async run(
    ns: string | null,
    cmd: string,
    args: string[],
    env?: NodeJS.ProcessEnv,
  ): Promise<{ code: number | string; output: string }> {
    const c = this.spawn(ns, cmd, args, env)
    const code = await c.exited
    return { code, output: c.output }
  }

  /** Kills every child still running (TERM, then KILL), deletes every namespace. Safe to call twice. */
  async teardown(): Promise<void> {
    const alive = this.children.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null)
    for (const c of alive) c.proc.kill('SIGTERM')
    await Promise.all(
      alive.map((c) =>
        Promise.race([c.exited, new Promise((r) => setTimeout(r, 2000))]).then(() => {
          if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL')
          return c.exited
        }),
      ),
    )
    this.children.length = 0
    for (const n of this.namespaces.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' })
      } catch {}
    }
  }
}
