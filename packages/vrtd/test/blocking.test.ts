// BlockingConnection: libvrtd's blocking model (send, then wait for the reply), with the same checks and errors as
// the async Connection, and deadlines from SO_RCVTIMEO.
import { join } from 'node:path'
import { memfdCreate } from '@x/native'
import {
  BlockingConnection,
  connectBlocking,
  getBarFd,
  getBarInfo,
  getDeviceByBdf,
  getDeviceInfo,
  getNumDevices,
  openBarFile,
  rawRequest,
  Session,
  VrtdError,
} from '@x/vrtd'
import { afterEach, describe, expect, it } from 'vitest'
import { exited, FakeVrtd, killChildren, openFds, pkgDir, startChild, tempDir } from './helpers.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      c()
    } catch {}
  }
  killChildren()
})

/** A daemon in another process: a blocking client must not share its event loop. */
async function childDaemon(): Promise<{ path: string; kill: () => Promise<void> }> {
  const t = tempDir()
  cleanups.push(t.cleanup)
  const path = join(t.dir, 'vrtd.sock')
  const d = startChild([join(pkgDir, 'dist/bin/vrtd.js'), '--sim', '--socket', path], /Listening on/, {
    env: { VRTD_LOG: '' },
  })
  await d.ready
  return {
    path,
    kill: async () => {
      d.child.kill('SIGKILL')
      await exited(d.child)
    },
  }
}

function thrown(fn: () => unknown): VrtdError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(VrtdError)
    return e as VrtdError
  }
  throw new Error('expected a throw')
}

function fake(script: ConstructorParameters<typeof FakeVrtd>[1]): FakeVrtd {
  const t = tempDir()
  const f = new FakeVrtd(join(t.dir, 'fake.sock'), script)
  cleanups.push(t.cleanup, () => f.close())
  return f
}

describe('BlockingConnection', () => {
  it('the libvrtd functions return their results directly', async () => {
    const d = await childDaemon()
    const c = connectBlocking(d.path)
    cleanups.push(() => c.close())
    expect(getNumDevices(c)).toBe(1)
    expect(getDeviceInfo(c, 0).name).toBe('slash_ctl0')
    expect(getBarInfo(c, 0, 0).length).toBe(64n << 20n)
    expect(getDeviceByBdf(c, '65:00')).toBe(0)
    const { fd, length } = getBarFd(c, 0, 2)
    expect(length).toBe(128n << 10n)
    fd.close()
    const bf = openBarFile(c, 0, 0)
    bf.writeRegister(0x20, 77)
    bf.close()
    // visible to an async session
    using s = await Session.connect({ path: d.path })
    expect((await (await (await s.getDevice(0)).getBar(0)).openBarFile()).readRegister(0x20)).toBe(77)
    expect(thrown(() => getBarInfo(c, 0, 6)).code).toBe('BAD_REQUEST')
    expect(thrown(() => getBarFd(c, 9, 0)).code).toBe('AUTH_ERROR')
    expect(thrown(() => getDeviceInfo(c, -1))).toMatchObject({ code: 'BAD_LIB_CALL', reason: 'INVALID_VALUE' })
    expect(rawRequest(c, 0).ret).toBe(3)
    expect(c.closed).toBe(false)
  })

  it('connect failures, timeouts, a vanished daemon and stray replies are BAD_CONN; fds do not leak', () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    expect(thrown(() => BlockingConnection.open({ path: join(t.dir, 'none') }))).toMatchObject({
      code: 'BAD_CONN',
      reason: 'CONNECT_FAILED',
    })
    expect(thrown(() => connectBlocking(`/tmp/${'y'.repeat(200)}`)).cause).toMatchObject({ code: 'ENAMETOOLONG' })
  })

  it('replies are checked like the async client: seqno mismatch, short replies, extra fds', async () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    for (const [mode, want] of [
      ['wrong-seqno', { code: 'RESPONSE_MISMATCH' }],
      ['short', { code: 'BAD_CONN', reason: 'PROTOCOL' }],
      ['extra-fds', null],
    ] as const) {
      const path = join(t.dir, `${mode}.sock`)
      const f = startChild([join(pkgDir, 'test/fixtures/fake-daemon.mjs'), path, mode], /ready/)
      await f.ready
      const c = connectBlocking(path)
      cleanups.push(() => c.close())
      const base = openFds()
      if (want === null) {
        expect(getNumDevices(c)).toBe(1)
        expect(openFds()).toBe(base)
      } else {
        expect(thrown(() => getNumDevices(c))).toMatchObject(want)
        expect(c.closed).toBe(true)
      }
    }
  })

  it('a daemon that does not answer: TIMEOUT, and the connection is closed', async () => {
    const f = fake(() => {})
    // the fake lives in this process: it cannot answer while we block, which is exactly a hung daemon
    const c = connectBlocking(f.path, { timeout: 100 })
    cleanups.push(() => c.close())
    expect(thrown(() => getNumDevices(c))).toMatchObject({ code: 'BAD_CONN', reason: 'TIMEOUT' })
    expect(c.closed).toBe(true)
    expect(thrown(() => getNumDevices(c)).code).toBe('BAD_CONN')
  })

  it('unexpected fds are closed; a daemon that dies fails the next call at once (PEER_CLOSED)', async () => {
    const d = await childDaemon()
    const base = openFds()
    const c = connectBlocking(d.path)
    const extra = memfdCreate('extra')
    expect(rawRequest(c, 0, new Uint8Array(1), { fds: [extra] }).ret).toBe(3)
    extra.close()
    c.close()
    expect(openFds()).toBe(base)
    expect(thrown(() => getNumDevices(c))).toMatchObject({ code: 'BAD_CONN', reason: 'CLOSED' })
    // a daemon that hangs up: PEER_CLOSED at once
    const g = connectBlocking(d.path, { timeout: 60_000 })
    cleanups.push(() => g.close())
    expect(getNumDevices(g)).toBe(1)
    await d.kill()
    expect(thrown(() => getNumDevices(g))).toMatchObject({ code: 'BAD_CONN', reason: 'PEER_CLOSED' })
  })
})
