import {
  binding,
  createSharedPipe,
  formatPipeRegion,
  ifOffset,
  kringIndex,
  NETMAP_IF,
  NETMAP_IF_SIZE,
  NIOCCONFIG,
  NIOCCTRL,
  NIOCGINFO,
  NIOCREGIF,
  NIOCRXSYNC,
  NIOCTXSYNC,
  NMREQ_HEADER_SIZE,
  NMREQ_OPTION_SIZE,
  NMREQ_REGISTER_SIZE,
  NMREQ_SIZE,
  NR_RX,
  NR_TX,
  pipeBufIdx,
  pipeGeometry,
  readGeometry,
  ringOffset,
} from '@x/netmap'
import { NETMAP_RING_LAYOUT, RingView } from '@x/ring'
import { describe, expect, it } from 'vitest'

const c = binding.constants

describe('layout constants against the addon (sizeof/offsetof of the real structs)', () => {
  it('struct sizes', () => {
    expect(c.sizeof_netmap_slot).toBe(16)
    expect(c.sizeof_netmap_ring).toBe(256)
    expect(c.alignof_netmap_ring).toBe(128)
    expect(c.sizeof_netmap_if).toBe(NETMAP_IF_SIZE)
    expect(c.sizeof_nmreq_header).toBe(NMREQ_HEADER_SIZE)
    expect(c.sizeof_nmreq_register).toBe(NMREQ_REGISTER_SIZE)
    expect(c.sizeof_nmreq_option).toBe(NMREQ_OPTION_SIZE)
    expect(c.sizeof_nmreq).toBe(NMREQ_SIZE)
    expect(c.sizeof_nmreq_port_info_get).toBe(32)
  })

  it('netmap_ring and netmap_slot offsets equal @x/ring NETMAP_RING_LAYOUT', () => {
    const L = NETMAP_RING_LAYOUT
    expect([
      c.offsetof_netmap_ring_buf_ofs,
      c.offsetof_netmap_ring_num_slots,
      c.offsetof_netmap_ring_nr_buf_size,
    ]).toEqual([L.bufOfs, L.numSlots, L.nrBufSize])
    expect([c.offsetof_netmap_ring_ringid, c.offsetof_netmap_ring_dir]).toEqual([L.ringid, L.dir])
    expect([c.offsetof_netmap_ring_head, c.offsetof_netmap_ring_cur, c.offsetof_netmap_ring_tail]).toEqual([20, 24, 28])
    expect([L.head, L.cur, L.tail, L.flags]).toEqual([20, 24, 28, c.offsetof_netmap_ring_flags])
    expect([c.offsetof_netmap_ring_ts, c.offsetof_netmap_ring_offset_mask, c.offsetof_netmap_ring_buf_align]).toEqual([
      L.ts,
      L.offsetMask,
      L.bufAlign,
    ])
    expect(c.offsetof_netmap_ring_sem).toBe(128)
    expect(c.offsetof_netmap_ring_slot).toBe(L.slots)
    expect([
      c.offsetof_netmap_slot_buf_idx,
      c.offsetof_netmap_slot_len,
      c.offsetof_netmap_slot_flags,
      c.offsetof_netmap_slot_ptr,
    ]).toEqual([L.slotBufIdx, L.slotLen, L.slotFlags, L.slotPtr])
  })

  it('netmap_if offsets', () => {
    expect(c.offsetof_netmap_if_ni_name).toBe(NETMAP_IF.niName)
    expect(c.offsetof_netmap_if_ni_version).toBe(NETMAP_IF.niVersion)
    expect(c.offsetof_netmap_if_ni_flags).toBe(NETMAP_IF.niFlags)
    expect(c.offsetof_netmap_if_ni_tx_rings).toBe(NETMAP_IF.niTxRings)
    expect(c.offsetof_netmap_if_ni_rx_rings).toBe(NETMAP_IF.niRxRings)
    expect(c.offsetof_netmap_if_ni_bufs_head).toBe(NETMAP_IF.niBufsHead)
    expect(c.offsetof_netmap_if_ni_host_tx_rings).toBe(NETMAP_IF.niHostTxRings)
    expect(c.offsetof_netmap_if_ni_host_rx_rings).toBe(NETMAP_IF.niHostRxRings)
    expect(c.offsetof_netmap_if_ring_ofs).toBe(NETMAP_IF.ringOfs)
  })

  it('nmreq_header / nmreq_register offsets (reference §2.7)', () => {
    expect([
      c.offsetof_nmreq_header_nr_version,
      c.offsetof_nmreq_header_nr_reqtype,
      c.offsetof_nmreq_header_nr_name,
    ]).toEqual([0, 2, 8])
    expect([c.offsetof_nmreq_header_nr_options, c.offsetof_nmreq_header_nr_body]).toEqual([72, 80])
    expect([
      c.offsetof_nmreq_register_nr_offset,
      c.offsetof_nmreq_register_nr_memsize,
      c.offsetof_nmreq_register_nr_tx_slots,
      c.offsetof_nmreq_register_nr_rx_slots,
      c.offsetof_nmreq_register_nr_tx_rings,
      c.offsetof_nmreq_register_nr_rx_rings,
      c.offsetof_nmreq_register_nr_host_tx_rings,
      c.offsetof_nmreq_register_nr_host_rx_rings,
      c.offsetof_nmreq_register_nr_mem_id,
      c.offsetof_nmreq_register_nr_ringid,
      c.offsetof_nmreq_register_nr_mode,
      c.offsetof_nmreq_register_nr_extra_bufs,
      c.offsetof_nmreq_register_nr_flags,
    ]).toEqual([0, 8, 16, 20, 24, 26, 28, 30, 32, 34, 36, 40, 48])
    expect([c.offsetof_nmreq_nr_version, c.offsetof_nmreq_nr_flags]).toEqual([16, 52])
  })

  it('ioctl numbers: TS, addon and the reference agree', () => {
    const want = {
      NIOCGINFO: 0xc03c6991,
      NIOCREGIF: 0xc03c6992,
      NIOCTXSYNC: 0x6994,
      NIOCRXSYNC: 0x6995,
      NIOCCONFIG: 0xc1106996,
      NIOCCTRL: 0xc0586997,
    }
    expect({ NIOCGINFO, NIOCREGIF, NIOCTXSYNC, NIOCRXSYNC, NIOCCONFIG, NIOCCTRL }).toEqual(want)
    for (const [k, v] of Object.entries(want)) expect(c[k] >>> 0).toBe(v)
    expect(c.NETMAP_API).toBe(14)
  })
})

describe('pipe region builder', () => {
  for (const [rings, slots] of [
    [1, 1024],
    [4, 7],
  ] as const) {
    it(`lays out ${rings} ring pair(s) of ${slots} slots as the kernel does`, () => {
      const sab = createSharedPipe({ parent: 'p', id: 'q', rings, slots })
      const g = readGeometry(sab)
      expect(g).toEqual(pipeGeometry(rings, slots))
      const dv = new DataView(sab)
      const base = g.ifOff
      const ringsSeen = new Map<number, RingView>()
      for (let e = 0; e < 2; e++) {
        for (let sel = -1; sel < (rings > 1 ? rings : 0); sel++) {
          const nif = base + ifOffset(g, e, sel)
          const name = new TextDecoder().decode(new Uint8Array(sab, nif, 16)).replace(/\0+$/, '')
          expect(name).toBe(e === 0 ? 'p{q' : 'p}q')
          expect(dv.getUint32(nif + NETMAP_IF.niVersion, true)).toBe(14)
          expect(dv.getUint32(nif + NETMAP_IF.niTxRings, true)).toBe(rings)
          expect(dv.getUint32(nif + NETMAP_IF.niRxRings, true)).toBe(rings)
          expect(dv.getUint32(nif + NETMAP_IF.niHostTxRings, true)).toBe(1) // fake host rings
          expect(dv.getUint32(nif + NETMAP_IF.niHostRxRings, true)).toBe(1)
          const ofs = (i: number): number => Number(dv.getBigInt64(nif + NETMAP_IF.ringOfs + 8 * i, true))
          // [tx0..n-1, host tx, rx0..n-1, host rx]: fake host rings and unbound rings are 0
          expect(ofs(rings)).toBe(0)
          expect(ofs(2 * rings + 1)).toBe(0)
          for (let i = 0; i < rings; i++) {
            const bound = sel < 0 || sel === i
            for (const tx of [true, false]) {
              const o = ofs(tx ? i : rings + 1 + i)
              if (!bound) {
                expect(o).toBe(0)
                continue
              }
              expect(nif + o).toBe(base + ringOffset(g, kringIndex(g, e, tx, i)))
              const r = new RingView(sab, nif + o)
              ringsSeen.set(kringIndex(g, e, tx, i), r)
              expect(r.numSlots).toBe(slots)
              expect(r.nrBufSize).toBe(2048)
              expect(r.dir).toBe(tx ? NR_TX : NR_RX)
              expect(r.ringid).toBe(i)
              expect([r.head, r.cur, r.tail]).toEqual(tx ? [0, 0, slots - 1] : [0, 0, 0])
              expect(r.offsetMask).toBe(0n)
              // buf_ofs = (if_total + ring_total) - ring_offset: NETMAP_BUF(ring, 0) is the buffer pool
              expect(r.bufOffset(0)).toBe(base + g.ifTotal + g.ringTotal)
            }
          }
        }
      }
      // linked rings share buf_idx slot by slot; no buf_idx < 2; every buffer is inside the region
      for (let i = 0; i < rings; i++) {
        const mtx = ringsSeen.get(kringIndex(g, 0, true, i))!
        const srx = ringsSeen.get(kringIndex(g, 1, false, i))!
        const stx = ringsSeen.get(kringIndex(g, 1, true, i))!
        const mrx = ringsSeen.get(kringIndex(g, 0, false, i))!
        for (let k = 0; k < slots; k++) {
          expect(mtx.bufIdx(k)).toBe(srx.bufIdx(k))
          expect(stx.bufIdx(k)).toBe(mrx.bufIdx(k))
          expect(mtx.bufIdx(k)).toBe(pipeBufIdx(g, 0, i, k))
          expect(mtx.bufIdx(k)).toBeGreaterThanOrEqual(2)
          expect(mtx.bufIdx(k)).not.toBe(stx.bufIdx(k))
          expect(mtx.bufOffset(mtx.bufIdx(k)) + 2048).toBeLessThanOrEqual(g.total)
        }
      }
    })
  }

  it('formats a plain ArrayBuffer the same way (the /dev/shm mapping)', () => {
    const g = pipeGeometry(1, 16)
    const ab = new ArrayBuffer(g.total)
    formatPipeRegion(ab, g, 'a', 'b', 1)
    expect(readGeometry(ab)).toEqual(g)
    expect(g.memsize).toBe(g.ifTotal + g.ringTotal + g.bufTotal)
  })

  it('rejects a buffer without the magic', () => {
    expect(() => readGeometry(new ArrayBuffer(8192))).toThrow(/bad magic/)
  })
})
