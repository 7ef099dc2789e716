// The netmap backend over @x/netmap: the suites the other backends pass, on shared-memory pipes (between two
// processes, between worker threads, in one thread) and on a veth pair in a namespace of our own (netmap:a0 ↔
// af_packet or netmap:a1), with sequence numbers and byte checks; plus ring selection by queue, holding payloads
// (backpressure, not drops, on a pipe), typed errors, closed sockets and the missing-peer message.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  AfPacketSocket,
  create,
  importNetmap,
  isNethunsError,
  loadNetmap,
  NethunsError,
  NetmapSocket,
  PacketBatch,
} from '../src/index.js'
// @ts-expect-error plain .mjs fixture
import { checkFrame as check, makeFrame as make } from './fixtures/frames.mjs'
import { createNetns, type Netns, probeNetns, startPeer } from './netns.js'
import { runPair, type Stats } from './pair.js'

const checkFrame = check as (b: Uint8Array) => number | null
const makeFrame = make as (seq: number, size?: number, out?: Uint8Array) => Uint8Array
// The package the backend itself loads (the built @x/netmap, through require), not the vitest alias to its source.
const { createSharedPipe } = loadNetmap()
const dist = existsSync(new URL('../dist/index.js', import.meta.url))
let seq = 0
/** A pipe name of our own (region files /dev/shm/netmap-NAME-ID are removed by the last closer). */
const pipeName = (): string => `nht${process.pid}x${(seq++).toString(36)}${Math.random().toString(36).slice(2, 6)}`
const ours = (): string[] => readdirSync('/dev/shm').filter((f) => f.includes(`nht${process.pid}x`))

const open: NetmapSocket[] = []
const track = (s: NetmapSocket): NetmapSocket => {
  open.push(s)
  return s
}
afterEach(() => {
  for (const s of open.splice(0)) s.close()
})
afterAll(() => {
  expect(ours()).toEqual([]) // no region or doorbell left behind
})

function pair(flags: object = {}, masterFlags: object = {}): { a: NetmapSocket; b: NetmapSocket; name: string } {
  const name = pipeName()
  const a = track(NetmapSocket.create(`netmap:${name}{1`, null, { ...flags, ...masterFlags }))
  const b = track(NetmapSocket.create(`netmap:${name}}1`, null, flags))
  return { a, b, name }
}

/** Sends frames seq [from, from + n) from `s`, flushing every 32 and waiting for room: how many were queued. */
async function sendFrames(s: NetmapSocket, from: number, n: number, size = 64): Promise<number> {
  const frame = new Uint8Array(size)
  let k = 0
  while (k < n) {
    makeFrame(from + k, size, frame)
    if (s.send(frame)) {
      k++
      if (k % 32 === 0) s.flush()
      continue
    }
    s.flush()
    await s.writable(AbortSignal.timeout(10_000))
  }
  s.flush()
  return k
}

describe('netmap backend: loading, portspecs, flags, errors', () => {
  it('loads @x/netmap lazily, and names it when it is missing', async () => {
    expect(typeof loadNetmap().NetmapBuilder).toBe('function')
    expect(typeof (await importNetmap()).NetmapBuilder).toBe('function')
    for (const f of [() => loadNetmap('@x/netmap-not-installed')]) {
      let err: unknown
      try {
        f()
      } catch (e) {
        err = e
      }
      expect(isNethunsError(err, 'ERR_NETHUNS_NOT_AVAILABLE')).toBe(true)
      expect((err as Error).message).toMatch(/optional peer dependency @x\/netmap, which is not installed/)
    }
    await expect(importNetmap('@x/netmap-not-installed')).rejects.toMatchObject({
      code: 'ERR_NETHUNS_NOT_AVAILABLE',
      message: expect.stringMatching(/@x\/netmap/),
    })
  })

  it.each([
    ['netmap:', 'invalid empty port name'],
    ['netmap:x{', 'invalid empty pipe name'],
    ['netmap:x{y!', 'invalid pipe name'],
    ['netmap:x/q', "unrecognized flag: 'q'"],
  ])('rejects %s with the parser message', (spec, why) => {
    let err: unknown
    try {
      NetmapSocket.create(spec)
    } catch (e) {
      err = e
    }
    expect(isNethunsError(err, 'ERR_NETHUNS_PORTSPEC')).toBe(true)
    expect((err as Error).message).toBe(`bad portspec '${spec}': ${why}`)
  })

  it('says what needs the kernel module, and routes netmap portspecs to the netmap backend', () => {
    expect(() => NetmapSocket.create('vale0:1')).toThrow(/VALE ports need the netmap kernel module/)
    try {
      create('netmap', 'vale0:1')
    } catch (e) {
      expect((e as NethunsError).code).toBe('ERR_NETHUNS_NOT_AVAILABLE')
    }
    for (const f of [() => AfPacketSocket.create('netmap:eth0'), () => create('af_packet', 'netmap:eth0')]) {
      expect(f).toThrow(/is a netmap port: open it with the netmap backend/)
    }
  })

  it('maps queue q to ring q (netmap:NAME-q, as C nethuns), refuses a queue on a spec that selects rings', () => {
    const name = pipeName()
    const a = track(NetmapSocket.create(`netmap:${name}{1`, 1, { numRings: 2 }))
    const b = track(NetmapSocket.create(`netmap:${name}}1`, 1))
    expect(a.netmapSpec).toBe(`netmap:${name}{1-1`)
    expect(a.rxRings).toEqual([1])
    expect(a.txRing).toBe(1)
    expect(b.rxRings).toEqual([1])
    const all = track(NetmapSocket.create(`netmap:${name}}1`))
    expect(all.rxRings).toEqual([0, 1])
    for (const q of [-1, 1.5]) expect(() => NetmapSocket.create(`netmap:${name}{1`, q)).toThrow(/queue must be/)
    try {
      NetmapSocket.create(`netmap:${name}{1-0`, 1)
    } catch (e) {
      expect((e as NethunsError).code).toBe('ERR_NETHUNS_QUEUE')
    }
    expect(() => NetmapSocket.create(`netmap:${name}{1`, 5)).toThrow(NethunsError) // ring 5 of 2
  })

  it('queue null reads every bound ring (round robin) and says which in the metadata', async () => {
    const name = pipeName()
    const rx = track(NetmapSocket.create(`netmap:${name}}1`, null, { numRings: 2 }))
    const tx0 = track(NetmapSocket.create(`netmap:${name}{1`, 0))
    const tx1 = track(NetmapSocket.create(`netmap:${name}{1`, 1))
    expect([rx.rxRings, tx0.txRing, tx1.txRing]).toEqual([[0, 1], 0, 1])
    await sendFrames(tx0, 0, 100)
    await sendFrames(tx1, 1000, 100)
    const per: Record<number, number[]> = { 0: [], 1: [] }
    for await (const [p, meta] of rx) {
      per[meta.ring]!.push(checkFrame(p.bytes)!)
      p.release()
      if (per[0]!.length + per[1]!.length === 200) break
    }
    expect(per[0]).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(per[1]).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i))
  })

  it('leaks no fd and no mapping over many open/close cycles', () => {
    const fds = (): number => readdirSync('/proc/self/fd').length
    const maps = (): number =>
      readFileSync('/proc/self/maps', 'utf8')
        .split('\n')
        .filter((l) => l.includes(`nht${process.pid}x`)).length
    const name = pipeName()
    const before = fds()
    for (let i = 0; i < 200; i++) {
      const a = NetmapSocket.create(`netmap:${name}{1`, null, { bufferCount: 64, batchSize: 16 })
      const b = NetmapSocket.create(`netmap:${name}}1`, null, { bufferCount: 64, batchSize: 16 })
      b.close()
      a.close()
    }
    expect(fds()).toBe(before)
    expect(maps()).toBe(0)
    expect(ours()).toEqual([])
  })

  it('validates flags (extraBuf is the Context size, bufferCount its alias)', () => {
    const name = pipeName()
    expect(() => NetmapSocket.create(`netmap:${name}{1`, null, { extraBuf: 64, bufferCount: 128 })).toThrow(/disagree/)
    expect(() => NetmapSocket.create(`netmap:${name}{1`, null, { bogus: 1 } as object)).toThrow(
      /unknown netmap flag 'bogus'/,
    )
    expect(() => NetmapSocket.create(`netmap:${name}{1`, null, { filter: 'udp' } as object)).toThrow(/filterFn/)
    const s = track(NetmapSocket.create(`netmap:${name}{1`, null, { extraBuf: 256, batchSize: 32 }))
    expect(s.context().pool.count).toBe(256)
    expect(s.flags.extraBuf).toBe(256)
  })

  it('a closed socket throws ERR_NETHUNS_CLOSED; waits reject and iterators end', async () => {
    const { a, b } = pair()
    const waiting = b.readable()
    const iter = (async () => {
      let n = 0
      for await (const [p] of a) {
        p.release()
        n++
      }
      return n
    })()
    b.close()
    a.close()
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_NETHUNS_CLOSED' })
    expect(await iter).toBe(0)
    expect(() => b.recv()).toThrow(/closed/)
    expect(() => a.send(new Uint8Array(60))).toThrow(/closed/)
    expect(b.fd).toBe(-1)
    b.close() // idempotent
  })

  it('refuses frames larger than a netmap buffer (TooBigPacket)', () => {
    const { a } = pair()
    try {
      a.send(new Uint8Array(4000))
      expect.unreachable()
    } catch (e) {
      expect(e).toMatchObject({ code: 'ERR_NETHUNS_TOO_BIG', kind: 'TooBigPacket', size: 4000 })
    }
  })
})

describe('netmap backend on a shm pipe in one thread', () => {
  it('send/flush → recv: every frame in order, byte for byte, stats on both ends', async () => {
    const { a, b } = pair({}, { numSlots: 64 })
    const got: number[] = []
    let corrupt = 0
    const rx = (async () => {
      for await (const [p, meta] of b) {
        const s = checkFrame(p.bytes)
        if (s === null || s < 0 || meta.len !== p.len || meta.ring !== 0) corrupt++
        else got.push(s)
        p.release()
        if (got.length + corrupt >= 3000) break
      }
    })()
    expect(await sendFrames(a, 0, 3000, 100)).toBe(3000)
    await rx
    expect(corrupt).toBe(0)
    expect(got).toEqual(Array.from({ length: 3000 }, (_, i) => i))
    expect(a.stats()).toMatchObject({ sent: 3000, txBytes: 300_000 })
    expect(b.stats()).toMatchObject({ received: 3000, bytes: 300_000, kernelDrops: 0 })
  })

  it('recvBatch + reserveTx/commitTx, 1500-byte frames, both directions', async () => {
    const { a, b } = pair()
    for (const [tx, rx] of [
      [a, b],
      [b, a],
    ] as const) {
      for (let i = 0; i < 200; i++) {
        let v = tx.reserveTx()
        if (v === null) {
          tx.flush()
          v = tx.reserveTx()
        }
        makeFrame(i, 1500, v!.subarray(0, 1500))
        tx.commitTx(1500)
      }
      tx.flush()
      const batch = new PacketBatch(64)
      const seen: number[] = []
      while (seen.length < 200) {
        if (rx.recvBatch(batch) === 0) {
          await rx.readable(AbortSignal.timeout(10_000))
          continue
        }
        for (let i = 0; i < batch.count; i++) seen.push(checkFrame(batch.bytes(i))!)
        batch.release()
      }
      expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i))
    }
  })

  it("drains on 'readable' events", async () => {
    const { a, b } = pair()
    let n = 0
    const done = new Promise<void>((resolve) => {
      b.on('readable', () => {
        for (let r = b.recv(); r !== null; r = b.recv()) {
          if (checkFrame(r[0].bytes) === n) n++
          r[0].release()
        }
        if (n >= 500) resolve()
      })
    })
    await sendFrames(a, 0, 500)
    await done
    expect(n).toBe(500)
  })

  it('truncates frames longer than the Context buffer and says so', async () => {
    const { a, b } = pair({ bufferSize: 256, bufferCount: 256 })
    await sendFrames(a, 0, 10, 1000)
    let n = 0
    for await (const [p, meta] of b) {
      expect(meta).toMatchObject({ len: 1000, caplen: 256, truncated: true })
      expect(p.len).toBe(256)
      expect(checkFrame(p.bytes)).toBe(-1) // cut: the size field no longer matches
      p.release()
      if (++n === 10) break
    }
  })

  it('a NS_MOREFRAG chain from @x/netmap arrives as one packet (cut at the Context buffer, and says so)', async () => {
    const api = loadNetmap()
    const name = pipeName()
    const nm = api.NetmapBuilder.new(`netmap:${name}{1`).build()
    try {
      const whole = track(NetmapSocket.create(`netmap:${name}}1`, null, { bufferSize: 4096, bufferCount: 256 }))
      const big = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 255)
      const tx = nm.txRing(0)
      expect(tx.send(big)).toBe(true) // two slots: 2048 + 952, the first with NS_MOREFRAG
      expect(tx.send(Uint8Array.of(1, 2, 3))).toBe(true)
      tx.sync()
      const got: [number, number, boolean, Uint8Array][] = []
      for await (const [p, meta] of whole) {
        got.push([meta.len, meta.caplen, meta.truncated, p.bytes.slice()])
        p.release()
        if (got.length === 2) break
      }
      expect(got.map(([l, c, t]) => [l, c, t])).toEqual([
        [3000, 3000, false],
        [3, 3, false],
      ])
      expect(got[0]![3]).toEqual(big)
      whole.close()
    } finally {
      nm.close()
    }
    const name2 = pipeName()
    const nm2 = api.NetmapBuilder.new(`netmap:${name2}{1`).build()
    try {
      const cut = track(NetmapSocket.create(`netmap:${name2}}1`, null, { bufferSize: 2048, bufferCount: 256 }))
      nm2.txRing(0).send(new Uint8Array(3000).fill(9))
      nm2.txRing(0).sync()
      for await (const [p, meta] of cut) {
        expect(meta).toMatchObject({ len: 3000, caplen: 2048, truncated: true })
        expect(p.bytes.every((x) => x === 9)).toBe(true)
        p.release()
        break
      }
      cut.close()
    } finally {
      nm2.close()
    }
  })

  it('applies a user-space filter: 0 drops, < 0 delivers the header only', async () => {
    const tri = (bytes: Uint8Array): number => {
      const s = checkFrame(bytes)
      if (s === null || s < 0) return 1
      return s % 4 === 1 ? 0 : s % 4 === 3 ? -1 : 1
    }
    const { a, b } = pair()
    const b2 = b
    b2.setFilter(tri)
    await sendFrames(a, 0, 400, 80)
    let virtuals = 0
    const real = new Set<number>()
    for await (const [p, meta] of b2) {
      if (meta.virtual) {
        virtuals++
        expect(p.len).toBe(0)
      } else real.add(checkFrame(p.bytes)!)
      p.release()
      if (virtuals + real.size >= 300) break
    }
    expect(virtuals).toBe(100)
    expect(real.size).toBe(200)
    expect(b2.stats().filtered).toBe(100)
  })

  it('holding payloads stalls the receiver and backpressures the sender (a pipe never drops); releasing resumes', async () => {
    const { a, b } = pair({ extraBuf: 64, batchSize: 16 }, { numSlots: 32 })
    // Fill: 31 slots in the ring (one stays empty) + what b took into its Context.
    const frame = new Uint8Array(64)
    let sent = 0
    const held = []
    for (;;) {
      makeFrame(sent, 64, frame)
      if (a.send(frame)) {
        sent++
        continue
      }
      a.flush()
      const r = b.recv()
      if (r !== null) {
        held.push(r[0])
        continue
      }
      makeFrame(sent, 64, frame)
      if (!a.send(frame)) break // the ring is full and b holds every buffer
      sent++
    }
    expect(held.length).toBe(64) // every buffer of the Context
    expect(b.context().pool.available).toBe(0)
    expect(sent).toBe(64 + 31)
    expect(b.recv()).toBeNull() // nothing while every buffer is held…
    expect(b.stats().kernelDrops).toBe(0) // …and nothing lost: the frames wait in the ring
    const more = sendFrames(a, sent, 100) // blocks until b makes room
    for (const p of held.splice(0)) p.release() // any order works: a free list
    const seen: number[] = []
    for await (const [p] of b) {
      seen.push(checkFrame(p.bytes)!)
      p.release()
      if (seen.length === 31 + 100) break
    }
    expect(await more).toBe(100)
    expect(seen).toEqual(Array.from({ length: 131 }, (_, i) => 64 + i))
  })

  it('rx_only / tx_only bind one direction each', async () => {
    const name = pipeName()
    const a = track(NetmapSocket.create(`netmap:${name}{1`, null, { mode: 'tx_only' }))
    const b = track(NetmapSocket.create(`netmap:${name}}1`, null, { mode: 'rx_only' }))
    expect(a.rxRings).toEqual([])
    expect(b.txRing).toBeNull()
    expect(() => b.send(new Uint8Array(60))).toThrow(/cannot transmit/)
    await expect(a.readable()).rejects.toMatchObject({ code: 'ERR_NETHUNS_DIRECTION' })
    expect(a.send(makeFrame(7, 64))).toBe(true)
    a.flush()
    const r = b.recv()
    expect(r && checkFrame(r[0].bytes)).toBe(7)
    r?.[0].release()
  })

  it('createWithChannel: token batches over @x/ring', async () => {
    const name = pipeName()
    const a = track(NetmapSocket.create(`netmap:${name}{1`))
    const { socket: b, pusher, popper } = NetmapSocket.createWithChannel(`netmap:${name}}1`, null, {}, {})
    track(b)
    await sendFrames(a, 0, 50)
    const batch = new PacketBatch(32)
    let pushed = 0
    while (pushed < 50) {
      if (b.recvBatch(batch) === 0) {
        await b.readable(AbortSignal.timeout(10_000))
        continue
      }
      const n = batch.count
      expect(pusher.pushBatch(batch)).toBe(true)
      pushed += n
    }
    const seen: number[] = []
    while (seen.length < 50) {
      const got = popper.tryPop()
      if (got === null || got.length === 0) break
      for (const p of got) {
        seen.push(checkFrame(p.bytes)!)
        p.release()
      }
    }
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i))
    pusher.close()
  })
})

describe.skipIf(!dist)(
  'netmap backend on a pipe between worker threads (SharedArrayBuffer; the workers load the built dist: skipped without it)',
  () => {
    const worker = (data: object): { w: Worker; report: Promise<Record<string, unknown>> } => {
      const w = new Worker(new URL('./fixtures/netmap-thread.mjs', import.meta.url), { workerData: data })
      const report = new Promise<Record<string, unknown>>((resolve, reject) => {
        w.once('message', resolve)
        w.once('error', reject)
        w.once('exit', (code) => reject(new Error(`worker exited (${code}) without a report`)))
      })
      return { w, report }
    }

    it('worker TX (send) → this thread RX: every frame in order', async () => {
      const name = pipeName()
      const sab = createSharedPipe({ parent: name, id: '1', slots: 256 })
      const b = track(NetmapSocket.create(`netmap:${name}}1`, null, { sharedMemory: sab }))
      const { w, report } = worker({ spec: `netmap:${name}{1`, sab, role: 'tx', count: 5000 })
      try {
        const got: number[] = []
        let corrupt = 0
        for await (const [p] of b) {
          const s = checkFrame(p.bytes)
          if (s === null || s < 0) corrupt++
          else got.push(s)
          p.release()
          if (got.length + corrupt >= 5000) break
        }
        expect(corrupt).toBe(0)
        expect(got.every((s, i) => s === i)).toBe(true)
        expect(got.length).toBe(5000)
        expect(await report).toMatchObject({ sent: 5000 })
      } finally {
        await w.terminate()
      }
    })

    it('this thread TX (reserveTx) → worker RX (recvBatch), 1500-byte frames', async () => {
      const name = pipeName()
      const sab = createSharedPipe({ parent: name, id: '2', slots: 128 })
      const a = track(NetmapSocket.create(`netmap:${name}{2`, null, { sharedMemory: sab }))
      const { w, report } = worker({ spec: `netmap:${name}}2`, sab, role: 'rx', count: 2000 })
      try {
        let k = 0
        while (k < 2000) {
          const v = a.reserveTx()
          if (v === null) {
            a.flush()
            await a.writable(AbortSignal.timeout(10_000))
            continue
          }
          makeFrame(k++, 1500, v.subarray(0, 1500))
          a.commitTx(1500)
          if (k % 32 === 0) a.flush()
        }
        a.flush()
        expect(await report).toMatchObject({ unique: 2000, corrupt: 0, outOfOrder: 0 })
      } finally {
        await w.terminate()
      }
    })
  },
)

describe.skipIf(!dist)(
  'netmap backend on a shm pipe between two processes (the peers of the other suites; they load the built dist: skipped without it)',
  () => {
    const base = { backend: 'netmap', timeoutMs: 8000 }

    it('delivers every frame byte for byte (async iterator ← send/flush)', async () => {
      const name = pipeName()
      const { rx, tx } = await runPair(
        null,
        { ...base, iface: `netmap:${name}}1`, count: 3000 },
        { ...base, iface: `netmap:${name}{1`, count: 3000, size: 64 },
      )
      expect(tx.sent).toBe(3000)
      expect((tx.stats as Stats).sent).toBe(3000)
      expect(rx).toMatchObject({ ours: 3000, unique: 3000, corrupt: 0, dup: 0, foreign: 0, min: 0, max: 2999 })
      expect((rx.stats as Stats).kernelDrops).toBe(0)
    })

    it('caller-owned batches, 1500-byte frames, zero-copy TX', async () => {
      const name = pipeName()
      const { rx, tx } = await runPair(
        null,
        { ...base, iface: `netmap:${name}}1`, count: 1000, how: 'batch', batch: 32 },
        { ...base, iface: `netmap:${name}{1`, count: 1000, size: 1500, how: 'zerocopy' },
      )
      expect(tx.sent).toBe(1000)
      expect(rx).toMatchObject({ ours: 1000, unique: 1000, corrupt: 0, dup: 0 })
    })

    it("drains on 'readable' events; tokens consumed in a Worker", async () => {
      const n1 = pipeName()
      const ev = await runPair(
        null,
        { ...base, iface: `netmap:${n1}}1`, count: 300, how: 'events' },
        { ...base, iface: `netmap:${n1}{1`, count: 300, size: 100 },
      )
      expect(ev.rx).toMatchObject({ ours: 300, unique: 300, corrupt: 0 })
      const n2 = pipeName()
      const wk = await runPair(
        null,
        { ...base, iface: `netmap:${n2}}1`, count: 500, how: 'worker' },
        { ...base, iface: `netmap:${n2}{1`, count: 500 },
      )
      expect(wk.rx.ours).toBe(500)
      expect(await wk.rxEvent('worker')).toMatchObject({ checked: 500, bad: 0, poolBack: true })
    })

    it('a killed peer: the survivor learns it (PeerGone), and its region goes with the last closer', async () => {
      const name = pipeName()
      const b = track(NetmapSocket.create(`netmap:${name}}1`))
      const t = startPeer(null, { ...base, role: 'tx', iface: `netmap:${name}{1`, count: 10, delayMs: 60_000 })
      try {
        await t.ready
        expect(b.peerState()).toBe('open')
        const waiting = b.readable()
        t.kill()
        await expect(waiting).rejects.toMatchObject({ code: 'ERR_NETHUNS_NETMAP' })
        expect(b.peerState()).toBe('dead')
      } finally {
        t.kill()
      }
    })
  },
)

const probe = probeNetns()

describe.skipIf(!probe.ok)(`netmap NIC ports over veth in a netns (${probe.reason})`, () => {
  let ns: Netns
  beforeAll(() => {
    ns = createNetns()
  })
  afterAll(() => ns?.destroy())

  const base = { timeoutMs: 8000 }

  it('af_packet (a0) → netmap:a1: every frame, byte for byte', async () => {
    const { rx, tx } = await runPair(
      ns,
      { ...base, backend: 'netmap', iface: 'netmap:a1', count: 2000 },
      { ...base, backend: 'af_packet', iface: 'a0', count: 2000, size: 64 },
    )
    expect(tx.sent).toBe(2000)
    expect(rx).toMatchObject({ ours: 2000, unique: 2000, corrupt: 0, dup: 0, min: 0, max: 1999 })
    const st = rx.stats as Stats
    expect(st.received).toBeGreaterThanOrEqual(2000)
    expect(st.kernelDrops).toBe(0) // PACKET_STATISTICS of the socket under the rings
    expect(st.kernelSeen).toBeGreaterThanOrEqual(2000)
  })

  it('netmap:a0 → af_packet (a1)', async () => {
    const { rx, tx } = await runPair(
      ns,
      { ...base, backend: 'af_packet', iface: 'a1', count: 1000 },
      { ...base, backend: 'netmap', iface: 'netmap:a0', count: 1000, size: 200, burst: 32, pace: 1 },
    )
    expect((tx.stats as Stats).sent).toBe(1000)
    expect(rx).toMatchObject({ ours: 1000, unique: 1000, corrupt: 0, dup: 0 })
  })

  it('netmap:a0 → netmap:a1: batches, 1500-byte frames, zero-copy TX, queue 0 (netmap:a1-0)', async () => {
    const { rx, tx } = await runPair(
      ns,
      { ...base, backend: 'netmap', iface: 'netmap:a1', queue: 0, count: 500, how: 'batch', batch: 32 },
      { ...base, backend: 'netmap', iface: 'a0', count: 500, size: 1500, how: 'zerocopy', burst: 16, pace: 1 },
    )
    expect(tx.sent).toBe(500)
    expect(rx).toMatchObject({ ours: 500, unique: 500, corrupt: 0, dup: 0 })
  })

  it('frames the NIC port drops for good (a qdisc refusing all): waits end, one ERR_NETHUNS_NETMAP, sent 0', () => {
    execFileSync('ip', ['-n', ns.name, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1'])
    execFileSync('ip', ['-n', ns.name, 'link', 'set', 'd0', 'up'])
    execFileSync('ip', ['-n', ns.name, 'link', 'set', 'd1', 'up'])
    ns.run(['tc', 'qdisc', 'add', 'dev', 'd0', 'root', 'pfifo', 'limit', '0'])
    const fixture = new URL('./fixtures/netmap-drop.mjs', import.meta.url).pathname
    const r = JSON.parse(ns.run([process.execPath, fixture]).trim().split('\n').at(-1)!)
    expect(r).toMatchObject({ queued: 3, flushErrors: ['ERR_NETHUNS_NETMAP'], errorEvents: [], sent: 0 })
    expect(r.thrown).toBeUndefined()
  })

  it('host rings without the module are ERR_NETHUNS_NOT_AVAILABLE', async () => {
    const r = startPeer(ns, { role: 'rx', backend: 'netmap', iface: 'netmap:a1^', count: 1, timeoutMs: 2000 })
    try {
      await expect(r.done).rejects.toThrow(/ERR_NETHUNS_NOT_AVAILABLE|netmap kernel module/)
    } finally {
      r.kill()
    }
  })
})
