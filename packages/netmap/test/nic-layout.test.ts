import {
  formatNicRegion,
  NETMAP_IF,
  NR_RX,
  NR_TX,
  nicGeometry,
  nicRingSlot,
  queueBase,
  queueCount,
  queueFilterInsns,
  tunFlags,
} from '@x/netmap'
import { RingView } from '@x/ring'
import { describe, expect, it } from 'vitest'

describe('NIC region layout (no interface touched)', () => {
  it('ring_ofs order NIC TX, host TX, NIC RX, host RX; 0 for unbound rings; kernel initial indices', () => {
    const n = 4
    const g = nicGeometry(n, 1, 64)
    const buf = new ArrayBuffer(g.memsize)
    const bound = new Set([
      nicRingSlot(g, true, 2),
      nicRingSlot(g, false, 2),
      nicRingSlot(g, true, n),
      nicRingSlot(g, false, n),
    ])
    formatNicRegion(buf, g, 'eth9', bound)
    const dv = new DataView(buf)
    expect([24, 28, 36, 40].map((o) => dv.getUint32(o, true))).toEqual([4, 4, 1, 1])
    const ofs = Array.from({ length: 2 * n + 2 }, (_, k) => Number(dv.getBigInt64(NETMAP_IF.ringOfs + 8 * k, true)))
    expect(ofs.map((o) => (o ? 1 : 0))).toEqual([0, 0, 1, 0, 1, 0, 0, 1, 0, 1])
    const seen = new Set<number>()
    for (const k of bound) {
      const r = new RingView(buf, ofs[k]!, { atomic: false })
      const tx = k <= n
      expect(r.dir).toBe(tx ? NR_TX : NR_RX)
      expect(r.ringid).toBe(tx ? k : k - n - 1)
      expect([r.head, r.cur, r.tail]).toEqual([0, 0, tx ? 63 : 0])
      // buf_ofs: every ring's NETMAP_BUF(ring, i) = base + if_total + ring_total + i × buf_size
      expect(ofs[k]! + r.bufOfs).toBe(g.ifTotal + g.ringTotal)
      for (let s = 0; s < 64; s++) {
        const idx = r.bufIdx(s)
        expect(idx).toBeGreaterThanOrEqual(2)
        expect(seen.has(idx)).toBe(false)
        seen.add(idx)
        expect((idx + 1) * g.bufSize).toBeLessThanOrEqual(g.bufTotal)
      }
    }
  })

  it('only bound rings own buffers: a -K open of a many-queue NIC sizes the buffer pool for its own rings', () => {
    const n = 16
    const all = nicGeometry(n, 0, 1024)
    const g = nicGeometry(n, 0, 1024, undefined, 2)
    expect(g.bufTotal).toBe(Math.ceil(((2 + 2 * 1024) * 2048) / 4096) * 4096)
    expect(all.bufTotal).toBe(Math.ceil(((2 + 32 * 1024) * 2048) / 4096) * 4096)
    expect([g.ifTotal, g.ringTotal]).toEqual([all.ifTotal, all.ringTotal]) // ring pool and ring_ofs unchanged
    const buf = new ArrayBuffer(g.memsize)
    const bound = new Set([nicRingSlot(g, true, 5), nicRingSlot(g, false, 5)])
    formatNicRegion(buf, g, 'eth9', bound)
    const dv = new DataView(buf)
    const ofs = Array.from({ length: 2 * n + 2 }, (_, k) => Number(dv.getBigInt64(NETMAP_IF.ringOfs + 8 * k, true)))
    expect(ofs[5]).toBe(g.ifTotal + 5 * g.ringSize)
    expect(ofs[n + 1 + 5]).toBe(g.ifTotal + (n + 1 + 5) * g.ringSize)
    const idx = [5, n + 1 + 5].flatMap((k) => {
      const r = new RingView(buf, ofs[k]!, { atomic: false })
      return Array.from({ length: 1024 }, (_, s) => r.bufIdx(s))
    })
    expect(new Set(idx).size).toBe(2048)
    expect(Math.min(...idx)).toBe(2)
    expect((Math.max(...idx) + 1) * g.bufSize).toBeLessThanOrEqual(g.bufTotal)
    expect(() => formatNicRegion(new ArrayBuffer(g.memsize), g, 'eth9', new Set([0, 1, 2]))).toThrow(RangeError)
  })

  it('queue filter program: accept iff (queue_mapping - base) mod n == ring', () => {
    // run the eBPF program in a tiny interpreter over every queue_mapping value
    const runProg = (insns: Uint8Array, qm: number): number => {
      const dv = new DataView(insns.buffer)
      let r0 = 0n
      for (let pc = 0; ; pc++) {
        const code = dv.getUint8(pc * 8)
        const off = dv.getInt16(pc * 8 + 2, true)
        const imm = BigInt(dv.getInt32(pc * 8 + 4, true))
        if (code === 0x61) r0 = BigInt(qm)
        else if (code === 0x15 && r0 === imm) pc += off
        else if (code === 0x17) r0 -= imm
        else if (code === 0x97) r0 %= imm
        else if (code === 0x55 && r0 !== imm) pc += off
        else if (code === 0xb4) r0 = BigInt.asUintN(32, imm)
        else if (code === 0xb7) r0 = imm
        else if (code === 0x95) return Number(r0)
      }
    }
    for (const base of [0, 1] as const)
      for (let qm = 0; qm < 12; qm++) {
        const rings = [0, 1, 2, 3].filter((ring) => runProg(queueFilterInsns(ring, 4, base), qm) !== 0)
        const want = base === 1 && qm === 0 ? 0 : (qm - base) % 4
        expect(rings).toEqual([want])
      }
  })

  it('queueCount, tunFlags and queueBase of lo', () => {
    expect(queueCount('lo')).toBe(1)
    expect(queueCount('no-such-if')).toBe(1)
    expect(tunFlags('lo')).toBeNull()
    expect(queueBase('lo')).toBe(0)
  })
})
