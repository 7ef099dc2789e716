// The emulated device end to end in one process: a CmioHost on a temp socket and a guest that uses the async
// calls (so the host can run on the same event loop), plus a worker-thread guest whose yields really block.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import {
  Cmio,
  type CmioError,
  CmioHost,
  type CmioRequest,
  type CmioSession,
  protocol,
  RX_ADDRESS,
  type SessionEnd,
  TX_ADDRESS,
} from '@x/cmio'
import { K, mmap, SeqpacketSocket } from '@x/native'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

let dir = ''
let sock = ''
const cleanup: (() => void)[] = []
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xcmio-e-'))
  sock = join(dir, 'cmio.sock')
})
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f()
  rmSync(dir, { recursive: true, force: true })
})
function host(): CmioHost {
  const x = CmioHost.listen(sock)
  cleanup.push(() => x.close())
  return x
}
async function guest(): Promise<Cmio> {
  const c = await Cmio.openAsync({ device: sock })
  cleanup.push(() => c.close())
  return c
}
function nextEnd(h: CmioHost): Promise<SessionEnd> {
  return new Promise((r) => h.once('end', (_s, e) => r(e)))
}
const enc = new TextEncoder()
const text = (b: Uint8Array): string => Buffer.from(b).toString()

describe('emulated device: handshake and mapping', () => {
  it('maps both memfds at the real addresses and picks the backend from the socket', async () => {
    const h = host()
    h.onYield(() => ({ reason: 1 }))
    const c = await guest()
    expect(c.backend).toBe('emulated')
    expect(c.setup).toEqual({ tx: { data: TX_ADDRESS, length: 0x200000 }, rx: { data: RX_ADDRESS, length: 0x200000 } })
    expect(c.getTxLength()).toBe(0x200000)
    const maps = readFileSync('/proc/self/maps', 'utf8')
    expect(maps).toMatch(/^60000000-60200000 rw-s .*memfd:cmio-rx/m)
    expect(maps).toMatch(/^60800000-60a00000 rw-s .*memfd:cmio-tx/m)
    expect(h.session).not.toBeNull()
  })

  it('refuses a second guest with EBUSY while one is attached, and frees the slot when it leaves', async () => {
    const h = host()
    h.onYield(() => ({ reason: 1 }))
    const first = await guest()
    const err = await Cmio.openAsync({ device: sock }).catch((e: CmioError) => e)
    expect(err).toMatchObject({ kind: 'OpenError', code: 'EBUSY' })
    const ended = nextEnd(h)
    first.close()
    expect(await ended).toMatchObject({ byGuest: true })
    const again = await guest()
    expect(await again.manualAsync(0x42, 0)).toEqual({ reason: 1, length: 0 })
  })

  it('reports a busy address range as MapError(EINVAL) and leaks nothing', async () => {
    const h = host()
    const squatter = mmap(-1, 4096, {
      flags: K('MAP_PRIVATE') | K('MAP_ANONYMOUS') | K('MAP_FIXED_NOREPLACE'),
      address: RX_ADDRESS + 0x1000n,
    })
    try {
      const fds = (): number => readdirSync('/proc/self/fd').length
      const before = fds()
      const ended = nextEnd(h)
      const err = await Cmio.openAsync({ device: sock }).catch((e: CmioError) => e)
      expect(err).toMatchObject({ kind: 'MapError', code: 'EINVAL', syscall: 'mmap' })
      expect((err as Error).cause).toMatchObject({ code: 'EEXIST' })
      await ended
      expect(fds()).toBe(before)
      expect(readFileSync('/proc/self/maps', 'utf8')).not.toMatch(/^60800000-/m) // tx was unmapped again
    } finally {
      squatter.unmap()
    }
    const c = await guest()
    expect(c.backend).toBe('emulated')
  })

  it('refuses an unknown protocol version', async () => {
    host()
    const s = await SeqpacketSocket.connect(sock)
    cleanup.push(() => s.close())
    s.send(protocol.encodeHello(2))
    const m = await s.recv()
    expect(m?.data.byteLength).toBe(4)
    expect(new DataView(m!.data.buffer).getUint32(0, true)).toBe(93) // EPROTONOSUPPORT
    expect(await s.recv()).toBeNull()
  })

  it('OpenError for a socket nobody listens on', async () => {
    const h = host()
    h.close()
    await expect(Cmio.openAsync({ device: sock })).rejects.toMatchObject({ kind: 'OpenError', code: 'ENOENT' })
  })
})

describe('emulated device: the emulator semantics', () => {
  it('ignores commands other than 0 and 1 (reply 0, no handler), acks automatic yields, answers manual ones', async () => {
    const seen: CmioRequest[] = []
    const h = host()
    h.onYield((r) => {
      seen.push({ ...r, data: r.data.slice() })
      if (r.cmd === 1) return { reason: 0x1234, data: enc.encode(`re:${text(r.data)}`) }
    })
    const c = await guest()
    // tapcmio's network-mode demo, in order: an automatic yield with reason 0, then cmd 2
    expect(await c.yieldAsync({ dev: 0, cmd: 0, reason: 0, data: 0 })).toEqual({ dev: 2, cmd: 0, reason: 0, data: 0 })
    const demo = await c.yieldWithBufferAsync(1, 2, 3, enc.encode('Hello, TAP CMIO!'))
    expect(demo).toEqual({ rx: new Uint8Array(0), reason: 0 })
    expect(seen).toHaveLength(1)
    // dev is not looked at: 0 and 7 behave as 2
    const r = await c.yieldWithBufferAsync(7, 1, 0x42, enc.encode('ping'))
    expect(r.reason).toBe(0x1234)
    expect(text(r.rx)).toBe('re:ping')
    expect(seen[1]).toMatchObject({ cmd: 1, reason: 0x42, length: 4 })
    expect(text(seen[1]!.data)).toBe('ping')
    expect(await c.yieldAsync({ dev: 2, cmd: 1, reason: 0x42, data: 0 })).toEqual({
      dev: 0,
      cmd: 0,
      reason: 0x1234,
      data: 3,
    })
  })

  it('zero-fills rx padding in the guest mapping', async () => {
    let len = 0
    const h = host()
    h.onYield(() => ({ reason: 2, data: new Uint8Array(len).fill(0xaa) }))
    const c = await guest()
    h.session!.rx.fill(0xee, 0, 200) // the host's view of the same memory
    len = 1
    await c.manualAsync(0x42, 0)
    expect(c.rx[0]).toBe(0xaa)
    expect(c.rx.subarray(1, 32).every((b) => b === 0)).toBe(true)
    expect(c.rx[32]).toBe(0xee)
    h.session!.rx.fill(0xee, 0, 200)
    len = 33
    await c.manualAsync(0x42, 0)
    expect(c.rx.subarray(33, 64).every((b) => b === 0)).toBe(true)
    expect(c.rx[64]).toBe(0xee)
  })

  it('passes PROGRESS as its 4-byte data and refuses requests longer than tx', async () => {
    const seen: number[][] = []
    const h = host()
    h.onYield((r) => {
      seen.push(Array.from(r.data))
    })
    const c = await guest()
    await c.automaticAsync(1, 500)
    expect(seen).toEqual([[0xf4, 0x01, 0, 0]])
    const ended = nextEnd(h)
    await expect(c.yieldAsync({ dev: 2, cmd: 0, reason: 2, data: 0x200001 })).rejects.toMatchObject({
      kind: 'YieldError',
      code: 'EINVAL',
    })
    expect(await ended).toMatchObject({ errno: 22, byGuest: false })
  })

  it('ends the session on rx-rejected and tx-exception: the guest yield fails, the host reports it', async () => {
    for (const reason of [2, 4]) {
      const h = CmioHost.listen(sock)
      h.onYield(() => undefined)
      const c = await Cmio.openAsync({ device: sock })
      const ended = nextEnd(h)
      await expect(c.manualAsync(reason, 0)).rejects.toMatchObject({ kind: 'YieldError', code: 'EIO' })
      expect((await ended).reason).toMatch(reason === 2 ? /rx-rejected/ : /tx-exception/)
      await expect(c.manualAsync(0x42, 0)).rejects.toMatchObject({ kind: 'YieldError' })
      c.close()
      h.close()
    }
  })

  it('serves the pull API like the emulator: receiveCmioRequest / sendCmioResponse', async () => {
    const h = host()
    const c = await guest()
    const g = (async () => {
      c.tx.set(enc.encode('out'))
      await c.automaticAsync(2, 3)
      c.tx.set(enc.encode('root'))
      return c.manualAsync(1, 4)
    })()
    const a = await h.receiveCmioRequest()
    expect(a).toMatchObject({ cmd: 0, reason: 2, length: 3 })
    expect(text(a.data)).toBe('out')
    expect(() => h.sendCmioResponse(1)).toThrow('iflags.Y is not set')
    const m = await h.receiveCmioRequest() // acknowledges the automatic yield first
    expect(m).toMatchObject({ cmd: 1, reason: 1, length: 4 })
    expect(await h.receiveCmioRequest()).toBe(m) // still yielded manually
    h.sendCmioResponse(0, enc.encode('input'))
    expect(await g).toEqual({ reason: 0, length: 5 })
    expect(text(c.rx.subarray(0, 5))).toBe('input')
  })

  it('aborts a long-polling handler when the guest leaves, and detaches the guest views on close', async () => {
    const h = host()
    let signal: AbortSignal | undefined
    h.onYield((_r, s: CmioSession) => {
      signal = s.signal
      return new Promise(() => {}) // hold forever
    })
    const c = await guest()
    const tx = c.tx
    const pending = c.manualAsync(0x42, 0)
    await vi.waitFor(() => expect(signal).toBeDefined())
    const ended = nextEnd(h)
    c.close()
    await expect(pending).rejects.toMatchObject({ kind: 'YieldError' })
    expect(await ended).toMatchObject({ byGuest: true })
    expect(signal!.aborted).toBe(true)
    expect(tx.byteLength).toBe(0)
    expect(c.rx.byteLength).toBe(0)
    expect(readFileSync('/proc/self/maps', 'utf8')).not.toMatch(/^60[08]00000-/m)
  })

  it('fails the guest yield when the host goes away', async () => {
    const h = host()
    h.onYield(() => new Promise(() => {}))
    const c = await guest()
    const p = c.manualAsync(0x42, 0)
    setTimeout(() => h.close(), 10)
    await expect(p).rejects.toMatchObject({ kind: 'YieldError', code: 'EIO' })
  })

  it('ends a session that breaks the protocol', async () => {
    const h = host()
    const ended = nextEnd(h)
    const s = await SeqpacketSocket.connect(sock, { maxFds: 2 })
    cleanup.push(() => s.close())
    s.send(protocol.encodeHello())
    const w = await s.recv()
    for (const f of w!.fds) f.close()
    s.send(new Uint8Array(3))
    expect(await ended).toMatchObject({ errno: 71 }) // EPROTO
  })
})

describe('emulated device: a guest thread that really blocks', () => {
  it('Cmio.open() and yield_() block a worker thread until the host answers', async () => {
    const h = host()
    let held = 0
    h.onYield(async (r) => {
      if (r.cmd === 0) return
      held++
      await new Promise((res) => setTimeout(res, 20)) // the worker is stopped meanwhile
      return { reason: 3, data: enc.encode(`got ${text(r.data)}`) }
    })
    const url = new URL('./fixtures/guest-sync.mjs', import.meta.url)
    const w = new Worker(url, {
      workerData: {
        device: sock,
        steps: [
          { dev: 0, cmd: 0, reason: 0, raw: true },
          { dev: 1, cmd: 2, reason: 3, tx: 'Hello, TAP CMIO!' },
          { dev: 2, cmd: 1, reason: 0x42, tx: 'frame' },
          { dev: 2, cmd: 1, reason: 0x43, tx: 'mux' },
        ],
      },
    })
    cleanup.push(() => void w.terminate())
    const result = await new Promise<{ steps: unknown[]; error?: unknown }>((res, rej) => {
      w.once('message', res)
      w.once('error', rej)
    })
    expect(result.error).toBeUndefined()
    expect(result.steps).toEqual([
      { y: { dev: 2, cmd: 0, reason: 0, data: 0 } },
      { reason: 0, rx: '' },
      { reason: 3, rx: 'got frame' },
      { reason: 3, rx: 'got mux' },
    ])
    expect(held).toBe(2)
  })
})

describe('emulated device: the host socket path', () => {
  it('replaces a stale socket but never removes anything else', () => {
    const a = CmioHost.listen(sock)
    // a second host on the same path replaces the stale/old socket (the first keeps its fd, loses the name)
    const b = CmioHost.listen(sock)
    a.close() // not a's file any more: left alone
    expect(existsSync(sock)).toBe(true)
    b.close()
    expect(existsSync(sock)).toBe(false)
    const file = join(dir, 'not-a-socket')
    writeFileSync(file, 'keep me')
    expect(() => CmioHost.listen(file)).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }))
    expect(readFileSync(file, 'utf8')).toBe('keep me')
  })
})

describe('emulated device: a hostile host', () => {
  it('BufferTooLarge when a reply claims more than rx; MapError when a memfd is smaller than the setup says', async () => {
    const { SeqpacketServer, memfdCreate } = await import('@x/native')
    const { encodeSetup, defaultSetup } = await import('@x/cmio')
    let small = false
    const srv = SeqpacketServer.listen(sock, { maxFds: 0 })
    cleanup.push(() => srv.close())
    srv.on('connection', (peer) => {
      peer.once('message', () => {
        const w = new Uint8Array(36)
        encodeSetup(defaultSetup(), w, 4)
        const tx = memfdCreate('tx', { size: 0x200000 })
        const rx = memfdCreate('rx', { size: small ? 4096 : 0x200000 })
        peer.send(w, [tx, rx])
        tx.close()
        rx.close()
        peer.on('message', () => {
          peer.send(protocol.encodeWord(0x0000000100200001n)) // reason 1, 2 MiB + 1 bytes
        })
      })
    })
    const c = await guest()
    await expect(c.yieldWithBufferAsync(2, 1, 0x42, new Uint8Array(1))).rejects.toMatchObject({
      kind: 'BufferTooLarge',
      size: 0x200001,
      max: 0x200000,
    })
    c.close()
    small = true
    await expect(Cmio.openAsync({ device: sock })).rejects.toMatchObject({ kind: 'MapError', code: 'EINVAL' })
  })
})
