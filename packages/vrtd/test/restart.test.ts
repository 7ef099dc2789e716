// The daemon goes away while sessions are open: a request in flight and every later one fail with BAD_CONN at once
// (PEER_CLOSED, not a timeout), an idle session notices on its own, and a new daemon on the same path serves new
// sessions.
import { join } from 'node:path'
import { Session, VrtdError } from '@x/vrtd'
import { afterEach, describe, expect, it } from 'vitest'
import { exited, killChildren, pkgDir, startChild, tempDir } from './helpers.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c()
  killChildren()
})

async function vrtd(sock: string) {
  const d = startChild([join(pkgDir, 'dist/bin/vrtd.js'), '--sim', '--socket', sock], /Listening on/, {
    env: { VRTD_LOG: '' },
  })
  await d.ready
  return d.child
}

async function rejection(p: Promise<unknown>): Promise<VrtdError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(VrtdError)
    return e as VrtdError
  }
  throw new Error('expected a rejection')
}

describe('daemon restart', () => {
  it('a killed daemon fails the pending request and later ones with BAD_CONN; a new daemon serves new sessions', async () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    const sock = join(t.dir, 'vrtd.sock')
    const first = await vrtd(sock)
    const s = await Session.connect({ path: sock, timeout: 60_000 })
    cleanups.push(() => s.close())
    const idle = await Session.connect({ path: sock, timeout: 60_000 })
    cleanups.push(() => idle.close())
    expect(await s.getNumDevices()).toBe(1)
    expect(await idle.getNumDevices()).toBe(1)
    const bf = await (await (await s.getDevice(0)).getBar(0)).openBarFile()
    bf.writeRegister(0, 42)

    first.kill('SIGSTOP') // the request below is certainly in flight when the daemon dies
    const inFlight = rejection(s.getNumDevices())
    first.kill('SIGKILL')
    await exited(first)
    expect(await inFlight).toMatchObject({ code: 'BAD_CONN', reason: 'PEER_CLOSED' })
    expect(await rejection(s.getNumDevices())).toMatchObject({ code: 'BAD_CONN' })
    expect(s.closed).toBe(true)
    // the idle session found out by itself (its watcher saw the hang-up)
    for (let i = 0; i < 200 && !idle.closed; i++) await new Promise((r) => setTimeout(r, 5))
    expect(idle.closed).toBe(true)
    expect(await rejection(idle.getNumDevices())).toMatchObject({ code: 'BAD_CONN', reason: 'PEER_CLOSED' })
    // the mapping outlives the daemon
    expect(bf.readRegister(0)).toBe(42)

    const second = await vrtd(sock)
    cleanups.push(() => second.kill('SIGKILL'))
    using fresh = await Session.connect({ path: sock })
    expect(await fresh.getNumDevices()).toBe(1)
  })

  it('SIGTERM: the daemon disconnects its clients, removes its socket and exits 0', async () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    const sock = join(t.dir, 'vrtd.sock')
    const d = await vrtd(sock)
    const s = await Session.connect({ path: sock, timeout: 60_000 })
    cleanups.push(() => s.close())
    expect(await s.getNumDevices()).toBe(1)
    const code = new Promise<number | null>((r) => d.once('exit', (c) => r(c)))
    d.kill('SIGTERM')
    expect(await code).toBe(0)
    expect(await rejection(s.getNumDevices())).toMatchObject({ code: 'BAD_CONN' })
    expect((await rejection(Session.connect({ path: sock }))).cause).toMatchObject({ code: 'ENOENT' })
  })
})
