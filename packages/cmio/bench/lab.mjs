// Network-namespace helper for bench/bridge.mjs (the tests use test/netns.ts, the same ideas in TypeScript):
// unique namespaces, TAPs and veths only inside them, children via `ip netns exec`, teardown on every path.
import { execFileSync, spawn } from 'node:child_process'

let counter = 0
export function uniqueName(prefix) {
  const r = Math.random().toString(36).slice(2, 5)
  return `${prefix}${process.pid % 100000}${(counter++ % 36).toString(36)}${r}`.slice(0, 15)
}

export class Lab {
  namespaces = []
  children = []

  ip(...args) {
    return execFileSync('ip', args, { encoding: 'utf8' })
  }

  netns(prefix) {
    const n = uniqueName(prefix)
    this.ip('netns', 'add', n)
    this.namespaces.push(n)
    this.ip('-n', n, 'link', 'set', 'lo', 'up')
    return n
  }

  tap(ns, name, cidr, vnetHdr = false) {
    this.ip('-n', ns, 'tuntap', 'add', 'dev', name, 'mode', 'tap', ...(vnetHdr ? ['vnet_hdr'] : []))
    if (vnetHdr) this.ip('-n', ns, 'link', 'set', name, 'gso_max_size', '65000')
    this.ip('-n', ns, 'addr', 'add', cidr, 'dev', name)
    this.ip('-n', ns, 'link', 'set', name, 'up')
  }

  veth(nsA, a, cidrA, nsB, b, cidrB) {
    this.ip('-n', nsA, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', nsB)
    this.ip('-n', nsA, 'addr', 'add', cidrA, 'dev', a)
    this.ip('-n', nsB, 'addr', 'add', cidrB, 'dev', b)
    this.ip('-n', nsA, 'link', 'set', a, 'up')
    this.ip('-n', nsB, 'link', 'set', b, 'up')
  }

  spawn(ns, cmd, args, env = {}) {
    const argv = ns === null ? [cmd, ...args] : ['ip', 'netns', 'exec', ns, cmd, ...args]
    const proc = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    const child = { proc, output: '' }
    const onData = (d) => {
      child.output += d
    }
    proc.stdout.on('data', onData)
    proc.stderr.on('data', onData)
    child.exited = new Promise((resolve) => proc.once('close', (code, sig) => resolve(code ?? sig)))
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
    for (const n of this.namespaces.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' })
      } catch {}
    }
  }
}
