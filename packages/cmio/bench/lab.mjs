// Network-namespace helper for bench/bridge.mjs (the tests use test/netns.ts, the same ideas in TypeScript), on the
// shared kit (tools/testkit/netns.mjs: unique names ≤ 15 chars, namespaces deleted on every path, also at exit and
// on SIGTERM/SIGINT): TAPs and veths only inside the lab's namespaces, children via `ip netns exec`, teardown on
// every path. The children and their output waits are this bench's own.
import { addVeth, createNetns, deleteNetns, ipn, spawnInNs, uniqueName } from '../../../tools/testkit/netns.mjs'

export { uniqueName }

/** Children still running when the process exits (a signal ends it through the kit) are killed. */
const running = new Set()
process.on('exit', () => {
  for (const proc of running) proc.kill('SIGKILL')
})

export class Lab {
  namespaces = []
  children = []

  /** `ip -n ns …args`: iproute2 inside one of the lab's namespaces (never the root one). */
  ip(ns, ...args) {
    if (!this.namespaces.includes(ns)) throw new Error(`${ns} is not a namespace of this lab`)
    return ipn(ns, ...args)
  }

  /** A namespace (IPv6 on; lo up), deleted by teardown(). */
  netns(prefix) {
    const n = createNetns(uniqueName(prefix), undefined, { ipv6: true })
    this.namespaces.push(n)
    return n
  }

  tap(ns, name, cidr, vnetHdr = false) {
    this.ip(ns, 'tuntap', 'add', 'dev', name, 'mode', 'tap', ...(vnetHdr ? ['vnet_hdr'] : []))
    if (vnetHdr) this.ip(ns, 'link', 'set', name, 'gso_max_size', '65000')
    this.ip(ns, 'addr', 'add', cidr, 'dev', name)
    this.ip(ns, 'link', 'set', name, 'up')
  }

  veth(nsA, a, cidrA, nsB, b, cidrB) {
    if (!this.namespaces.includes(nsB)) throw new Error(`${nsB} is not a namespace of this lab`)
    addVeth(nsA, a, b, { peerNs: nsB, queues: 0, up: false })
    this.ip(nsA, 'addr', 'add', cidrA, 'dev', a)
    this.ip(nsB, 'addr', 'add', cidrB, 'dev', b)
    this.ip(nsA, 'link', 'set', a, 'up')
    this.ip(nsB, 'link', 'set', b, 'up')
  }

  spawn(ns, cmd, args, env = {}) {
    const proc = spawnInNs(ns, [cmd, ...args], { env: { ...process.env, ...env } })
    running.add(proc)
    const child = { proc, output: '' }
    const onData = (d) => {
      child.output += d
    }
    proc.stdout.on('data', onData)
    proc.stderr.on('data', onData)
    child.exited = new Promise((resolve) =>
      proc.once('close', (code, sig) => {
        running.delete(proc)
        resolve(code ?? sig)
      }),
    )
    child.waitFor = (re, ms = 15000) =>
      new Promise((resolve, reject) => {
        const t0 = Date.now()
        const tick = () => {
          if (re.test(child.output)) return resolve()
          if (proc.exitCode !== null || Date.now() - t0 > ms)
            return reject(new Error(`${cmd}: no ${re}: ${child.output}`))
          setTimeout(tick, 20)
        }
        tick()
      })
    this.children.push(child)
    return child
  }

  async run(ns, cmd, args, env) {
    const c = this.spawn(ns, cmd, args, env)
    const code = await c.exited
    return { code, output: c.output }
  }

  async teardown() {
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
    for (const n of this.namespaces.splice(0)) deleteNetns(n)
  }
}
