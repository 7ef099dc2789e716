// The tbt CLI (dist/bin/tbt.js, built) on ::1%lo, and the tour script.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { randomPort } from './helpers.js'

const pkg = fileURLToPath(new URL('..', import.meta.url))
const TBT = `${pkg}dist/bin/tbt.js`
const built = existsSync(TBT)

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: pkg, env: { ...process.env, ...env }, timeout: 20_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
      },
    )
  })
}

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
})

/** Starts `tbt listen`; resolves once it reports that it listens. */
function listen(
  ports: string[],
): Promise<{ child: ChildProcess; lines: string[]; next: (pred: (l: string) => boolean) => Promise<string> }> {
  const child = spawn(process.execPath, [TBT, '--interface', 'lo', ...ports, 'listen'], { cwd: pkg })
  children.push(child)
  const lines: string[] = []
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = []
  let buf = ''
  child.stdout!.on('data', (d: Buffer) => {
    buf += d
    let i = buf.indexOf('\n')
    while (i >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      lines.push(line)
      for (const w of waiters.splice(0)) {
        if (w.pred(line)) w.resolve(line)
        else waiters.push(w)
      }
      i = buf.indexOf('\n')
    }
  })
  const next = (pred: (l: string) => boolean) =>
    new Promise<string>((resolve) => {
      const seen = lines.find(pred)
      if (seen !== undefined) resolve(seen)
      else waiters.push({ pred, resolve })
    })
  return new Promise((resolve, reject) => {
    let err = ''
    child.stderr!.on('data', (d: Buffer) => {
      err += d
      if (err.includes('listening on lo')) resolve({ child, lines, next })
    })
    child.once('exit', (code) => reject(new Error(`tbt listen exited ${code}: ${err}`)))
  })
}

describe.skipIf(!built)(`tbt on ::1%lo${built ? '' : ' (build first)'}`, () => {
  it('listen prints control messages as hex; send reports the bytes sent', async () => {
    const p = randomPort()
    const ports = ['--control-port', String(p), '--data-port', String(p + 1)]
    const l = await listen(ports)
    const r = await run([TBT, '-i', 'lo', ...ports, 'send', '::1%lo', '0102ff'])
    expect(r).toMatchObject({ code: 0, stdout: 'sent 3 bytes to ::1%lo\n' })
    expect(await l.next((x) => x === '0102ff')).toBe('0102ff')
    const r2 = await run([TBT, '-i', 'lo', ...ports, 'send', '::1%lo', 'de:ad:be:ef'])
    expect(r2.code).toBe(0)
    await l.next((x) => x === 'deadbeef')
  })

  it('ping prints each RTT, then min/p50/p99; stream sends N bytes and listen counts them', async () => {
    const p = randomPort()
    const ports = ['--control-port', String(p), '--data-port', String(p + 1)]
    const l = await listen(ports)
    const r = await run([TBT, '-i', 'lo', ...ports, 'ping', '::1%lo', '--count', '3'])
    expect(r.code).toBe(0)
    const out = r.stdout.trim().split('\n')
    expect(out).toHaveLength(4)
    for (let i = 0; i < 3; i++) expect(out[i]).toMatch(new RegExp(`^ping ${i + 1}: rtt \\d+\\.\\d µs$`))
    expect(out[3]).toMatch(/^3\/3 answered: min \d+\.\d µs p50 \d+\.\d µs p99 \d+\.\d µs$/)
    expect(l.lines).toHaveLength(0) // pings are answered, not printed
    const s = await run([TBT, '-i', 'lo', ...ports, 'stream', '::1%lo', '--bytes', '3M'])
    expect(s.code).toBe(0)
    expect(s.stdout).toMatch(/^sent 3145728 bytes in \d+\.\d{3} s: \d+\.\d{2} Gbit\/s\n$/)
    expect(await l.next((x) => x.startsWith('stream'))).toBe('stream 3145728 bytes from ::1')
  })

  it('reports errors: no answer (exit 1), unknown interface (exit 1), bad input (exit 2)', async () => {
    const p = String(randomPort())
    const none = await run([TBT, '-i', 'lo', '--control-port', p, 'ping', '::1%lo', '-c', '2', '--timeout', '50'])
    expect(none.code).toBe(1)
    expect(none.stdout).toContain('ping 1: timeout')
    expect(none.stdout).toContain('no answer from ::1%lo (2 sent)')
    const iface = await run([TBT, '-i', 'nope0', 'listen'])
    expect(iface).toMatchObject({ code: 1, stderr: 'tbt: Network interface not found: nope0\n' })
    const hex = await run([TBT, '-i', 'lo', 'send', '::1%lo', 'xyz'])
    expect(hex.code).toBe(2)
    expect(hex.stderr).toMatch(/^tbt: HEX must be pairs of hex digits/)
    const peer = await run([TBT, '-i', 'lo', '--control-port', p, 'send', 'not-an-address', '00'])
    expect(peer).toMatchObject({ code: 1, stderr: 'tbt: Invalid IPv6 address: not-an-address\n' })
    expect((await run([TBT, 'frobnicate'])).code).toBe(2)
    expect((await run([TBT, '--help'])).stdout).toMatch(/^usage: tbt/)
  })
})

describe.skipIf(!built)('tour step', () => {
  it('runs on ::1%lo: a control message, a ping, a stream; a few lines, exit 0', async () => {
    const r = await run([`${pkg}tour.mjs`], { THUNDERBOLT_TOUR_PORTS: '0' })
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines.length).toBeGreaterThanOrEqual(3)
    expect(lines.length).toBeLessThanOrEqual(6)
    expect(r.stdout).toMatch(/control message: sent 18 bytes, received "hello, thunderbolt"/)
    expect(r.stdout).toMatch(/ping: RTT \d+\.\d µs/)
    expect(r.stdout).toMatch(/data stream: 8388608 bytes/)
  })
})
