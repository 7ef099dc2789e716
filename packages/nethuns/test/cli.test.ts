// The nethuns CLI inside our own namespace: rx and capture fed by tx, fwd between two veth pairs, and errors.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readCaptureFileSync } from '@x/framing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../src/cli.js'
import { createNetns, type Netns, probeNetns, spawnNode } from './netns.js'

const bin = fileURLToPath(new URL('../bin/nethuns.mjs', import.meta.url))
const probe = probeNetns()

interface Run {
  /** Resolves when the command says its socket is open (": open" on stderr). */
  open: Promise<void>
  done: Promise<{ code: number | null; out: string; err: string }>
}

function run(ns: Netns | null, args: string[], timeoutMs = 10_000): Run {
  const c = spawnNode(ns?.name ?? null, [bin, ...args])
  let out = ''
  let err = ''
  let opened: () => void = () => {}
  const open = new Promise<void>((r) => {
    opened = r
  })
  c.stdout.on('data', (d: Buffer) => {
    out += d
  })
  c.stderr.on('data', (d: Buffer) => {
    err += d
    if (err.includes(': open')) opened()
  })
  const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs)
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    c.on('exit', (code) => {
      clearTimeout(t)
      opened()
      resolve({ code, out, err })
    }),
  )
  return { open, done }
}

describe('nethuns CLI without a network', () => {
  it('prints usage and refuses unknown commands', async () => {
    const lines: string[] = []
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) }
    expect(await main(['--help'], io)).toBe(0)
    expect(lines.join('\n')).toMatch(/nethuns rx IFACE --backend af_packet\|af_xdp\|pcap/)
    expect(await main(['bogus'], io)).toBe(2)
    expect(await main(['tx', 'lo', '--backend', 'af_packet'], io)).toBe(1)
    expect(lines.at(-1)).toMatch(/tx needs --count/)
    expect(await main(['rx', 'vale0:1'], io)).toBe(1) // a netmap spec picks the netmap backend
    expect(lines.at(-1)).toMatch(/VALE ports need the netmap kernel module \[ERR_NETHUNS_NOT_AVAILABLE\]/)
    expect(await main(['rx', '0000:01:00.0'], io)).toBe(1)
    expect(lines.at(-1)).toMatch(/not available in this build \[ERR_NETHUNS_NOT_AVAILABLE\]/)
  })
})

describe.skipIf(!existsSync(fileURLToPath(new URL('../dist/cli.js', import.meta.url))))(
  'nethuns CLI on a netmap pipe between two processes',
  () => {
    it('rx netmap:P}1 counts what tx netmap:P{1 sends (backend chosen from the spec)', async () => {
      const name = `nhcli${process.pid}x${Math.random().toString(36).slice(2, 6)}`
      const rxP = run(null, ['rx', `netmap:${name}}1`, '--count', '2000', '--duration', '8', '--quiet'])
      await rxP.open
      const tx = await run(null, ['tx', `netmap:${name}{1`, '--count', '2000', '--size', '60', '--quiet']).done
      expect(tx.code, tx.err).toBe(0)
      expect(tx.out).toMatch(/^sent 2000 packets/)
      const rx = await rxP.done
      expect(rx.code, rx.err).toBe(0)
      expect(rx.out).toMatch(/^received 2000 packets \(120000 bytes\)/)
      expect(readdirSync('/dev/shm').filter((f) => f.includes(name))).toEqual([])
    })
  },
)

describe.skipIf(!probe.ok)(`nethuns CLI in a netns (${probe.reason})`, () => {
  let ns: Netns
  let dir: string
  beforeAll(() => {
    ns = createNetns({ pairs: 2 })
    dir = mkdtempSync(join(tmpdir(), 'nethuns-cli-'))
  })
  afterAll(() => {
    ns?.destroy()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('rx and capture count what tx sends; the capture reads back', async () => {
    const file = join(dir, 'a1.pcap')
    const rxP = run(ns, ['rx', 'a1', '--backend', 'af_packet', '--count', '3000', '--duration', '8'])
    const capP = run(ns, [
      'capture',
      'a1',
      '-w',
      file,
      '--count',
      '50',
      '--duration',
      '8',
      '--filter',
      'ether proto 0x88b5',
    ])
    await Promise.all([rxP.open, capP.open])
    const tx = await run(ns, ['tx', 'a0', '--backend', 'af_packet', '--count', '3000', '--size', '100']).done
    expect(tx.code).toBe(0)
    expect(tx.out).toMatch(/^sent 3000 packets/)
    const rx = await rxP.done
    expect(rx.code).toBe(0)
    expect(rx.out).toMatch(/^received 3000 packets \(300000 bytes\) in [\d.]+ s: .*pps .*bps; kernel drops 0/)
    const cap = await capP.done
    expect(cap.out).toMatch(/captured 50 packets/)
    const f = readCaptureFileSync(file)
    expect(f.records).toHaveLength(50)
    expect(f.records.every((r) => r.origLen === 100 && r.data[12] === 0x88 && r.data[13] === 0xb5)).toBe(true)
  })

  it('fwd moves frames from one link to another', async () => {
    // tx a0 → a1 (fwd in) → b0 (fwd out) → b1 (rx)
    const rxP = run(ns, ['rx', 'b1', '--backend', 'af_packet', '--count', '1000', '--duration', '8', '--quiet'])
    const fwdP = run(ns, ['fwd', 'a1', 'b0', '--backend', 'af_packet', '--count', '1000', '--duration', '8', '--quiet'])
    await Promise.all([rxP.open, fwdP.open])
    const tx = await run(ns, ['tx', 'a0', '--backend', 'af_packet', '--count', '1000', '--quiet']).done
    expect(tx.code).toBe(0)
    const fw = await fwdP.done
    expect(fw.code, fw.err).toBe(0)
    expect(fw.out).toMatch(/forwarded 1000 packets \(0 dropped/)
    expect((await rxP.done).out).toMatch(/^received 1000 packets/)
  })

  it('rx on a netmap NIC port (netmap:a1) counts what af_packet tx sends', async () => {
    const rxP = run(ns, ['rx', 'netmap:a1', '--count', '1000', '--duration', '8', '--quiet'])
    await rxP.open
    const tx = await run(ns, ['tx', 'a0', '--backend', 'af_packet', '--count', '1000', '--size', '80', '--quiet']).done
    expect(tx.code, tx.err).toBe(0)
    const rx = await rxP.done
    expect(rx.code, rx.err).toBe(0)
    expect(rx.out).toMatch(/^received 1000 packets \(80000 bytes\).*kernel drops 0/)
  })

  it('reports a missing interface', async () => {
    const r = await run(ns, ['rx', 'nosuch0', '--backend', 'af_packet', '--count', '1']).done
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/no such interface.*\[ENODEV\]/)
  })
})
