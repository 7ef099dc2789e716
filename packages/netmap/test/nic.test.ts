import { execFile, execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { NetmapBuilder, NetmapError } from '@x/netmap'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const bin = fileURLToPath(new URL('../bin/pkt-gen.mjs', import.meta.url))
const peer = fileURLToPath(new URL('./fixtures/nic-peer.mjs', import.meta.url))

function probe(): { ok: boolean; reason: string } {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root (netns, AF_PACKET)' }
  try {
    execFileSync('sh', ['-c', 'command -v ip'], { stdio: 'ignore' })
  } catch {
    return { ok: false, reason: 'needs iproute2' }
  }
  return { ok: true, reason: 'root, iproute2: a veth pair in a namespace made here' }
}
const p = probe()

describe('NIC ports without the module: errors (no interface is touched)', () => {
  it('host rings and multi-ring selections are Unsupported, naming the module', () => {
    for (const spec of ['netmap:lo^', 'netmap:lo*', 'netmap:lo^1', 'netmap:lo-1']) {
      let err: unknown
      try {
        new NetmapBuilder(spec).backend('nic').build()
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(NetmapError)
      expect((err as NetmapError).kind).toBe('UnsupportedPlatform')
      expect((err as NetmapError).message).toMatch(/module/)
    }
  })

  it('a missing interface is BindFail', () => {
    expect(() => new NetmapBuilder('netmap:nosuchif0').backend('nic').build()).toThrow(
      expect.objectContaining({ kind: 'BindFail' }),
    )
  })
})

describe.skipIf(!p.ok)(`NIC ports on a veth pair (${p.reason})`, () => {
  const ns = `nm${process.pid}x${Math.random().toString(36).slice(2, 7)}`
  const inNs = (args: string[]): Promise<{ stdout: string }> =>
    run('ip', ['netns', 'exec', ns, process.execPath, ...args], { timeout: 30_000 })
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', ns])
    try {
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'])
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1'])
      execFileSync('ip', ['-n', ns, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'a1'])
      execFileSync('ip', ['-n', ns, 'link', 'set', 'a0', 'up'])
      execFileSync('ip', ['-n', ns, 'link', 'set', 'a1', 'up'])
      // wait (sleeping) until both ends have carrier: frames sent earlier are dropped
      for (let i = 0; i < 200; i++) {
        const out = execFileSync('ip', ['-n', ns, '-o', 'link', 'show'], { encoding: 'utf8' })
        if (/a0@a1:.*LOWER_UP/.test(out) && /a1@a0:.*LOWER_UP/.test(out) && !/state (DOWN|UNKNOWN) .*a[01]/.test(out))
          break
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
      }
    } catch (e) {
      execFileSync('ip', ['netns', 'del', ns])
      throw e
    }
  })
  afterAll(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
    } catch {}
  })

  it('ping_pong over netmap:a0 → netmap:a1 (rings of the kernel layout, AF_PACKET copies)', async () => {
    const r = await inNs([peer, 'pingpong'])
    expect(r.stdout).toContain('nic ok')
  })

  it('pkt-gen tx on netmap:a0, rx on netmap:a1: sequence numbers, zero mismatches', async () => {
    const [rx] = await Promise.all([
      inNs([bin, '-i', 'netmap:a1', '-f', 'rx', '-n', '2000', '-q']),
      new Promise((r) => setTimeout(r, 300)).then(() =>
        inNs([bin, '-i', 'netmap:a0', '-f', 'tx', '-n', '2000', '-b', '16', '-R', '20000', '-q']),
      ),
    ])
    expect(rx.stdout).toMatch(/^2000 packets in/m)
    expect(rx.stdout).toMatch(/^0 mismatches$/m)
  })
})
