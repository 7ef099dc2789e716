// The socket multiplexer (0x43): the guest bridge against scripted command batches, and both
// ends together over the in-process device with real Unix and TCP echo servers on loopback / a temp dir.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  Cmio,
  type CmioRequest,
  type CmioSession,
  decodeMuxResponses,
  MUX_BATCH_ERROR,
  type MuxResponse,
  SocketBridge,
  SocketMuxHost,
} from '@x/cmio'
import { decodeMuxBatch, encodeMuxBatch, type MuxMessageInit, MuxType } from '@x/framing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

let dir = ''
let echoPath = ''
let echoPort = 0
const servers: Server[] = []
const closers: (() => void)[] = []

function echoServer(): Server {
  return createServer({ allowHalfOpen: true }, (c: Socket) => {
    c.on('data', (d) => c.write(d))
    c.on('end', () => c.end())
    c.on('error', () => {})
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xcmio-m-'))
  // exactly 40 bytes, to mix with 1- and 3-byte paths in one batch
  echoPath = join(dir, 'e'.repeat(Math.max(1, 40 - dir.length - 1)))
  const u = echoServer()
  await new Promise<void>((r) => u.listen(echoPath, r))
  const t = echoServer()
  await new Promise<void>((r) => t.listen(0, '127.0.0.1', r))
  echoPort = (t.address() as { port: number }).port
  servers.push(u, t)
})
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r))
  rmSync(dir, { recursive: true, force: true })
})
afterEach(() => {
  for (const c of closers.splice(0).reverse()) c()
})

const enc = new TextEncoder()

/** A guest bridge over the in-process device whose host replies with the scripted batches, one per yield. */
function scripted(batches: Uint8Array[], length?: number) {
  const seen: MuxResponse[][] = []
  const handler = (req: CmioRequest) => {
    seen.push(decodeMuxResponses(req.data).map((r) => ({ ...r, data: r.data.slice() })))
    return { reason: 0x43, data: batches.shift() ?? new Uint8Array(0) }
  }
  const cmio = Cmio.open({ backend: 'inprocess', handler, inprocess: length ? { length } : undefined })
  const bridge = new SocketBridge(cmio)
  closers.push(() => {
    bridge.close()
    cmio.close()
  })
  return { cmio, bridge, seen, batches }
}

async function stepUntil(
  bridge: SocketBridge,
  seen: MuxResponse[][],
  count: number,
  max = 200,
): Promise<MuxResponse[]> {
  for (let i = 0; i < max; i++) {
    await bridge.step()
    const all = seen.flat()
    if (all.length >= count) return all
    await new Promise((r) => setTimeout(r, 2))
  }
  throw new Error(`only ${seen.flat().length} of ${count} responses`)
}

describe('guest bridge (SocketBridge)', () => {
  it('parses batches mixing CONNECTs with 1-, 3- and 40-byte paths and TCP_CONNECT (no offset bug)', async () => {
    expect(Buffer.byteLength(echoPath)).toBe(40)
    const cmds: MuxMessageInit[] = [
      { type: MuxType.UNIX_CONNECT, socketId: 1, path: '/' },
      { type: MuxType.TCP_CONNECT, socketId: 2, address: '127.0.0.1', port: echoPort },
      { type: MuxType.UNIX_CONNECT, socketId: 3, path: '/no' },
      { type: MuxType.UNIX_CONNECT, socketId: 4, path: echoPath },
      { type: MuxType.TCP_CONNECT, socketId: 5, address: '127.0.0.1', port: 443 - 443 + 1 }, // nobody on port 1
      { type: MuxType.UNIX_SEND, socketId: 4, data: enc.encode('over unix') },
      { type: MuxType.TCP_SEND, socketId: 2, data: enc.encode('over tcp') },
    ]
    const batch = encodeMuxBatch(cmds)
    expect(decodeMuxBatch(batch)).toHaveLength(cmds.length)
    const { bridge, seen } = scripted([new Uint8Array(0), batch])
    const rs = await stepUntil(bridge, seen, cmds.length)
    const by = new Map(rs.map((r) => [`${r.type}:${r.socketId}`, r.status]))
    expect(by.get('1:1')).toBe(111) // ECONNREFUSED: "/" is not a socket
    expect(by.get('1:3')).toBe(2) // ENOENT
    expect(by.get('1:4')).toBe(0)
    expect(by.get('5:2')).toBe(0)
    expect(by.get('5:5')).toBe(111)
    expect(by.get('2:4')).toBe(0)
    expect(by.get('6:2')).toBe(0)
    expect(rs).toHaveLength(cmds.length) // exactly one response per command
  })

  it('answers unknown ids, wrong families, long paths and reused ids with a status, and keeps running', async () => {
    const long = `/${'x'.repeat(120)}`
    const batch = encodeMuxBatch([
      { type: MuxType.UNIX_SEND, socketId: 77, data: enc.encode('x') },
      { type: MuxType.UNIX_CONNECT, socketId: 8, path: echoPath },
    ])
    // a path over sun_path: framing's encoder refuses it, so build that CONNECT by hand
    const longConnect = new Uint8Array(6 + long.length)
    longConnect.set([1, 0, 0, 0, 9, long.length])
    longConnect.set(enc.encode(long), 6)
    const later = encodeMuxBatch([
      { type: MuxType.UNIX_CONNECT, socketId: 8, path: echoPath },
      { type: MuxType.TCP_RECEIVE, socketId: 8 },
    ])
    const { bridge, seen } = scripted([batch, longConnect, later])
    const rs = await stepUntil(bridge, seen, 5)
    const st = rs.map((r) => [r.type, r.socketId, r.status])
    expect(st).toContainEqual([2, 77, 9]) // EBADF
    expect(st).toContainEqual([1, 8, 0])
    expect(st).toContainEqual([1, 9, 36]) // ENAMETOOLONG
    expect(st).toContainEqual([1, 8, 17]) // EEXIST
    expect(st).toContainEqual([7, 8, 91]) // EPROTOTYPE
  })

  it('answers a malformed batch with BATCH_ERROR, runs the commands before it, and goes on', async () => {
    const good = encodeMuxBatch([{ type: MuxType.UNIX_RECEIVE, socketId: 5 }])
    const bad = new Uint8Array(good.byteLength + 3)
    bad.set(good)
    bad.set([0x09, 0, 0], good.byteLength) // unknown type 0x09
    const truncated = encodeMuxBatch([{ type: MuxType.UNIX_SEND, socketId: 1, data: enc.encode('abcdef') }]).subarray(
      0,
      12,
    )
    const { bridge, seen } = scripted([bad, truncated, encodeMuxBatch([{ type: MuxType.UNIX_CLOSE, socketId: 3 }])])
    const rs = await stepUntil(bridge, seen, 4)
    expect(rs.map((r) => [r.type, r.socketId, r.status])).toEqual([
      [3, 5, 9],
      [MUX_BATCH_ERROR, 0, 74],
      [MUX_BATCH_ERROR, 0, 74],
      [4, 3, 9],
    ])
    expect(Buffer.from(rs[1]!.data).toString()).toMatch(/malformed command batch: unknown mux message type 0x09/)
    expect(bridge.stats.batchErrors).toBe(2)
  })

  it('bounds the response batch by the tx length and carries the rest in the next yield', async () => {
    const part = new Uint8Array(3000).fill(0x61)
    const big = { byteLength: 4 * part.byteLength }
    const send = encodeMuxBatch([{ type: MuxType.UNIX_SEND, socketId: 1, data: part }])
    const { bridge, seen, batches } = scripted(
      [encodeMuxBatch([{ type: MuxType.UNIX_CONNECT, socketId: 1, path: echoPath }]), send, send, send, send],
      4096,
    )
    await stepUntil(bridge, seen, 5)
    await new Promise((r) => setTimeout(r, 20)) // let the echo come back into the guest socket's buffer
    // three RECEIVEs per batch: each response is clamped to the room left in the 4 KiB tx; the rest waits
    const sizes: number[] = []
    for (let i = 0; i < 200 && sizes.reduce((a, b) => a + b, 0) < big.byteLength; i++) {
      seen.length = 0
      batches.push(encodeMuxBatch([1, 2, 3].map(() => ({ type: MuxType.UNIX_RECEIVE, socketId: 1 }) as const)))
      await bridge.step()
      for (const r of seen.flat()) if (r.type === MuxType.UNIX_RECEIVE) sizes.push(r.data.byteLength)
      await new Promise((r) => setTimeout(r, 1))
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(big.byteLength)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4096 - 10)
    expect(seen.flat().every((r) => r.status === 0)).toBe(true)
  })
})

/** Host and guest together over the in-process device. */
function pair(options?: ConstructorParameters<typeof SocketMuxHost>[0], length?: number) {
  const mux = new SocketMuxHost(options)
  const cmio = Cmio.open({
    backend: 'inprocess',
    handler: (req: CmioRequest, s: CmioSession) => mux.handler(req, s),
    inprocess: length ? { length } : undefined,
  })
  const bridge = new SocketBridge(cmio)
  const ac = new AbortController()
  const running = bridge.run(ac.signal).catch((e) => e)
  closers.push(() => {
    ac.abort()
    cmio.close()
  })
  return { mux, bridge, running, ac }
}

function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    s.on('data', (c: Buffer) => chunks.push(c))
    s.on('end', () => resolve(Buffer.concat(chunks)))
    s.on('error', reject)
  })
}

describe('host streams over the bridge (SocketMuxHost + SocketBridge)', () => {
  it('echoes through a Unix socket and a TCP socket inside the guest, with half-close', async () => {
    const { mux } = pair()
    const u = mux.connectUnix(echoPath)
    const t = mux.connectTcp('127.0.0.1', echoPort)
    await Promise.all([new Promise((r) => u.once('connect', r)), new Promise((r) => t.once('connect', r))])
    const ur = readAll(u)
    const tr = readAll(t)
    u.end('ping over unix')
    t.write('ping ')
    t.end('over tcp')
    expect((await ur).toString()).toBe('ping over unix')
    expect((await tr).toString()).toBe('ping over tcp')
  })

  it('carries 4 MiB each way intact, through a small window and small buffers', async () => {
    const { mux } = pair({ window: 64 * 1024, maxSend: 16 * 1024 }, 64 * 1024)
    const s = mux.connectUnix(echoPath)
    const data = Buffer.alloc(4 * 1024 * 1024)
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i)
    const got = readAll(s)
    s.end(data)
    expect((await got).equals(data)).toBe(true)
  }, 30_000)

  it('fails a stream whose connect fails with the errno as its code', async () => {
    const { mux } = pair()
    const s = mux.connectUnix(join(dir, 'nobody.sock'))
    const err = await new Promise<NodeJS.ErrnoException>((r) => s.once('error', r))
    expect(err.code).toBe('ENOENT')
    const t = mux.connectTcp('127.0.0.1', 1)
    expect(((await new Promise((r) => t.once('error', r))) as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
    expect(() => mux.connectUnix(`/${'p'.repeat(107)}`)).toThrow(/ENAMETOOLONG/)
    expect(() => mux.connectTcp('localhost', 80)).toThrow()
  })

  it('ends every stream when the guest goes away', async () => {
    const { mux, ac } = pair()
    const s = mux.connectUnix(echoPath)
    await new Promise((r) => s.once('connect', r))
    const err = new Promise<NodeJS.ErrnoException>((r) => s.once('error', r))
    ac.abort()
    for (const c of closers.splice(0)) c() // closes the device: the session ends
    expect((await err).code).toBe('ECONNRESET')
    expect(mux.streams.size).toBe(0)
  })
})
