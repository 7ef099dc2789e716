// The TAP bridge (0x42) with in-memory frame ports on both ends, over the in-process device: full-size frames intact,
// batches split at the tx length, every reply processed, malformed batches survived.
import { Cmio, type CmioRequest, type CmioSession, MemoryPort, TapBridge, TapHost } from '@x/cmio'
import { decodeTapBatch, encodeTapBatch, encodeTapBatches, encodeTunPiInto } from '@x/framing'
import { afterEach, describe, expect, it } from 'vitest'

const closers: (() => void)[] = []
afterEach(() => {
  for (const c of closers.splice(0).reverse()) c()
})

function frame(len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len)
  for (let i = 0; i < len; i++) f[i] = (i * 31 + seed) & 0xff
  return f
}

function setup(length?: number, holdMs = 1) {
  const [guestTap, guestApp] = MemoryPort.pair() // guestApp plays the guest kernel behind tapcmio0
  const [hostTap, hostApp] = MemoryPort.pair() // hostApp plays the host kernel behind the host TAP
  const host = new TapHost(hostTap, { holdMs })
  const requests: number[] = []
  const cmio = Cmio.open({
    backend: 'inprocess',
    handler: (req: CmioRequest, s: CmioSession) => {
      requests.push(req.length)
      return host.handler(req, s)
    },
    inprocess: length ? { length } : undefined,
  })
  const bridge = new TapBridge(cmio, guestTap)
  closers.push(() => cmio.close())
  return { cmio, bridge, host, guestApp, hostApp, requests }
}

describe('TAP batch codec as the bridge uses it', () => {
  it('keeps a 1514-byte frame (and a 1518-byte frame with tun_pi) intact and splits at the tx length', () => {
    const f1514 = frame(1514, 1)
    const pi = new Uint8Array(1518)
    encodeTunPiInto(pi, 0, 0x0800)
    pi.set(f1514, 4)
    const b = encodeTapBatch([f1514, pi])
    expect(b.byteLength).toBe(2 + 1514 + 2 + 1518)
    const [a, c] = decodeTapBatch(b)
    expect(a).toEqual(f1514)
    expect(c).toEqual(pi)
    // tapcmio's rule: a new batch when current + len + 2 > tx_length
    const batches = encodeTapBatches([f1514, f1514, f1514], 2 * 1516)
    expect(batches.map((x) => x.byteLength)).toEqual([2 * 1516, 1516])
  })
})

describe('TapBridge + TapHost', () => {
  it('carries full-size frames both ways intact, in order', async () => {
    const { bridge, guestApp, hostApp } = setup()
    const out = [frame(1514, 1), frame(60, 2), frame(9000, 3), frame(65535, 4)]
    const back = [frame(1514, 5), frame(42, 6)]
    for (const f of out) guestApp.write(f)
    for (const f of back) hostApp.write(f)
    for (let i = 0; i < 3; i++) await bridge.step()
    expect(hostApp.pending).toBe(out.length)
    const got: Uint8Array[] = []
    const buf = new Uint8Array(70000)
    for (let n = hostApp.read(buf); n > 0; n = hostApp.read(buf)) got.push(buf.slice(0, n))
    expect(got).toEqual(out)
    const gotBack: Uint8Array[] = []
    for (let n = guestApp.read(buf); n > 0; n = guestApp.read(buf)) gotBack.push(buf.slice(0, n))
    expect(gotBack).toEqual(back)
    expect(bridge.stats).toMatchObject({ framesOut: 4, framesIn: 2, bytesOut: 1514 + 60 + 9000 + 65535 })
  })

  it('splits a burst over several yields when it exceeds the tx buffer', async () => {
    const { bridge, guestApp, hostApp, requests } = setup(8 * 1024, 0)
    for (let i = 0; i < 10; i++) guestApp.write(frame(1514, i))
    for (let i = 0; i < 12 && hostApp.pending < 10; i++) await bridge.step()
    expect(hostApp.pending).toBe(10)
    // 5 frames of 1516 bytes fit in 8 KiB; the 6th waits for the next yield (carried, never cut)
    expect(requests.slice(0, 2)).toEqual([5 * 1516, 5 * 1516])
    const buf = new Uint8Array(2000)
    for (let i = 0; i < 10; i++) expect(buf.subarray(0, hostApp.read(buf))).toEqual(frame(1514, i))
  })

  it('processes the reply of every poll, empty ones included, and holds idle polls', async () => {
    const { bridge, host, guestApp, hostApp, requests } = setup(undefined, 5)
    // nothing pending: the poll is held until the host port has a frame
    const step = bridge.step()
    setTimeout(() => hostApp.write(frame(100, 9)), 1)
    await step
    expect(requests).toEqual([0])
    expect(guestApp.pending).toBe(1)
    expect(host.stats.held).toBe(1)
  })

  it('drops frames longer than an entry can carry instead of cutting them', async () => {
    const { bridge, guestApp, hostApp } = setup()
    guestApp.write(frame(65536, 1))
    guestApp.write(frame(100, 2))
    guestApp.write(frame(70000, 3))
    guestApp.write(frame(65535, 4))
    await bridge.step()
    expect(bridge.stats.oversize).toBe(2)
    const buf = new Uint8Array(70000)
    expect(buf.subarray(0, hostApp.read(buf))).toEqual(frame(100, 2))
    expect(buf.subarray(0, hostApp.read(buf))).toEqual(frame(65535, 4))
    expect(hostApp.read(buf)).toBe(0)
  })

  it('survives a malformed reply batch and delivers its complete frames', async () => {
    const [guestTap, guestApp] = MemoryPort.pair()
    const good = encodeTapBatch([frame(10, 1)])
    const bad = new Uint8Array(good.byteLength + 3)
    bad.set(good)
    bad.set([0x05, 0xdc, 0xff], good.byteLength) // claims 1500 bytes, has 1
    let replies = [bad, encodeTapBatch([frame(20, 2)])]
    const cmio = Cmio.open({ backend: 'inprocess', handler: () => ({ reason: 0x42, data: replies.shift() }) })
    closers.push(() => cmio.close())
    const bridge = new TapBridge(cmio, guestTap)
    await bridge.step()
    await bridge.step()
    replies = []
    expect(bridge.stats.badBatches).toBe(1)
    expect(guestApp.pending).toBe(2)
  })
})
