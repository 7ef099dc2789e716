import { existsSync } from 'node:fs'
import {
  createSharedPipe,
  type Netmap,
  NetmapBuilder,
  NetmapError,
  NS_BUF_CHANGED,
  NS_MOREFRAG,
  regionPath,
} from '@x/netmap'
import { afterEach, describe, expect, it } from 'vitest'
import { shmLeftovers, uniq } from './helpers.js'

const open: Netmap[] = []
function nm(spec: string, f?: (b: NetmapBuilder) => NetmapBuilder): Netmap {
  const b = new NetmapBuilder(spec)
  const m = (f ? f(b) : b).build()
  open.push(m)
  return m
}
afterEach(() => {
  for (const m of open.splice(0)) m.close()
})

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255)

for (const mode of ['file', 'sab'] as const) {
  describe(`shm pipe in one process (${mode === 'file' ? '/dev/shm file' : 'SharedArrayBuffer'})`, () => {
    function pair(slots = 1024, rings = 1): [Netmap, Netmap, string] {
      const p = uniq('pp')
      if (mode === 'sab') {
        const sab = createSharedPipe({ parent: p, id: '1', slots, rings })
        return [nm(`netmap:${p}{1`, (b) => b.sharedMemory(sab)), nm(`netmap:${p}}1`, (b) => b.sharedMemory(sab)), p]
      }
      return [nm(`netmap:${p}{1`, (b) => b.numSlots(slots).numTxRings(rings)), nm(`netmap:${p}}1`), p]
    }

    it('ping_pong: hello world from master to slave and back', () => {
      const [a, b] = pair()
      expect(a.txRing(0).send(new TextEncoder().encode('hello world'))).toBe(true)
      a.txRing(0).sync()
      b.rxRing(0).sync()
      const f = b.rxRing(0).recv()!
      expect(new TextDecoder().decode(f.payload())).toBe('hello world')
      expect(b.rxRing(0).recv()).toBeNull()
      b.txRing(0).send(f.copy())
      b.txRing(0).sync()
      b.rxRing(0).sync()
      a.rxRing(0).sync()
      expect(new TextDecoder().decode(a.rxRing(0).recv()!.payload())).toBe('hello world')
      expect(a.isHostIf()).toBe(false)
      expect(a.numTxRings).toBe(1)
    })

    it('fill and drain: one call per slot, lengths kept, across the wrap of a 7-slot ring', () => {
      const [a, b] = pair(7)
      const tx = a.txRing(0)
      const rx = b.rxRing(0)
      let sent = 0
      let got = 0
      for (let round = 0; round < 5; round++) {
        const n = tx.fill(4, (u8, off, i) => {
          expect(i).toBeLessThan(4)
          u8.set(bytes(10 + sent, sent), off)
          return 10 + sent++
        })
        expect(n).toBe(4)
        tx.sync()
        rx.sync()
        const m = rx.drain(100, (u8, off, len) => {
          expect(len).toBe(10 + got)
          expect(u8.slice(off, off + len)).toEqual(bytes(len, got++))
        })
        expect(m).toBe(4)
        rx.sync() // releases them
        tx.sync() // and TX gets them back
      }
      expect(got).toBe(20)
      expect(rx.drain(1, () => {})).toBe(0)
    })

    it('drain gives a NS_MOREFRAG chain as its fragments, lengths without the flags', () => {
      const [a, b] = pair(7)
      const tx = a.txRing(0)
      const rx = b.rxRing(0)
      const h = tx.view.head
      const n = tx.fill(2, (u8, off, i) => {
        u8.set(bytes(100 + i, i), off)
        return 100 + i
      })
      expect(n).toBe(2)
      tx.slots[h * 4 + 1] = (NS_MOREFRAG << 16) | 100 // first fragment of a two-slot packet
      tx.sync()
      rx.sync()
      const k = rx.view.head
      expect((rx.slots[k * 4 + 1]! >>> 16) & NS_MOREFRAG).toBe(NS_MOREFRAG) // the flag made it across
      const lens: number[] = []
      expect(rx.drain(10, (_u8, _off, len) => lens.push(len))).toBe(2)
      expect(lens).toEqual([100, 101])
    })

    it('a kring word out of range (a peer scribbling on the region) is a SyncError, not a hang', () => {
      const [a, b] = pair(7)
      const tx = a.txRing(0)
      const rx = b.rxRing(0)
      tx.send(bytes(10, 1))
      tx.sync()
      // kring lines: 128 bytes each from the offset at header byte 52; master TX is line 0, slave RX line 3
      const words = new Int32Array(tx.u8.buffer, 0, 1024)
      const line = (k: number): number => (words[52 / 4]! + k * 128) / 4
      const hwcur = words[line(0)]!
      words[line(0)] = -2_000_000_000 // hwcur
      expect(() => tx.sync()).toThrow(
        expect.objectContaining({ kind: 'SyncError', message: expect.stringMatching(/kring state is corrupt/) }),
      )
      words[line(0)] = hwcur
      tx.sync()
      const pipeTail = words[line(3) + 5]!
      words[line(3) + 5] = 1 << 30 // the RX kring's pipe tail, which the TX end publishes
      expect(() => rx.sync()).toThrow(
        expect.objectContaining({ kind: 'SyncError', message: expect.stringMatching(/kring state is corrupt/) }),
      )
      words[line(3) + 5] = pipeTail
      rx.sync()
      expect(rx.recv()!.copy()).toEqual(bytes(10, 1))
    })

    it('walking a ring yourself: slots, bufBase and u8 are the ring as netmap lays it out', () => {
      const [a, b] = pair(7)
      const tx = a.txRing(0)
      const rx = b.rxRing(0)
      for (let round = 0; round < 3; round++) {
        // TX, as a C program writes it: NETMAP_BUF(ring, slot->buf_idx), slot->len, head = cur = next
        let h = tx.view.head
        for (let i = 0; i < 5; i++) {
          const off = tx.bufBase + tx.slots[h * 4]! * tx.bufSize
          expect(off).toBe(tx.slotBufOffset(h))
          tx.u8.set(bytes(30 + i, round * 5 + i), off)
          tx.slots[h * 4 + 1] = 30 + i // len, flags 0
          h = tx.view.next(h)
        }
        tx.view.head = h
        tx.view.cur = h
        tx.sync()
        rx.sync()
        expect(rx.space).toBe(5)
        // RX: read two by hand, the rest with recv()
        let k = rx.view.head
        for (let i = 0; i < 2; i++) {
          const off = rx.bufBase + rx.slots[k * 4]! * rx.bufSize
          const len = rx.slots[k * 4 + 1]! & 0xffff
          expect(rx.slots[k * 4 + 1]! >>> 16).toBe(0) // no flags
          expect(rx.u8.slice(off, off + len)).toEqual(bytes(30 + i, round * 5 + i))
          k = rx.view.next(k)
        }
        rx.view.head = k
        rx.view.cur = k
        for (let i = 2; i < 5; i++) expect(rx.recv()!.copy()).toEqual(bytes(30 + i, round * 5 + i))
        expect(rx.recv()).toBeNull()
        rx.sync()
        tx.sync()
        expect(tx.space).toBe(6)
      }
    })

    it('a TX ring takes num_slots-1 packets, then send() returns false (and sendOrThrow WouldBlock)', () => {
      const [a, b] = pair(7)
      const tx = a.txRing(0)
      let n = 0
      while (tx.send(bytes(60, n))) n++
      expect(n).toBe(6)
      expect(tx.space).toBe(0)
      expect(() => tx.sendOrThrow(bytes(1, 0))).toThrow(expect.objectContaining({ kind: 'WouldBlock' }))
      tx.sync()
      expect(tx.space).toBe(0) // nothing released yet
      const rx = b.rxRing(0)
      rx.sync()
      expect(rx.space).toBe(6)
      for (let i = 0; i < 6; i++) expect(rx.recv()!.copy()).toEqual(bytes(60, i))
      rx.sync()
      tx.sync()
      expect(tx.space).toBe(6)
    })

    it('wraps at a non-power-of-two slot count with batches (reserveBatch/commit)', () => {
      const [a, b] = pair(7)
      const tx = a.txRing(0)
      const rx = b.rxRing(0)
      let seq = 0
      let got = 0
      for (let round = 0; round < 20; round++) {
        const r = tx.reserveBatch(4)
        expect(r.count).toBe(Math.min(4, tx.space))
        for (let i = 0; i < r.count; i++) r.packet(i, 8).set(bytes(8, seq++))
        r.commit()
        tx.sync()
        rx.sync()
        for (const f of rx.recvBatch(16)) expect(f.copy()).toEqual(bytes(8, got++))
        rx.sync()
        tx.sync()
      }
      expect(got).toBe(seq)
      expect(seq).toBe(80)
    })

    it('partial commit publishes only k packets', () => {
      const [a, b] = pair(16)
      const tx = a.txRing(0)
      const r = tx.reserveBatch(5)
      for (let i = 0; i < 5; i++) r.packet(i, 4).fill(i)
      r.commit(2)
      tx.sync()
      const rx = b.rxRing(0)
      rx.sync()
      expect(rx.space).toBe(2)
    })

    it('NS_MOREFRAG chains: a 5000-byte packet in 3 slots, published only when complete', () => {
      const [a, b] = pair(16)
      const tx = a.txRing(0)
      const rx = b.rxRing(0)
      const big = bytes(5000, 3)
      expect(tx.send(big)).toBe(true)
      expect(tx.space).toBe(15 - 3)
      tx.sync()
      rx.sync()
      expect(rx.space).toBe(3)
      const f = rx.recv()!
      expect(f.length).toBe(5000)
      expect(f.payload()).toEqual(big)
      // an incomplete chain (MOREFRAG on the last slot synced) is not published
      const v = tx.view
      const h = v.head
      tx.send(bytes(100, 1))
      v.setSlotFlags(h, 0x20)
      tx.sync()
      rx.sync()
      expect(rx.space).toBe(0)
      tx.send(bytes(10, 2))
      tx.sync()
      rx.sync()
      const g = rx.recv()!
      expect(g.length).toBe(110)
      expect(() => tx.send(new Uint8Array(2048 * 64 + 1))).toThrow(expect.objectContaining({ kind: 'PacketTooLarge' }))
    })

    it('prologue violations throw SyncError and the ring is usable after', () => {
      const [a, b] = pair(8)
      const tx = a.txRing(0)
      tx.view.head = 7 // past rtail … 7 is tail (=7)? tail is 7, head 7 would be legal: use cur < head
      tx.view.cur = 3
      expect(() => tx.sync()).toThrow(NetmapError)
      expect([tx.view.head, tx.view.cur]).toEqual([0, 0])
      tx.view.head = 9 // out of range
      expect(() => tx.sync()).toThrow(expect.objectContaining({ kind: 'SyncError' }))
      const rx = b.rxRing(0)
      rx.view.head = 1 // past hwtail (0)
      expect(() => rx.sync()).toThrow(/rxsync prologue/)
      // a user-written tail is silently put back
      tx.send(bytes(4, 0))
      tx.view.tail = 2
      tx.sync()
      expect(tx.view.tail).toBe(7)
      rx.sync()
      expect(rx.recv()!.copy()).toEqual(bytes(4, 0))
    })

    it("a receiver's buffer swap (NS_BUF_CHANGED) travels back to the sender", () => {
      const [a, b] = pair(4)
      const tx = a.txRing(0)
      const rx = b.rxRing(0)
      const orig = tx.view.bufIdx(0)
      tx.send(bytes(4, 0))
      tx.sync()
      rx.sync()
      const spare = rx.view.bufIdx(3) === orig ? rx.view.bufIdx(2) : rx.view.bufIdx(3)
      rx.view.setBufIdx(0, spare)
      rx.view.setSlotFlags(0, NS_BUF_CHANGED)
      rx.recv()
      rx.sync()
      expect(rx.view.slotFlags(0) & NS_BUF_CHANGED).toBe(0)
      expect(tx.view.bufIdx(0)).toBe(spare)
    })

    it('deferred release: peek holds slots until release()', () => {
      const [a, b] = pair(8)
      const tx = a.txRing(0)
      for (let i = 0; i < 3; i++) tx.send(bytes(4, i))
      tx.sync()
      const rx = b.rxRing(0)
      rx.sync()
      expect(rx.peek(2)!.copy()).toEqual(bytes(4, 2))
      expect(rx.peek(3)).toBeNull()
      rx.sync()
      tx.sync()
      expect(tx.space).toBe(4) // nothing released
      rx.release(3)
      rx.sync()
      tx.sync()
      expect(tx.space).toBe(7)
    })

    it('multi-ring pipes: ONE_NIC -K opens bind one ring pair', () => {
      const p = uniq('mr')
      let sab: SharedArrayBuffer | undefined
      if (mode === 'sab') sab = createSharedPipe({ parent: p, id: 'r', rings: 4, slots: 64 })
      const f = (b: NetmapBuilder): NetmapBuilder => (sab ? b.sharedMemory(sab) : b.numTxRings(4).numSlots(64))
      const all = nm(`netmap:${p}{r`, f)
      expect(all.numTxRings).toBe(4)
      const ends = [0, 1, 2, 3].map((k) => nm(`netmap:${p}}r-${k}`, f))
      for (let k = 0; k < 4; k++) {
        expect(ends[k]!.firstRing).toBe(k)
        expect(() => ends[k]!.txRing((k + 1) % 4)).toThrow(expect.objectContaining({ kind: 'InvalidRingIndex' }))
        all.txRing(k).send(Uint8Array.of(k))
        all.txRing(k).sync()
      }
      for (let k = 0; k < 4; k++) {
        const rx = ends[k]!.rxRing(k)
        rx.sync()
        expect(rx.recv()!.copy()).toEqual(Uint8Array.of(k))
      }
      expect(() => all.txRing(4)).toThrow(expect.objectContaining({ kind: 'InvalidRingIndex' }))
    })

    it('a second { open gets the master again (as the kernel does)', () => {
      const [a, b, p] = pair(8)
      const a2 = nm(`netmap:${p}{1`, (x) => (mode === 'sab' ? x.sharedMemory(a.region.buffer as SharedArrayBuffer) : x))
      a2.txRing(0).send(bytes(3, 9))
      a2.txRing(0).sync()
      b.rxRing(0).sync()
      expect(b.rxRing(0).recv()!.copy()).toEqual(bytes(3, 9))
      expect(a.region.offset).toBe(a2.region.offset)
    })

    it("readiness events: 'readable' on RX, 'writable' on TX, stopped by removing the listener", async () => {
      const [a, b] = pair(8)
      const rx = b.rxRing(0)
      const got: Uint8Array[] = []
      const done = new Promise<void>((resolve) => {
        const onReadable = (): void => {
          for (let f = rx.recv(); f; f = rx.recv()) got.push(f.copy())
          if (got.length === 3) {
            rx.off('readable', onReadable)
            resolve()
          }
        }
        rx.on('readable', onReadable)
      })
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 5))
        a.txRing(0).send(bytes(10, i))
        a.txRing(0).sync()
      }
      await done
      expect(got).toEqual([0, 1, 2].map((i) => bytes(10, i)))
      const tx = a.txRing(0)
      while (tx.send(bytes(1, 0)));
      tx.sync()
      const writable = new Promise<void>((resolve) => tx.once('writable', resolve))
      rx.sync()
      rx.recvBatch(8)
      rx.sync()
      await writable
      expect(tx.space).toBeGreaterThan(0)
      b.rxRing(0).on('readable', () => {}) // left attached: close() stops the loop
    })

    it('async readiness: rxRing.next() and the async iterator wake on the peer sync', async () => {
      const [a, b] = pair(16)
      const p = b.rxRing(0).next()
      setTimeout(() => {
        a.txRing(0).send(bytes(5, 5))
        a.txRing(0).sync()
      }, 20)
      expect((await p).copy()).toEqual(bytes(5, 5))
      const got: Uint8Array[] = []
      const it = (async () => {
        for await (const f of b.rxRing(0)) {
          got.push(f.copy())
          if (got.length === 5) break
        }
      })()
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 5))
        a.txRing(0).send(bytes(60, i))
        a.txRing(0).sync()
      }
      await it
      expect(got).toEqual([0, 1, 2, 3, 4].map((i) => bytes(60, i)))
      const ac = new AbortController()
      const w = b.rxRing(0).ready(ac.signal)
      ac.abort(new Error('stop'))
      await expect(w).rejects.toThrow('stop')
    })
  })
}

describe('shm pipe files', () => {
  it('the last closer removes the region and doorbells; closing one end keeps it', () => {
    const p = uniq('lc')
    const a = new NetmapBuilder(`netmap:${p}{1`).build()
    const b = new NetmapBuilder(`netmap:${p}}1`).build()
    const path = regionPath(p, '1')
    expect(existsSync(path)).toBe(true)
    expect(shmLeftovers(p).sort()).toEqual([`netmap-${p}-1`, `netmap-${p}-1.bell0`, `netmap-${p}-1.bell1`])
    expect(a.fd).toBeGreaterThan(2)
    a.txRing(0).send(Uint8Array.of(1))
    a.txRing(0).sync()
    a.close()
    expect(existsSync(path)).toBe(true)
    expect(b.peerState()).toBe('closed')
    // re-opening leaves the rings as they were
    const a2 = new NetmapBuilder(`netmap:${p}{1`).build()
    b.rxRing(0).sync()
    expect(b.rxRing(0).recv()!.copy()).toEqual(Uint8Array.of(1))
    a2.close()
    b.close()
    expect(shmLeftovers(p)).toEqual([])
    expect(() => b.txRing(0)).toThrow(expect.objectContaining({ kind: 'Closed' }))
  })

  it('/x opens are exclusive', () => {
    const p = uniq('ex')
    const a = new NetmapBuilder(`netmap:${p}{1/x`).build()
    try {
      expect(() => new NetmapBuilder(`netmap:${p}{1`).build()).toThrow(/EBUSY/)
    } finally {
      a.close()
    }
    expect(shmLeftovers(p)).toEqual([])
  })

  it('non-pipe specs without the module are UnsupportedPlatform', () => {
    expect(() => new NetmapBuilder('netmap:eth0').backend('shm').build()).toThrow(
      expect.objectContaining({ kind: 'UnsupportedPlatform' }),
    )
  })

  it('Symbol.dispose closes', () => {
    const p = uniq('dp')
    {
      using a = new NetmapBuilder(`netmap:${p}{1`).build()
      expect(a.closed).toBe(false)
    }
    expect(shmLeftovers(p)).toEqual([])
  })
})
