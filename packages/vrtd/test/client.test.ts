// The client against a scripted fake daemon (upstream's FakeVrtd idea) and broken peers: every fault ends in a
// typed error, nothing hangs past its deadline, no fd leaks, and a reply that breaks the protocol tears the
// connection down.
import { closeSync, openSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bind, K, memfdCreate, type OwnedFd, pipe, sockaddrUn, socket } from '@x/native'
import {
  Connection,
  connect,
  getBarFd,
  getDeviceInfo,
  getNumDevices,
  openBarFile,
  rawRequest,
  resolveSocketPath,
  STANDARD_PATH,
  VrtdError,
} from '@x/vrtd'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeVrtd, fixtures, killChildren, openFds, reply, runNode, startDaemon, tempDir } from './helpers.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      c()
    } catch {}
  }
  killChildren()
})

function fake(script: ConstructorParameters<typeof FakeVrtd>[1]): FakeVrtd {
  const t = tempDir()
  const f = new FakeVrtd(join(t.dir, 'fake.sock'), script)
  cleanups.push(t.cleanup, () => f.close())
  return f
}

async function conn(path: string, timeout = 5000, f?: FakeVrtd): Promise<Connection> {
  const c = await connect(path, { timeout })
  cleanups.push(() => c.close())
  // let the fake accept, so fd counts taken now include its end
  for (let i = 0; f && f.peers.length === 0 && i < 200; i++) await new Promise((r) => setTimeout(r, 5))
  return c
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

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}

describe('connect', () => {
  it('socket path: option, else $VRTD_SOCKET, else /run/vrtd.sock', () => {
    expect(resolveSocketPath('/x.sock', { VRTD_SOCKET: '/y.sock' })).toBe('/x.sock')
    expect(resolveSocketPath(undefined, { VRTD_SOCKET: '/y.sock' })).toBe('/y.sock')
    expect(resolveSocketPath(undefined, {})).toBe(STANDARD_PATH)
    expect(STANDARD_PATH).toBe('/run/vrtd.sock')
  })

  it('no daemon → BAD_CONN at once (ENOENT, ECONNREFUSED, ENAMETOOLONG)', async () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    const missing = await rejection(connect(join(t.dir, 'none.sock')))
    expect(missing).toMatchObject({ code: 'BAD_CONN', reason: 'CONNECT_FAILED' })
    expect((missing.cause as { code: string }).code).toBe('ENOENT')
    // a socket file nobody listens on
    const stale = join(t.dir, 'stale.sock')
    const s = socket(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    bind(s, sockaddrUn(stale))
    s.close()
    expect(((await rejection(connect(stale))).cause as { code: string }).code).toBe('ECONNREFUSED')
    const long = await rejection(connect(`/tmp/${'x'.repeat(120)}`))
    expect((long.cause as { code: string }).code).toBe('ENAMETOOLONG')
    // a regular file
    const file = join(t.dir, 'file')
    writeFileSync(file, '')
    expect((await rejection(connect(file))).code).toBe('BAD_CONN')
  })

  it('an idle connection does not keep the process alive', async () => {
    const d = startDaemon()
    cleanups.push(d.close)
    const r = await runNode([join(fixtures, 'idle.mjs')], { env: { VRTD_SOCKET: d.path } })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ devices: 1 })
  })
})

describe('replies that break the protocol', () => {
  it('seqnos are unique, from 1; a reply with an unknown seqno tears down (RESPONSE_MISMATCH)', async () => {
    let n = 0
    const f = fake((req, peer) => {
      n++
      peer.send(reply(0, n < 3 ? req.seqno : req.seqno + 100, u32(1)))
    })
    const c = await conn(f.path)
    expect(await getNumDevices(c)).toBe(1)
    expect(await getNumDevices(c)).toBe(1)
    const pending = getNumDevices(c)
    const e = await rejection(pending)
    expect(e.code).toBe('RESPONSE_MISMATCH')
    expect(c.closed).toBe(true)
    expect((await rejection(getNumDevices(c))).code).toBe('RESPONSE_MISMATCH')
    expect(f.requests.map((r) => r.seqno)).toEqual([1, 2, 3])
    expect(f.requests.every((r) => r.opcode === 0 && r.size === 1 && r.body[0] === 0)).toBe(true)
  })

  it('short or truncated OK replies, client-local codes on the wire, missing fds: BAD_CONN (PROTOCOL)', async () => {
    const cases: [string, (seq: number) => Uint8Array][] = [
      ['shorter than a header', () => new Uint8Array([4, 0, 0])],
      ['size below the opcode’s struct', (s) => reply(0, s, new Uint8Array(2))],
      ['length ≠ 8 + size', (s) => reply(0, s, u32(1), 40)],
      ['ret 1 (BAD_LIB_CALL) on the wire', (s) => reply(1, s)],
      ['ret 2 (BAD_CONN) on the wire', (s) => reply(2, s)],
    ]
    for (const [what, make] of cases) {
      const f = fake((req, peer) => {
        peer.send(make(req.seqno))
      })
      const c = await conn(f.path)
      const e = await rejection(getNumDevices(c))
      expect({ what, code: e.code, reason: e.reason }).toEqual({ what, code: 'BAD_CONN', reason: 'PROTOCOL' })
      expect(c.closed).toBe(true)
    }
    const f = fake((req, peer) => {
      peer.send(reply(0, req.seqno, new Uint8Array(8))) // GET_BAR_FD OK without its fd
    })
    const c = await conn(f.path)
    expect((await rejection(getBarFd(c, 0, 0))).reason).toBe('PROTOCOL')
  })

  it('tolerates what wire.h allows: trailing bytes, garbage size on errors, unknown ret values', async () => {
    const f = fake((req, peer) => {
      if (req.opcode === 0)
        peer.send(reply(0, req.seqno, new Uint8Array([2, 0, 0, 0, 9, 9, 9, 9]))) // longer
      else if (req.opcode === 1)
        peer.send(reply(7, req.seqno, new Uint8Array(0), 0x1234)) // v0 garbage size
      else if (req.opcode === 2)
        peer.send(reply(5, req.seqno, new Uint8Array(30), 30)) // error with a body
      else peer.send(reply(42, req.seqno))
    })
    const c = await conn(f.path)
    expect(await getNumDevices(c)).toBe(2)
    expect((await rejection(getDeviceInfo(c, 0))).code).toBe('AUTH_ERROR')
    const e = await rejection((async () => (await import('@x/vrtd')).getBarInfo(c, 0, 0))())
    expect(e.code).toBe('NOEXIST')
    const u = await rejection((async () => (await import('@x/vrtd')).getBarFd(c, 0, 0))())
    expect([u.code, u.ret, u.message]).toEqual(['UNKNOWN', 42, 'Unknown error (42): GET_BAR_FD'])
    expect(c.closed).toBe(false)
    expect(await getNumDevices(c)).toBe(2)
  })

  it('unexpected fds are closed; more than 3 fds tear down; nothing leaks', async () => {
    const base = openFds()
    const extra: OwnedFd[] = []
    const f = fake((req, peer) => {
      const fds = [memfdCreate('x'), memfdCreate('y'), memfdCreate('z'), memfdCreate('w')]
      extra.push(...fds)
      if (req.seqno === 1)
        peer.send(reply(0, req.seqno, u32(1)), fds.slice(0, 2)) // 2 fds nobody expects
      else if (req.seqno === 2)
        peer.send(reply(3, req.seqno), fds.slice(0, 1)) // an fd with an error
      else peer.send(reply(0, req.seqno, u32(1)), fds) // 4: more than a reply may carry
      for (const x of fds) x.close()
    })
    const c = await conn(f.path, 5000, f)
    const before = openFds()
    expect(await getNumDevices(c)).toBe(1)
    expect((await rejection(getNumDevices(c))).code).toBe('BAD_REQUEST')
    expect(openFds()).toBe(before)
    expect((await rejection(getNumDevices(c))).reason).toBe('PROTOCOL')
    f.close()
    c.close()
    await new Promise((r) => setTimeout(r, 10))
    expect(openFds()).toBe(base)
    expect(extra.every((x) => x.closed)).toBe(true)
  })

  it('raw requests hand every fd and any ret to the caller', async () => {
    const f = fake((req, peer) => {
      const m = memfdCreate('lend')
      peer.send(
        reply(req.opcode === 99 ? 0 : 5, req.seqno, req.opcode === 99 ? new Uint8Array([1, 2, 3]) : undefined),
        [m],
      )
      m.close()
    })
    const c = await conn(f.path)
    const r = await rawRequest(c, 99, new Uint8Array([7, 7]))
    expect([r.ret, [...r.body], r.fds.length]).toEqual([0, [1, 2, 3], 1])
    for (const x of r.fds) x.close()
    const e = await rawRequest(c, 98)
    expect([e.ret, e.body.length, e.fds.length]).toEqual([5, 0, 1])
    for (const x of e.fds) x.close()
    expect(f.requests[0]!.body).toEqual(new Uint8Array([7, 7]))
    expect((await rejection(rawRequest(c, 1, new Uint8Array(4089)))).reason).toBe('BODY_TOO_LARGE')
  })
})

describe('daemons that stop answering', () => {
  it('no reply → BAD_CONN (TIMEOUT) for every pending request; the connection is closed', async () => {
    const f = fake(() => {})
    const c = await connect(f.path, { timeout: 100 })
    cleanups.push(() => c.close())
    const a = rejection(getNumDevices(c))
    const b = rejection(getDeviceInfo(c, 0, { timeout: 60_000 }))
    expect(await a).toMatchObject({ code: 'BAD_CONN', reason: 'TIMEOUT' })
    expect(await b).toMatchObject({ code: 'BAD_CONN', reason: 'TIMEOUT' })
    expect(c.closed).toBe(true)
  })

  it('a per-request timeout can be shorter than the connection’s', async () => {
    const f = fake(() => {})
    const c = await conn(f.path, 60_000)
    expect(await rejection(getNumDevices(c, { timeout: 50 }))).toMatchObject({ reason: 'TIMEOUT' })
  })

  it('the daemon hangs up mid-request → BAD_CONN (PEER_CLOSED) at once', async () => {
    const f = fake((_req, peer) => peer.close())
    const c = await conn(f.path, 60_000)
    expect(await rejection(getNumDevices(c))).toMatchObject({ code: 'BAD_CONN', reason: 'PEER_CLOSED' })
    expect(await rejection(getNumDevices(c))).toMatchObject({ code: 'BAD_CONN' })
  })

  it('an aborted request rejects; its late reply is dropped; the connection goes on', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    const f = fake(async (req, peer) => {
      if (req.seqno === 1) await gate
      peer.send(reply(0, req.seqno, u32(req.seqno)))
    })
    const c = await conn(f.path)
    const ac = new AbortController()
    const p = rejection(getNumDevices(c, { signal: ac.signal }))
    ac.abort()
    expect(await p).toMatchObject({ code: 'BAD_CONN', reason: 'ABORTED' })
    release()
    expect(await getNumDevices(c)).toBe(2)
    expect(c.closed).toBe(false)
  })

  it('requests queue when the socket buffer is full and go out in order', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    const f = fake(async (req, peer) => {
      await gate
      await peer.write(reply(0, req.seqno, u32(req.seqno)))
    })
    const c = await conn(f.path, 30_000)
    const all = Promise.all(Array.from({ length: 3000 }, () => getNumDevices(c)))
    await new Promise((r) => setTimeout(r, 50))
    release()
    const got = await all
    expect(got).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1))
  })
})

describe('BAR fds that cannot be mapped', () => {
  it('a pipe as BAR: mmap fails, the BAR fd is closed, the connection stays usable (§7.4.4)', async () => {
    const f = fake((req, peer) => {
      if (req.opcode === 3) {
        const [r, w] = pipe()
        peer.send(reply(0, req.seqno, new Uint8Array([0, 0x10, 0, 0, 0, 0, 0, 0])), [r])
        r.close()
        w.close()
      } else peer.send(reply(0, req.seqno, u32(1)))
    })
    const c = await conn(f.path, 5000, f)
    const base = openFds()
    const e = await rejection(openBarFile(c, 0, 2))
    expect(e).toMatchObject({ code: 'INTERNAL_ERROR', reason: 'MAP_FAILED' })
    expect((e.cause as { code: string }).code).toMatch(/ENODEV|EACCES/)
    expect(openFds()).toBe(base)
    expect(await getNumDevices(c)).toBe(1)
  })

  it('a file BAR: the sync ioctl answers ENOTTY and is skipped', async () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    const file = join(t.dir, 'bar')
    writeFileSync(file, Buffer.alloc(8192))
    const f = fake((req, peer) => {
      const fd = openSync(file, 'r+')
      peer.send(reply(0, req.seqno, new Uint8Array([0, 0x20, 0, 0, 0, 0, 0, 0])), [fd])
      closeSync(fd)
    })
    const c = await conn(f.path)
    const bf = await openBarFile(c, 0, 0)
    cleanups.push(() => bf.close({ force: true }))
    expect(bf.length).toBe(8192)
    bf.writeRegister(8, 0x55aa55aa)
    expect(bf.readRegister(8)).toBe(0x55aa55aa)
    const mock = await openBarFile(c, 0, 0, { mock: true })
    cleanups.push(() => mock.close({ force: true }))
    expect(mock.mock).toBe(true)
    expect(mock.readRegister(8)).toBe(0x55aa55aa)
  })
})

it('Connection.open validates its options', async () => {
  await expect(Connection.open({ path: '/nonexistent', protocol: 'v9' as never })).rejects.toMatchObject({
    code: 'BAD_LIB_CALL',
  })
  await expect(Connection.open({ path: '/nonexistent', timeout: -1 })).rejects.toMatchObject({
    reason: 'INVALID_VALUE',
  })
})
