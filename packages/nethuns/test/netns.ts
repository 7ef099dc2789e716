// Network namespaces for the tests, from the shared kit (tools/testkit/netns.mjs): a veth pair whose both ends live
// in a namespace made here (unique name, removed on every path), peers run inside it as child processes (ip netns
// exec), nothing touches the root namespace. The JSON-lines peer harness (startPeer) is this package's own.
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  addVeth,
  createNetns as create,
  deleteNetns,
  execInNs,
  probeNetns as probe,
  spawnNode,
  uniqueName,
} from '../../../tools/testkit/netns.mjs'

export const isRoot = process.getuid?.() === 0
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))

/** Whether namespace tests can run here, and why not. */
export function probeNetns(): { ok: boolean; reason: string } {
  const built = { what: 'the built package (pnpm build) for the peers', ok: () => existsSync(dist) }
  return probe({ root: 'CAP_NET_ADMIN, CAP_NET_RAW', needs: [built] })
}

export interface Netns {
  readonly name: string
  /** Runs a command in the namespace; stdout. */
  run(args: string[]): string
  destroy(): void
}

/**
 * A namespace with veth a0 <-> a1 (`queues` queues each, default 1), both up with carrier, IPv6 off (no RS/MLD
 * noise); with `pairs: 2` also b0 <-> b1.
 */
export function createNetns(opts: { queues?: number; pairs?: number } = {}): Netns {
  const name = create(uniqueName('nh'), (ns) => {
    for (const p of ['a', 'b', 'c'].slice(0, opts.pairs ?? 1)) addVeth(ns, `${p}0`, `${p}1`, { queues: opts.queues })
  })
  return { name, run: (args) => execInNs(name, args), destroy: () => deleteNetns(name) }
}

export interface PeerResult {
  event: string
  [k: string]: unknown
}

export interface Peer {
  readonly child: ChildProcess
  readonly ready: Promise<PeerResult>
  readonly done: Promise<PeerResult>
  /** The first line with this event (rejects if the peer exits without one). */
  event(name: string): Promise<PeerResult>
  kill(): void
}

const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL')
})

/**
 * Starts test/fixtures/<script> inside the namespace (or, with `ns` null, as a plain child process: shm pipes need
 * no namespace) with a JSON config; lines of JSON come back.
 */
export function startPeer(ns: Netns | null, cfg: object, script = 'peer.mjs', timeoutMs = 15_000): Peer {
  const child = spawnNode(ns?.name ?? null, [fixture(script), JSON.stringify(cfg)])
  live.add(child)
  let buf = ''
  let err = ''
  const lines: PeerResult[] = []
  const waiters: Array<{ pred: (r: PeerResult) => boolean; resolve: (r: PeerResult) => void }> = []
  const onLine = (r: PeerResult): void => {
    lines.push(r)
    for (const w of [...waiters]) {
      if (w.pred(r)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(r)
      }
    }
  }
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString()
    let i = buf.indexOf('\n')
    while (i >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      try {
        onLine(JSON.parse(line) as PeerResult)
      } catch {
        err += `${line}\n`
      }
      i = buf.indexOf('\n')
    }
  })
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      live.delete(child)
      resolve(code)
    }),
  )
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  exited.then(() => clearTimeout(timer))
  const wait = (pred: (r: PeerResult) => boolean, what: string): Promise<PeerResult> =>
    new Promise((resolve, reject) => {
      const hit = lines.find(pred)
      if (hit) return resolve(hit)
      waiters.push({ pred, resolve })
      exited.then((code) => {
        const late = lines.find(pred)
        if (late) return resolve(late)
        const e = lines.find((l) => l.event === 'error')
        reject(new Error(`peer exited (${code}) before ${what}: ${e ? JSON.stringify(e) : ''} ${err}`))
      })
    })
  const done = wait((r) => r.event === 'done' || r.event === 'error', 'done').then((r) => {
    if (r.event === 'error') throw new Error(`peer failed: ${String(r.message)}\n${String(r.stack ?? '')}\n${err}`)
    return r
  })
  done.catch(() => {})
  const ready = wait((r) => r.event === 'ready' || r.event === 'error', 'ready').then((r) => {
    if (r.event === 'error') throw new Error(`peer failed: ${String(r.message)}\n${err}`)
    return r
  })
  ready.catch(() => {}) // roles without a ready line (rebind) must not leave an unhandled rejection
  return {
    child,
    ready,
    done,
    event: (name) => wait((r) => r.event === name, name),
    kill: () => child.kill('SIGKILL'),
  }
}

export { spawnNode }
