// The two binaries: vrtctl against a daemon (plain, scriptable output and exit codes) and vrtd itself (config
// checks, SIGHUP reload, systemd socket activation and sd_notify).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bind, FdWatcher, K, listen, recvMsg, sockaddrUn, socket } from '@x/native'
import { Session, simulatorConfig } from '@x/vrtd'
import { afterEach, describe, expect, it } from 'vitest'
import { killChildren, pkgDir, runNode, startChild, startDaemon, tempDir } from './helpers.js'

const vrtctl = join(pkgDir, 'dist/bin/vrtctl.js')
const vrtdBin = join(pkgDir, 'dist/bin/vrtd.js')
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c()
  killChildren()
})

describe('vrtctl', () => {
  it('devices, bar-info, write, read, dump', async () => {
    const d = startDaemon({
      configText: `${simulatorConfig({ devices: [] })}[device:slash_ctl0]\nbdf = 0000:65:00\nbar0 = 4K\nbar0-start = 0xe0000000\n[device:slash_ctl1]\nbdf = 0000:66:00\n`,
    })
    cleanups.push(d.close)
    const run = (...args: string[]) => runNode([vrtctl, '--socket', d.path, ...args])
    expect(await run('devices')).toMatchObject({
      code: 0,
      stdout: '0 slash_ctl0 0000:65:00 10ee:50b4\n1 slash_ctl1 0000:66:00 10ee:50b4\n',
    })
    expect((await run('bar-info', '0', '0')).stdout).toBe('usable=1 in_use=0 start=0xe0000000 length=4096\n')
    expect((await run('bar-info', '0', '3')).stdout).toBe('usable=0 in_use=0 start=0x0 length=0\n')
    expect(await run('write', '0', '0', '0x10', '0xcafe')).toMatchObject({ code: 0, stdout: '' })
    expect((await run('read', '0', '0', '0x10')).stdout).toBe('0x0000cafe\n')
    expect((await run('read', '0', '0', '16', '--width', '16')).stdout).toBe('0xcafe\n')
    expect(await run('write', '0', '0', '0x18', '0x0123456789abcdef', '--width', '64')).toMatchObject({ code: 0 })
    expect((await run('read', '0', '0', '0x18', '--width', '64')).stdout).toBe('0x0123456789abcdef\n')
    expect(await run('write', '0', '0', '0x20', '65', '--width', '8')).toMatchObject({ code: 0 })
    expect((await run('dump', '0', '0', '0x10', '24')).stdout).toBe(
      '00000010  fe ca 00 00 00 00 00 00  ef cd ab 89 67 45 23 01  |............gE#.|\n' +
        '00000020  41 00 00 00 00 00 00 00                           |A.......|\n',
    )
    // VRTD_SOCKET works too
    expect((await runNode([vrtctl, 'devices'], { env: { VRTD_SOCKET: d.path } })).stdout).toMatch(/^0 slash_ctl0/)
  })

  it('errors: VRTD_RET code on stderr and status 1; usage errors status 2', async () => {
    const d = startDaemon()
    cleanups.push(d.close)
    const run = (...args: string[]) => runNode([vrtctl, '--socket', d.path, ...args])
    expect(await run('bar-info', '0', '6')).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'vrtctl: BAD_REQUEST: Bad request: GET_BAR_INFO\n',
    })
    expect(await run('read', '7', '0', '0')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^vrtctl: AUTH_ERROR/),
    })
    expect(await run('read', '0', '0', '0x2')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/BAD_LIB_CALL: .*aligned/),
    })
    expect(await run('read', '0', '0', '0', '--width', '12')).toMatchObject({ code: 2 })
    expect(await run('frobnicate')).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command/) })
    expect(await run('read', '0')).toMatchObject({ code: 2 })
    expect(await runNode([vrtctl, '--socket', join(d.dir, 'none.sock'), 'devices'])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^vrtctl: BAD_CONN: Bad connection to daemon: connect\(.*\): ENOENT/),
    })
    expect((await runNode([vrtctl, '--help'])).stdout).toMatch(/^usage: vrtctl/)
  })
})

describe('vrtd', () => {
  it('--check validates a config; a bad one exits 1 with the reason', async () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    const good = join(t.dir, 'good.conf')
    writeFileSync(good, simulatorConfig())
    expect(await runNode([vrtdBin, '--config', good, '--check'])).toMatchObject({
      code: 0,
      stdout: 'ok: 2 roles, 1 users, 0 groups, 1 devices (slash_ctl0)\n',
    })
    const bad = join(t.dir, 'bad.conf')
    writeFileSync(bad, '[role:x]\ndevice = any\n')
    const r = await runNode([vrtdBin, '--config', bad, '--check'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/bad\.conf:2: Unknown role key: 'device'/)
    expect((await runNode([vrtdBin, '--bogus'])).code).toBe(2)
    expect((await runNode([vrtdBin, '--config', bad, '--check', '--protocol', 'v0'])).code).toBe(0)
  })

  it('runs from a config file; SIGHUP reloads it; structured logs', async () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    const conf = join(t.dir, 'vrtd.conf')
    const sock = join(t.dir, 'vrtd.sock')
    writeFileSync(conf, simulatorConfig())
    const d = startChild([vrtdBin, '--config', conf, '--socket', sock, '--log-level', 'debug'], /Listening on/, {
      env: { VRTD_LOG: '' },
    })
    await d.ready
    using s = await Session.connect({ path: sock })
    expect(await s.getNumDevices()).toBe(1)
    const reloaded = new Promise<void>((resolve) => {
      d.child.stderr!.on('data', () => {
        if (/Configuration reloaded/.test(d.output())) resolve()
      })
    })
    d.child.kill('SIGHUP')
    await reloaded
    const lines = d
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: string; msg: string })
    expect(lines.every((l) => typeof l.level === 'string' && typeof l.msg === 'string')).toBe(true)
    expect(lines.map((l) => l.msg)).toContain('Request opcode=0(GET_NUM_DEVICES) uid=0 conn_id=1')
  })

  it('takes its socket from systemd socket activation and reports READY=1 over sd_notify', async () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    const sock = join(t.dir, 'api.sock')
    const listener = socket(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    cleanups.push(() => listener.close())
    bind(listener, sockaddrUn(sock))
    listen(listener, 16)
    const notifyPath = join(t.dir, 'notify.sock')
    const notify = socket(K('AF_UNIX'), K('SOCK_DGRAM'))
    cleanups.push(() => notify.close())
    bind(notify, sockaddrUn(notifyPath))
    const ready = new FdWatcher(notify)
    cleanups.push(() => ready.close())
    const gotReady = ready.wait('readable')
    const d = startChild([], /Serving the socket passed by the service manager/, {
      shell: `LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=api exec "${process.execPath}" "${vrtdBin}" --sim --socket /nonexistent/x.sock`,
      stdio: ['ignore', 'pipe', 'pipe', listener.fd],
      env: { NOTIFY_SOCKET: notifyPath, VRTD_LOG: '' },
    })
    await d.ready
    await gotReady
    const buf = new Uint8Array(64)
    const m = recvMsg(notify, buf)
    expect(Buffer.from(buf.subarray(0, m?.bytes ?? 0)).toString()).toBe('READY=1')
    using s = await Session.connect({ path: sock })
    expect(await s.getNumDevices()).toBe(1)
  })
})
