// Fuzzing the daemon (a separate vrtd process) with random and mutated datagrams, random ancillary fds and
// connection storms. Invariants: a datagram with bad framing gets no reply and its client is disconnected; a
// well-framed one gets exactly one reply with its seqno, ret in {0,3,4,5,6,7}, no body and no fd unless OK, the
// revision's size and fd count when OK; the daemon stays up and its fd count returns to where it started.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { memfdCreate, type OwnedFd, pipe } from '@x/native'
import { opSpec, simulatorConfig } from '@x/vrtd'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { header, killChildren, openFds, pkgDir, RawClient, request, startChild, tempDir } from './helpers.js'

const seed = Number(process.env.VRTD_FUZZ_SEED ?? Date.now() % 2 ** 31)
const runs = Number(process.env.VRTD_FUZZ_RUNS ?? 300)
const seen = { disconnect: 0, ok: 0, error: 0, fds: 0 }

let sock = ''
let pid = 0
let baseline = 0
let cleanup: () => void = () => {}

beforeAll(async () => {
  const t = tempDir()
  cleanup = t.cleanup
  const config = join(t.dir, 'vrtd.conf')
  writeFileSync(
    config,
    `${simulatorConfig({ devices: [] })}[device:slash_ctl0]\nbdf = 0000:65:00\nbar0 = 64K\nbar2 = 4K\n[device:slash_ctl1]\nbdf = 0000:66:00\nbar0 = 4K\n`,
  )
  sock = join(t.dir, 'vrtd.sock')
  const d = startChild([join(pkgDir, 'dist/bin/vrtd.js'), '--config', config, '--socket', sock], /Listening on/, {
    env: { VRTD_LOG: '' },
  })
  cleanup = () => {
    d.child.kill('SIGKILL')
    t.cleanup()
  }
  await d.ready
  pid = d.child.pid!
  baseline = openFds(pid)
  console.log(`fuzz seed ${seed} (VRTD_FUZZ_SEED to replay), ${runs} runs per property`)
})

afterAll(() => {
  cleanup()
  killChildren()
})

type Expect = 'disconnect' | 'reply'

function framing(d: Uint8Array, nfds: number): Expect {
  if (d.length < 8 || d.length > 4096 || nfds > 3) return 'disconnect'
  const size = d[0]! | (d[1]! << 8)
  return size <= 4088 && d.length === 8 + size ? 'reply' : 'disconnect'
}

function makeFds(kinds: number[]): OwnedFd[] {
  const out: OwnedFd[] = []
  for (const k of kinds) {
    if (k === 0) out.push(memfdCreate('fuzz', { size: 4096 }))
    else {
      const [r, w] = pipe()
      out.push(k === 1 ? r : w)
      ;(k === 1 ? w : r).close()
    }
  }
  return out
}

async function ping(c: RawClient): Promise<void> {
  c.send(request(0, 0xfeedbeef, new Uint8Array(1)))
  const r = await c.recv(5000)
  if (typeof r === 'string') throw new Error(`ping: ${r}`)
  expect(header(r.data)).toEqual({ size: 4, ret: 0, seqno: 0xfeedbeef })
}

/** Sends one datagram on a fresh connection and checks the invariants. */
async function check(d: Uint8Array, fdKinds: number[]): Promise<void> {
  const c = await RawClient.connect(sock)
  const fds = makeFds(fdKinds)
  try {
    const sent = c.send(d, fds.length > 0 ? fds : undefined)
    for (const f of fds) f.close()
    if (sent < 0) return // e.g. EMSGSIZE for > 212 KiB: nothing reached the daemon
    const want = framing(d, fds.length)
    const r = await c.recv(5000)
    if (fds.length > 0) seen.fds++
    if (want === 'disconnect') {
      expect(r).toBe('eof')
      seen.disconnect++
      return
    }
    if (typeof r === 'string') throw new Error(`no reply (${r}) to ${Buffer.from(d.subarray(0, 16)).toString('hex')}`)
    for (const f of r.fds) f.close()
    const h = header(r.data)
    const req = {
      size: d[0]! | (d[1]! << 8),
      opcode: d[2]! | (d[3]! << 8),
      seqno: new DataView(d.buffer, d.byteOffset).getUint32(4, true),
    }
    expect(h.seqno).toBe(req.seqno)
    expect([0, 3, 4, 5, 6, 7]).toContain(h.ret)
    seen[h.ret === 0 ? 'ok' : 'error']++
    if (h.ret !== 0) {
      expect([h.size, r.data.length, r.fds.length]).toEqual([0, 8, 0])
    } else {
      const spec = opSpec('v1.0', req.opcode)!
      expect(spec).toBeDefined()
      expect(r.data.length).toBe(8 + h.size)
      expect(h.size).toBeGreaterThanOrEqual(spec.resp)
      expect(r.fds.length).toBe(spec.respFds)
      expect(fds.length).toBe(spec.reqFds)
    }
    await ping(c)
  } finally {
    c.close()
  }
}

const opcode = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 19 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
)
const devNumber = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 2, 99) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
)
const barNumber = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 5 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
)
const body = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(devNumber, barNumber, fc.uint8Array({ maxLength: 40 })).map(([dev, bar, rest]) => {
      const b = new Uint8Array(5 + rest.length)
      new DataView(b.buffer).setUint32(0, dev, true)
      b[4] = bar
      b.set(rest, 5)
      return b
    }),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 4000, maxLength: 4088 }) },
)
const fdKinds = fc.oneof(
  { weight: 6, arbitrary: fc.constant([] as number[]) },
  { weight: 3, arbitrary: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 5 }) },
)
const wellFramed = fc
  .tuple(opcode, fc.integer({ min: 0, max: 0xffffffff }), body)
  .map(([op, seq, b]) => request(op, seq, b))

describe('fuzzing the daemon', () => {
  it('well-framed requests with random bodies and fds: one good reply each', async () => {
    await fc.assert(
      fc.asyncProperty(wellFramed, fdKinds, (d, k) => check(d, k)),
      { seed, numRuns: runs },
    )
  })

  it('random datagrams (0–4200 bytes): disconnected or answered, never hung', async () => {
    const random = fc.oneof(
      fc.uint8Array({ maxLength: 16 }),
      fc.uint8Array({ maxLength: 4200 }),
      fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 300 })).map(([size, rest]) => {
        const d = new Uint8Array(8 + rest.length)
        d.set(rest, 8)
        d[0] = size & 0xff
        d[1] = size >> 8
        return d
      }),
      fc.integer({ min: 4089, max: 4200 }).map((n) => request(0, 1, new Uint8Array(n - 8))),
    )
    await fc.assert(
      fc.asyncProperty(random, fdKinds, (d, k) => check(d, k)),
      { seed: seed + 1, numRuns: runs },
    )
  })

  it('mutated valid frames (bit flips, truncation, extension)', async () => {
    const mutated = fc
      .tuple(
        wellFramed,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        fc.integer({ min: -6, max: 6 }),
      )
      .map(([d, flips, resize]) => {
        const out = new Uint8Array(Math.max(0, d.length + resize))
        out.set(d.subarray(0, out.length))
        for (const [i, v] of flips) if (out.length > 0) out[i % out.length] = v
        return out
      })
    await fc.assert(
      fc.asyncProperty(mutated, fdKinds, (d, k) => check(d, k)),
      { seed: seed + 2, numRuns: runs },
    )
  })

  it('pipelined bursts, disconnects with requests pending, reconnect storms', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(wellFramed, { minLength: 1, maxLength: 30 }), fc.boolean(), async (burst, wait) => {
        const c = await RawClient.connect(sock)
        try {
          for (const d of burst) c.send(d)
          if (!wait) return // hang up with requests in flight
          for (const d of burst) {
            const r = await c.recv(5000)
            if (typeof r === 'string') throw new Error(r)
            for (const f of r.fds) f.close()
            expect(header(r.data).seqno).toBe(new DataView(d.buffer).getUint32(4, true))
          }
        } finally {
          c.close()
        }
      }),
      { seed: seed + 3, numRuns: Math.ceil(runs / 2) },
    )
    for (let i = 0; i < 100; i++) (await RawClient.connect(sock)).close()
  })

  it('the daemon is still up and holds no more fds than when it started', async () => {
    const c = await RawClient.connect(sock)
    await ping(c)
    c.close()
    let now = openFds(pid)
    for (let i = 0; i < 200 && now !== baseline; i++) {
      await new Promise((r) => setTimeout(r, 10))
      now = openFds(pid)
    }
    expect(now).toBe(baseline)
    console.log(`fuzz outcomes: ${JSON.stringify(seen)}`)
    expect(seen.disconnect > 0 && seen.ok > 0 && seen.error > 0 && seen.fds > 0).toBe(true)
  })
})
