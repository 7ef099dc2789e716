// The sync paths of NIC ports and TAP host rings without the module, each case on interfaces in a namespace made
// here (unique name, removed in afterAll even on failure): NS_MOREFRAG chains on the wire and back, a hard TX error
// that must not wedge the ring, TX backpressure that must keep the slots, and the refused TAP configurations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addVeth, createNetns, deleteNetns, execInNs, ipn, netnsName, netnsProbe, nodeInNs } from './netns.js'

const fixture = new URL('./fixtures/nic-sync.mjs', import.meta.url).pathname
const p = netnsProbe()

describe.skipIf(!p.ok)(`NIC and host ring syncs without the module (${p.reason})`, () => {
  const ns = netnsName('nms')
  const inNs = async (...args: string[]): Promise<Record<string, unknown>> => {
    const r = await nodeInNs(ns, [fixture, ...args], 60_000)
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!)
  }
  beforeAll(() =>
    createNetns(ns, () => {
      addVeth(ns, 'j0', 'j1')
      ipn(ns, 'link', 'set', 'j0', 'mtu', '9000')
      ipn(ns, 'link', 'set', 'j1', 'mtu', '9000')
      addVeth(ns, 'k0', 'k1') // MTU 1500
      addVeth(ns, 't0', 't1') // MTU 1500 at the open, 9000 after it (the fixture)
      addVeth(ns, 'b0', 'b1')
      // b0's frames wait in a slow qdisc, so a tiny SO_SNDBUF fills up and sendmmsg says EAGAIN
      ipn(ns, 'link', 'set', 'b0', 'txqueuelen', '10000')
      execTc(ns, ['qdisc', 'add', 'dev', 'b0', 'root', 'tbf', 'rate', '8mbit', 'burst', '3000', 'limit', '4000000'])
      ipn(ns, 'tuntap', 'add', 'dev', 'tb0', 'mode', 'tap')
      ipn(ns, 'link', 'set', 'tb0', 'mtu', '9000')
      ipn(ns, 'addr', 'add', '10.78.0.1/24', 'dev', 'tb0')
      ipn(ns, 'link', 'set', 'tb0', 'up')
      ipn(ns, 'neigh', 'add', '10.78.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', 'tb0', 'nud', 'permanent')
      addVeth(ns, 'n0', 'n1')
      execTc(ns, ['qdisc', 'add', 'dev', 'n0', 'root', 'pfifo', 'limit', '0'])
      ipn(ns, 'tuntap', 'add', 'dev', 'tr0', 'mode', 'tap')
      ipn(ns, 'tuntap', 'add', 'dev', 'tv0', 'mode', 'tap', 'vnet_hdr')
      ipn(ns, 'tuntap', 'add', 'dev', 'tq0', 'mode', 'tap', 'pi')
    }),
  )
  afterAll(() => deleteNetns(ns))

  it('a 3000-byte (and a 9014-byte) TxRing.send leaves as one wire frame; RX reassembles the NS_MOREFRAG chain', async () => {
    const r = await inNs('morefrag')
    expect(r.received).toEqual([
      [0, 3000, true],
      [1, 9014, true],
      [2, 2048, true],
      [3, 2049, true],
      [4, 60, true],
    ])
    expect(r.tsNearNow).toBe(true) // rxsync stamps ring->ts
    expect(r.stats).toEqual({ txErrors: 0, txLastErrno: 0, rxTruncated: 0 })
  }, 60_000)

  it('frames longer than the receive slots (MTU raised after the open) are counted and dropped, not cut', async () => {
    const r = await inNs('truncate')
    expect(r.received).toEqual([
      [0, 60, true],
      [2, 60, true],
      [4, 60, true],
    ])
    expect(r.stats).toEqual({ txErrors: 0, txLastErrno: 0, rxTruncated: 2 })
  }, 60_000)

  it('a frame the kernel refuses (2000 B on MTU 1500) is dropped and reported once; nothing is sent twice', async () => {
    const r = await inNs('harderr')
    const errors = r.errors as ({ kind: string; message: string } | null)[]
    expect(errors[0]).toMatchObject({ kind: 'Io', message: expect.stringMatching(/errno 90 \(EMSGSIZE\)/) })
    expect(errors.slice(1)).toEqual([null, null])
    expect(r.space).toBe((r.numSlots as number) - 1) // the ring is not stuck
    expect(r.stats).toEqual({ txErrors: 1, txLastErrno: 90, rxTruncated: 0 })
    expect(r.received).toEqual([0, 2, 3])
  }, 60_000)

  it('under backpressure (EAGAIN) the TX ring keeps its slots and waits for POLLOUT: every frame arrives', async () => {
    const r = await inNs('backpressure', '300')
    expect(r.sent).toBe(300)
    expect(r.blocked).toBeGreaterThan(0) // the socket did push back
    expect(r.received).toBe(300)
    expect(r.inOrder).toBe(true)
    expect(r.syncsPerFrame).toBeLessThan(10) // it waited, it did not spin
  }, 90_000)

  it('TAP host rings: a 4042-byte frame from the stack is a chain on host RX; a chained host TX frame is one write', async () => {
    const r = await inNs('hosttap')
    expect(r.hostRx).toEqual({ len: 4042, udpOk: true, payload: 4000 })
    expect(r.hostTx).toEqual({ len: 5000, same: true })
    expect(r.chained).toBe(true)
  }, 60_000)

  it("refuses '*' on a TAP (the NIC and host rings would loop frames) and taps with IFF_VNET_HDR or without IFF_NO_PI", async () => {
    const r = (await inNs('refuse')) as Record<string, { kind: string; message: string }>
    expect(r['netmap:tr0*']).toMatchObject({
      kind: 'UnsupportedPlatform',
      message: expect.stringMatching(/netmap kernel module.*same frames.*loop/),
    })
    expect(r['netmap:tv0^']).toMatchObject({ kind: 'BindFail', message: expect.stringMatching(/IFF_VNET_HDR/) })
    expect(r['netmap:tq0^']).toMatchObject({ kind: 'BindFail', message: expect.stringMatching(/no IFF_NO_PI/) })
    expect(r['netmap:tr0^']).toBe('opened') // `^` on a plain tap still works
    expect(r.flagsUnchanged).toBe(true)
  }, 60_000)

  it('a frame the qdisc refuses for good (ENOBUFS) is dropped after a bounded retry: reported once, ring free', async () => {
    const r = await inNs('nobufs')
    expect(r.errors).toEqual([expect.objectContaining({ kind: 'Io', message: expect.stringMatching(/ENOBUFS/) })])
    expect(r.space).toBe((r.numSlots as number) - 1)
    expect(r.stats).toMatchObject({ txErrors: 1, txLastErrno: 105 })
  }, 60_000)

  it('a buf_idx the user broke: that TX packet is dropped (EINVAL), the others go out; RX stops with SyncError', async () => {
    const r = await inNs('badidx')
    expect(r.txErrors).toEqual([expect.objectContaining({ kind: 'Io', message: expect.stringMatching(/EINVAL/) })])
    expect(r.txStats).toMatchObject({ txErrors: 1, txLastErrno: 22 })
    expect(r.received).toEqual([10, 12])
    expect(r.rxErrors).toEqual([
      expect.objectContaining({ kind: 'SyncError', message: expect.stringMatching(/buf_idx/) }),
    ])
    expect(r.afterRepair).toEqual([20])
  }, 60_000)
})

/** tc inside the test's namespace only. */
function execTc(ns: string, args: string[]): void {
  execInNs(ns, ['tc', ...args])
}
