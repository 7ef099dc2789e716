// The CLIs' argument handling and failure exits (child processes running the built bin/), endpoint parsing, and the
// forwarder over the in-process device.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  Cmio,
  type CmioRequest,
  type CmioSession,
  formatEndpoint,
  forward,
  parseEndpoint,
  SocketBridge,
  SocketMuxHost,
} from '@x/cmio'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const pkg = fileURLToPath(new URL('..', import.meta.url))
const built = existsSync(join(pkg, 'dist', 'cli', 'cmio.js'))
const run = (bin: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(pkg, 'bin', bin), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 20_000,
  })

let dir = ''
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xcmio-c-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe.skipIf(!built)('cmio / cmio-host command lines (needs the build)', () => {
  it('cmio help prints the usage; no mode is help; an unknown mode is a usage error', () => {
    const h = run('cmio.mjs', ['help'])
    expect(h.status).toBe(0)
    expect(h.stdout).toMatch(/Usage: cmio <network\|unix\|help>/)
    expect(run('cmio.mjs', []).status).toBe(0)
    const bad = run('cmio.mjs', ['bogus'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/unknown mode "bogus"/)
    expect(run('cmio.mjs', ['network', '--nope']).status).toBe(2)
  })

  it('cmio reports a missing device and exits 1', () => {
    const r = run('cmio.mjs', ['unix', '--device', join(dir, 'missing.sock')])
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/cmio: Failed to open CMIO device: ENOENT/)
    const e = run('cmio.mjs', ['unix'], { CMIO_DEVICE: join(dir, 'env.sock') })
    expect(e.stderr).toMatch(/ENOENT/)
  })

  it('cmio-host wants --socket and well-formed --forward', () => {
    expect(run('cmio-host.mjs', []).status).toBe(2)
    const f = run('cmio-host.mjs', ['--socket', join(dir, 's'), '--forward', 'nothing'])
    expect(f.status).toBe(2)
    expect(f.stderr).toMatch(/LOCAL=REMOTE/)
    expect(run('cmio-host.mjs', ['--help']).stdout).toMatch(/--forward LOCAL=REMOTE/)
  })
})

describe('endpoints', () => {
  it('tells Unix paths from host:port', () => {
    expect(parseEndpoint('/run/x.sock')).toEqual({ path: '/run/x.sock' })
    expect(parseEndpoint('rel.sock')).toEqual({ path: 'rel.sock' })
    expect(parseEndpoint('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 })
    expect(parseEndpoint(':9')).toEqual({ host: '127.0.0.1', port: 9 })
    expect(parseEndpoint('[::1]:80')).toEqual({ host: '::1', port: 80 })
    expect(parseEndpoint('./dir:1/x')).toEqual({ path: './dir:1/x' })
    expect(() => parseEndpoint('h:70000')).toThrow(RangeError)
    expect(formatEndpoint({ host: '::1', port: 80 })).toBe('[::1]:80')
  })
})

describe('forwarder over the in-process device', () => {
  let echo: Server
  let echoPath = ''
  beforeAll(async () => {
    echoPath = join(dir, 'echo.sock')
    echo = createServer({ allowHalfOpen: true }, (c) => {
      c.on('data', (d) => c.write(d))
      c.on('end', () => c.end())
    })
    await new Promise<void>((r) => echo.listen(echoPath, r))
  })
  afterAll(() => new Promise<void>((r) => echo.close(() => r())))

  it('carries each local connection to the guest address and back, concurrently', async () => {
    const mux = new SocketMuxHost()
    const cmio = Cmio.open({
      backend: 'inprocess',
      handler: (q: CmioRequest, s: CmioSession) => mux.handler(q, s),
    })
    const bridge = new SocketBridge(cmio)
    const ac = new AbortController()
    const running = bridge.run(ac.signal).catch(() => {})
    const local = join(dir, 'local.sock')
    const fw = await forward(mux, { path: local }, { path: echoPath })
    try {
      const talk = (msg: string) =>
        new Promise<string>((resolve, reject) => {
          const c = connect(local)
          let got = ''
          c.on('data', (d) => {
            got += d
          })
          c.on('end', () => resolve(got))
          c.on('error', reject)
          c.end(msg)
        })
      const answers = await Promise.all(['one', 'two', 'three'].map((m) => talk(`${m} `.repeat(1000))))
      expect(answers.map((a) => a.length)).toEqual([4000, 4000, 6000])
      expect(fw.accepted).toBe(3)
    } finally {
      await fw.close()
      ac.abort()
      await running
      cmio.close()
    }
  })
})
