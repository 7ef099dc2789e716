// Network-namespace harness for the end-to-end tests, on the shared kit (tools/testkit/netns.mjs): namespaces with
// unique names (≤ 15 chars), TAP devices and addresses only inside them, children spawned with `ip netns exec`, and
// a teardown that kills every child and deletes every namespace on every path. Nothing is done in the root
// namespace. The Lab (children with regex waits) is this package's own.
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import {
  addVeth,
  createNetns,
  deleteNetns,
  ipn,
  type Probe,
  probeNetns as probe,
  spawnInNs,
  uniqueName,
} from '../../../tools/testkit/netns.mjs'

export { has, type Probe, uniqueName } from '../../../tools/testkit/netns.mjs'

export function probeNetns(): Probe {
  const tun = { what: '/dev/net/tun', ok: () => existsSync('/dev/net/tun') }
  return probe({ root: 'CAP_NET_ADMIN, CAP_SYS_ADMIN', needs: [tun] })
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

  /** `ip -n ns …args`: iproute2 inside one of the lab's namespaces (never the root one). */
  ip(ns: string, ...args: string[]): string {
    if (!this.namespaces.includes(ns)) throw new Error(`${ns} is not a namespace of this lab`)
    return ipn(ns, ...args)
  }

  /** A namespace (IPv6 on, as the guest and host would have it; lo up), deleted by teardown(). */
  netns(prefix: string): string {
    const n = createNetns(uniqueName(prefix), undefined, { ipv6: true })
    this.namespaces.push(n)
    return n
  }

  /**
   * A persistent TAP (IFF_NO_PI, as `ip tuntap` makes it) with an address, up, inside ns. vnetHdr: IFF_VNET_HDR and
   * gso_max_size 65000 (so a GSO super-frame fits a u16 TAP entry).
   */
  tap(ns: string, name: string, cidr: string, options: { pi?: boolean; vnetHdr?: boolean } = {}): void {
    const flags = [...(options.pi ? ['pi'] : []), ...(options.vnetHdr ? ['vnet_hdr'] : [])]
    ipn(ns, 'tuntap', 'add', 'dev', name, 'mode', 'tap', ...flags)
    if (options.vnetHdr) ipn(ns, 'link', 'set', name, 'gso_max_size', '65000')
    ipn(ns, 'addr', 'add', cidr, 'dev', name)
    ipn(ns, 'link', 'set', name, 'up')
  }

  /** A veth pair joining two namespaces (the benchmark's reference), with addresses, up with carrier. */
  veth(nsA: string, a: string, cidrA: string, nsB: string, b: string, cidrB: string): void {
    addVeth(nsA, a, b, { peerNs: nsB, queues: 0 })
    ipn(nsA, 'addr', 'add', cidrA, 'dev', a)
    ipn(nsB, 'addr', 'add', cidrB, 'dev', b)
  }

  /** Spawns `cmd args` inside ns (or here when ns is null). */
  spawn(ns: string | null, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
    const proc = spawnInNs(ns, [cmd, ...args], { env: { ...process.env, ...env } })
    let output = ''
    const listeners = new Set<() => void>()
    const onData = (d: Buffer): void => {
      output += d.toString()
      for (const l of listeners) l()
    }
    proc.stdout.on('data', onData)
    proc.stderr.on('data', onData)
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
    for (const n of this.namespaces.splice(0)) deleteNetns(n)
  }
}
