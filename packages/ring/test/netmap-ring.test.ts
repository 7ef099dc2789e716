import {
  NETMAP_RING_HEADER_SIZE,
  NETMAP_RING_LAYOUT,
  NETMAP_SLOT_SIZE,
  NR_RX,
  NR_TX,
  NS_BUF_CHANGED,
  NS_MOREFRAG,
  RingError,
  RingView,
  ringAdvance,
  ringEmpty,
  ringNext,
  ringSpace,
  ringTxPending,
} from '@x/ring'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { spinUntil, startWorker } from './helpers.js'

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    if (e instanceof RingError) return e.code
    throw e
  }
  return undefined
}

// The kernel's formulas, transcribed from sys/net/netmap_user.h with C's int arithmetic.
const C = {
  next: (i: number, n: number) => (i + 1 === n ? 0 : i + 1),
  space: (head: number, tail: number, n: number) => {
    let ret = (tail - head) | 0
    if (ret < 0) ret += n
    return ret
  },
}

describe('RingView: layout', () => {
  it('uses struct netmap_ring / netmap_slot offsets by default', () => {
    expect(NETMAP_RING_HEADER_SIZE).toBe(256)
    expect(NETMAP_SLOT_SIZE).toBe(16)
    expect(NETMAP_RING_LAYOUT).toMatchObject({
      bufOfs: 0,
      numSlots: 8,
      nrBufSize: 12,
      ringid: 16,
      dir: 18,
      head: 20,
      cur: 24,
      tail: 28,
      flags: 32,
      ts: 40,
      offsetMask: 56,
      bufAlign: 64,
      slots: 256,
      slotSize: 16,
      slotBufIdx: 0,
      slotLen: 4,
      slotFlags: 6,
      slotPtr: 8,
    })
    expect(RingView.byteLength(1024)).toBe(256 + 16 * 1024)
  })

  it('reads and writes the bytes where the kernel has them', () => {
    const mem = new SharedArrayBuffer(8192)
    const at = 128
    const r = RingView.format(mem, at, { numSlots: 100, bufSize: 2048, bufOfs: 4096, ringid: 3, dir: NR_TX })
    const dv = new DataView(mem, at)
    expect(dv.getBigInt64(0, true)).toBe(4096n)
    expect(dv.getUint32(8, true)).toBe(100)
    expect(dv.getUint32(12, true)).toBe(2048)
    expect(dv.getUint16(16, true)).toBe(3)
    expect(dv.getUint16(18, true)).toBe(1)
    r.head = 5
    r.cur = 6
    r.tail = 7
    r.flags = 2
    expect([dv.getUint32(20, true), dv.getUint32(24, true), dv.getUint32(28, true), dv.getUint32(32, true)]).toEqual([
      5, 6, 7, 2,
    ])
    r.setBufIdx(3, 77)
    r.setLen(3, 1500)
    r.setSlotFlags(3, NS_BUF_CHANGED | NS_MOREFRAG)
    r.setPtr(3, 0x1122334455667788n)
    const s = 256 + 3 * 16
    expect(dv.getUint32(s, true)).toBe(77)
    expect(dv.getUint16(s + 4, true)).toBe(1500)
    expect(dv.getUint16(s + 6, true)).toBe(0x21)
    expect(dv.getBigUint64(s + 8, true)).toBe(0x1122334455667788n)
    dv.setUint32(28, 42, true) // the "kernel" moves tail
    expect(r.tail).toBe(42)
    expect([r.bufIdx(3), r.len(3), r.slotFlags(3), r.ptr(3)]).toEqual([77, 1500, 0x21, 0x1122334455667788n])
    expect([r.bufOfs, r.nrBufSize, r.ringid, r.dir, r.offsetMask, r.bufAlign]).toEqual([4096, 2048, 3, NR_TX, 0n, 0n])
    expect(r.ts).toEqual({ sec: 0, usec: 0 })
    // A second view reads num_slots from the header.
    expect(new RingView(mem, at).numSlots).toBe(100)
  })

  it('initialises like NIOCREGIF: TX has head = cur = 0, tail = n - 1; RX is empty', () => {
    const mem = new ArrayBuffer(RingView.byteLength(7) * 2)
    const tx = RingView.format(mem, 0, { numSlots: 7, bufSize: 2048, dir: NR_TX })
    expect([tx.head, tx.cur, tx.tail, tx.space(), tx.empty(), tx.txPending()]).toEqual([0, 0, 6, 6, false, false])
    const rx = RingView.format(mem, RingView.byteLength(7), { numSlots: 7, bufSize: 2048, dir: NR_RX })
    expect([rx.head, rx.cur, rx.tail, rx.space(), rx.empty()]).toEqual([0, 0, 0, 0, true])
    expect(tx.atomic).toBe(false) // plain ArrayBuffer
    expect(new RingView(new SharedArrayBuffer(512), 0, { numSlots: 2 }).atomic).toBe(true)
    expect(new RingView(mem, 0, { atomic: true }).atomic).toBe(true)
  })

  it('addresses buffers as NETMAP_BUF / NETMAP_BUF_OFFSET do', () => {
    const bufSize = 64
    const mem = new SharedArrayBuffer(1024 + 10 * bufSize)
    // ring at 256, buffers from 1024: buf_ofs = 1024 - 256
    const r = RingView.format(mem, 256, { numSlots: 4, bufSize, bufOfs: 768 })
    expect(r.bufOffset(0)).toBe(1024)
    expect(r.bufOffset(3)).toBe(1024 + 3 * 64)
    expect(r.bufIndexOf(1024 + 3 * 64 + 10)).toBe(3)
    r.buf(3).fill(7)
    expect(new Uint8Array(mem, 1024 + 3 * 64, 64).every((b) => b === 7)).toBe(true)
    r.setBufIdx(1, 3)
    r.setLen(1, 10)
    expect(r.slotBuf(1).length).toBe(10)
    expect(r.slotBuf(1).byteOffset).toBe(1024 + 3 * 64)
    // With NETMAP_REQ_OPT_OFFSETS the low bits of ptr are an offset into the buffer.
    new DataView(mem, 256).setBigUint64(56, 0x3fn, true)
    r.setPtr(1, 0xabcd00n | 5n)
    expect(r.slotOffset(1)).toBe(5)
    expect(r.slotBuf(1).byteOffset).toBe(1024 + 3 * 64 + 5)
    expect(code(() => r.buf(10))).toBe('ERR_BAD_DESC')
  })

  it('takes other field offsets (a compact layout without num_slots)', () => {
    const layout = {
      bufOfs: -1,
      numSlots: -1,
      nrBufSize: -1,
      ringid: -1,
      dir: -1,
      head: 0,
      cur: 4,
      tail: 8,
      flags: -1,
      ts: -1,
      offsetMask: -1,
      bufAlign: -1,
      slots: 16,
      slotSize: 8,
      slotBufIdx: 0,
      slotLen: 4,
      slotFlags: 6,
      slotPtr: -1,
    }
    const mem = new SharedArrayBuffer(16 + 5 * 8)
    expect(code(() => new RingView(mem, 0, { layout }))).toBe('ERR_INVALID_ARG')
    const r = new RingView(mem, 0, { layout, numSlots: 5 })
    r.tail = 3
    r.setBufIdx(4, 9)
    r.setLen(4, 100)
    const u32 = new Uint32Array(mem)
    expect(u32[2]).toBe(3)
    expect(u32[(16 + 4 * 8) / 4]).toBe(9)
    expect(new Uint16Array(mem)[(16 + 4 * 8 + 4) / 2]).toBe(100)
    expect([r.space(), r.flags, r.bufOfs, r.nrBufSize]).toEqual([3, 0, 0, 0])
  })

  it('rejects bad geometry and slot indices', () => {
    const mem = new ArrayBuffer(256 + 16 * 4)
    expect(code(() => new RingView(mem, 2, { numSlots: 1 }))).toBe('ERR_INVALID_ARG')
    expect(code(() => new RingView(mem, 0, { numSlots: 5 }))).toBe('ERR_INVALID_ARG')
    expect(code(() => new RingView(mem, 0, { numSlots: 4, layout: { head: 21 } }))).toBe('ERR_INVALID_ARG')
    expect(code(() => RingView.format(mem, 0, { numSlots: 4, bufSize: 1, dir: 2 }))).toBe('ERR_INVALID_ARG')
    const r = new RingView(mem, 0, { numSlots: 4 })
    expect(code(() => r.bufIdx(4))).toBe('ERR_INVALID_ARG')
    expect(code(() => r.setLen(-1, 0))).toBe('ERR_INVALID_ARG')
  })
})

describe('RingView: index arithmetic against the kernel formulas', () => {
  it('space / next / empty / tx_pending / advance for any num_slots (property)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 5000 })
          .chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1), fc.nat(n - 1), fc.nat(n))),
        ([n, head, tail, k]) => {
          const mem = new ArrayBuffer(RingView.byteLength(n))
          const r = RingView.format(mem, 0, { numSlots: n, bufSize: 2048 })
          r.head = head
          r.tail = tail
          expect(r.space()).toBe(C.space(head, tail, n))
          expect(ringSpace(head, tail, n)).toBe(C.space(head, tail, n))
          expect(r.space()).toBe((((tail - head) % n) + n) % n)
          expect(r.next(head)).toBe(C.next(head, n))
          expect(ringNext(tail, n)).toBe((tail + 1) % n)
          expect(r.empty()).toBe(ringEmpty(head, tail))
          expect(r.txPending()).toBe(C.next(tail, n) !== head)
          expect(ringTxPending(head, tail, n)).toBe(r.txPending())
          expect(r.advance(head, k)).toBe((head + k) % n)
          expect(ringAdvance(head, k, n)).toBe((head + k) % n)
          expect(r.distance(head, r.advance(head, k))).toBe(k % n)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('walks a TX ring around several times, one slot always empty', () => {
    for (const n of [1, 2, 3, 7, 64, 1000]) {
      const mem = new SharedArrayBuffer(RingView.byteLength(n))
      const r = RingView.format(mem, 0, { numSlots: n, bufSize: 2048, dir: NR_TX })
      let moved = 0
      for (let lap = 0; moved < 3 * n + 5 && lap < 100_000; lap++) {
        // Slots the kernel still holds (filled, not yet completed): from next(tail) up to head.
        const pending = () => r.distance(r.next(r.tail), r.head)
        expect(r.space() + pending()).toBe(n - 1)
        // user: fill up to (lap % 5) + 1 free slots at head, then head = cur = next(head)
        const want = Math.min(r.space(), (lap % 5) + 1)
        const before = r.space()
        for (let i = 0; i < want; i++) {
          r.setLen(r.head, i + 1)
          r.head = r.cur = r.next(r.head)
        }
        moved += want
        expect(r.space()).toBe(before - want)
        expect(r.txPending()).toBe(pending() > 0)
        // kernel: complete up to (lap % 3) + 1 of the pending slots, moving tail forward
        r.tail = r.advance(r.tail, Math.min(pending(), (lap % 3) + 1))
        if (n === 1) break // a 1-slot TX ring never holds a packet
      }
      if (n === 1) expect(moved).toBe(0)
      else expect(moved).toBeGreaterThanOrEqual(3 * n + 5)
    }
  })
})

describe('RingView: shared between worker threads', () => {
  it('a worker fills an RX ring and publishes tail; the main thread consumes at head', async () => {
    const numSlots = 100 // not a power of two
    const nbufs = 300
    const bufSize = 64
    const ringAt = 0
    const bufsAt = 4096
    const mem = new SharedArrayBuffer(bufsAt + (nbufs + 2) * bufSize)
    const r = RingView.format(mem, ringAt, { numSlots, bufSize, bufOfs: bufsAt - ringAt, dir: NR_RX })
    const total = 50_000
    const w = startWorker<{ sent: number; batches: number }>('netmap-worker.mjs', {
      buffer: mem,
      byteOffset: ringAt,
      total,
      nbufs,
    })
    let seq = 0
    let bad = 0
    while (seq < total) {
      spinUntil(() => !r.empty(), 'packets on the RX ring')
      let head = r.head
      const tail = r.tail
      while (head !== tail) {
        const idx = r.bufIdx(head)
        const view = new DataView(mem, r.bufOffset(idx), 4)
        if (idx !== 2 + (seq % nbufs) || r.len(head) !== 4 + (seq % 60) || view.getUint32(0, true) !== seq) bad++
        head = r.next(head)
        seq++
      }
      r.head = r.cur = head // release the batch to the "kernel"
    }
    const result = await w.result
    await w.worker.terminate()
    expect(bad).toBe(0)
    expect(result.sent).toBe(total)
    expect(r.empty()).toBe(true)
  })
})
