import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memfdCreate, mmap, SeqpacketServer, SeqpacketSocket } from '@x/native'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openFds } from './helpers.js'

let dir = ''
const closers: { close(): void }[] = []
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xseq-'))
})
afterEach(() => {
  for (const c of closers.splice(0)) c.close()
  rmSync(dir, { recursive: true, force: true })
})
function track<T extends { close(): void }>(x: T): T {
  closers.push(x)
  return x
}

describe('SeqpacketSocket', () => {
  it('keeps message boundaries, passes fds, and iterates until the peer closes', async () => {
    const [a, b] = SeqpacketSocket.pair()
    track(a)
    track(b)
    using mf = memfdCreate('bar', { size: 4096 })
    expect(a.send(Buffer.from('one'))).toBe(true)
    expect(a.send(Buffer.from('two!'), [mf])).toBe(true)
    a.close()
    const got: string[] = []
    for await (const m of b) {
      got.push(Buffer.from(m.data).toString())
      if (m.fds.length) {
        using r = mmap(m.fds[0]!, 4096)
        expect(r.length).toBe(4096)
        for (const f of m.fds) f.close()
      }
    }
    expect(got).toEqual(['one', 'two!'])
    expect(b.closed).toBe(true)
  })

  it("delivers 'message' events when a listener is attached", async () => {
    const [a, b] = SeqpacketSocket.pair()
    track(a)
    track(b)
    const seen: number[] = []
    const done = new Promise<void>((resolve) =>
      b.on('message', (m) => {
        seen.push(m.data[0]!)
        if (seen.length === 100) resolve()
      }),
    )
    for (let i = 0; i < 100; i++) a.send(Uint8Array.of(i))
    await done
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it('write() waits for room when the socket buffer is full, losing nothing', async () => {
    const [a, b] = SeqpacketSocket.pair()
    track(a)
    track(b)
    const msg = new Uint8Array(4000)
    let sent = 0
    while (a.send(msg)) sent++
    expect(sent).toBeGreaterThan(0)
    const pending = a.write(Uint8Array.of(0xee))
    let received = 0
    let last = -1
    while (received < sent + 1) {
      const m = (await b.recv())!
      received++
      last = m.data[0]!
    }
    await pending
    expect(last).toBe(0xee)
  })

  it('listens, accepts, reports the peer, and removes its socket file on close', async () => {
    const path = join(dir, 'd.sock')
    const srv = track(SeqpacketServer.listen(path))
    const accepted = new Promise<SeqpacketSocket>((r) => srv.once('connection', r))
    const c = track(await SeqpacketSocket.connect(path))
    const s = track(await accepted)
    expect(s.peerCred().pid).toBe(process.pid)
    c.send(Buffer.from('hello'))
    const m = (await s.recv())!
    expect(Buffer.from(m.data).toString()).toBe('hello')
    s.send(Buffer.from('world'))
    expect(Buffer.from((await c.recv())!.data).toString()).toBe('world')
    srv.close()
    expect(existsSync(path)).toBe(false)
    s.close()
    expect(await c.recv()).toBeNull()
  })

  it('connect fails fast and typed: no such path, nobody listening, address in use', async () => {
    await expect(SeqpacketSocket.connect(join(dir, 'missing.sock'))).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'connect',
    })
    const path = join(dir, 'stale.sock')
    const srv = SeqpacketServer.listen(path)
    expect(() => SeqpacketServer.listen(path)).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }))
    // a stale socket file with nobody behind it
    const fdsBefore = openFds()
    ;(srv as unknown as { close(): void }).close()
    writeFileSync(join(dir, 'plain'), '')
    await expect(SeqpacketSocket.connect(join(dir, 'plain'))).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    expect(openFds()).toBe(fdsBefore - 1) // the server's fd, and nothing left by the failed connect
    const again = track(SeqpacketServer.listen(path, { unlinkExisting: true }))
    expect(again.fd).toBeGreaterThan(2)
    // a regular file at the path is never removed: binding fails instead
    expect(() => SeqpacketServer.listen(join(dir, 'plain'), { unlinkExisting: true })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE' }),
    )
    expect(existsSync(join(dir, 'plain'))).toBe(true)
  })

  it('recv after close resolves null; send after close is ERR_CLOSED', async () => {
    const [a, b] = SeqpacketSocket.pair()
    b.close()
    a.close()
    expect(await a.recv()).toBeNull()
    expect(() => a.send(Uint8Array.of(1))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })
})
