// walkChain / gatherChain (nic-shared.ts): how a TX packet of NIC and host rings is read from its slots — a
// NS_MOREFRAG chain, checked before any buffer is touched. On a ring of the kernel's layout in a plain ArrayBuffer.
import { NR_TX, NS_MOREFRAG, RingView } from '@x/ring'
import { describe, expect, it } from 'vitest'
import { gatherChain, walkChain } from '../src/nic-shared.js'

const SLOTS = 70
const BS = 64
const NBUFS = 2 + SLOTS // buffers 0 and 1 are reserved, as the kernel's
const bufOfs = 256 + 16 * SLOTS

function ring(): { tx: RingView; u8: Uint8Array } {
  const buffer = new ArrayBuffer(bufOfs + NBUFS * BS + 4096)
  const tx = RingView.format(buffer, 0, { numSlots: SLOTS, bufSize: BS, bufOfs, dir: NR_TX })
  for (let s = 0; s < SLOTS; s++) tx.setBufIdx(s, 2 + s)
  return { tx, u8: new Uint8Array(buffer) }
}
/** Slots from `at`: one per length, NS_MOREFRAG on all but the last (unless `open`), bytes = fragment number. */
function put(tx: RingView, u8: Uint8Array, at: number, lens: number[], open = false): void {
  lens.forEach((len, i) => {
    const s = (at + i) % SLOTS
    tx.setLen(s, len)
    tx.setSlotFlags(s, i < lens.length - 1 || open ? NS_MOREFRAG : 0)
    const off = bufOfs + tx.bufIdx(s) * BS
    u8.fill(i + 1, off, off + len)
  })
}

describe('walkChain and gatherChain', () => {
  const out = new Int32Array(3)

  it('a one-slot packet, and a three-slot chain gathered back to back', () => {
    const { tx, u8 } = ring()
    put(tx, u8, 0, [60])
    expect(walkChain(tx, 0, 10, NBUFS, out)).toBe(true)
    expect([...out]).toEqual([1, 60, 0])
    put(tx, u8, 1, [64, 64, 10])
    expect(walkChain(tx, 1, 10, NBUFS, out)).toBe(true)
    expect([...out]).toEqual([4, 138, 0])
    const dst = u8.length - 200
    gatherChain(tx, 1, 4, u8, dst)
    expect([...u8.subarray(dst, dst + 138)]).toEqual([...Array(64).fill(1), ...Array(64).fill(2), ...Array(10).fill(3)])
  })

  it('a chain across the end of the ring; one not finished before head waits (false)', () => {
    const { tx, u8 } = ring()
    put(tx, u8, SLOTS - 2, [64, 64, 5])
    expect(walkChain(tx, SLOTS - 2, 5, NBUFS, out)).toBe(true)
    expect([...out]).toEqual([1, 133, 0])
    put(tx, u8, 10, [64, 64], true)
    expect(walkChain(tx, 10, 12, NBUFS, out)).toBe(false)
  })

  it('a buf_idx outside the buffers is EINVAL, a slot longer than its buffer or 65 fragments EMSGSIZE', () => {
    const { tx, u8 } = ring()
    put(tx, u8, 0, [64, 64, 10])
    tx.setBufIdx(1, 1) // reserved
    expect(walkChain(tx, 0, 10, NBUFS, out)).toBe(true)
    expect([...out]).toEqual([3, 138, 22]) // EINVAL, and the walk still finds the packet's end
    tx.setBufIdx(1, NBUFS) // past the last buffer
    expect(walkChain(tx, 0, 10, NBUFS, out) && out[2]).toBe(22)
    tx.setBufIdx(1, 3)
    tx.setLen(2, BS + 1)
    expect(walkChain(tx, 0, 10, NBUFS, out) && out[2]).toBe(90) // EMSGSIZE
    put(tx, u8, 0, Array(65).fill(1))
    expect(walkChain(tx, 0, 69, NBUFS, out)).toBe(true)
    expect([...out]).toEqual([65, 65, 90]) // NETMAP_MAX_FRAGS is 64
    put(tx, u8, 0, Array(64).fill(1))
    expect(walkChain(tx, 0, 69, NBUFS, out) && out[2]).toBe(0)
  })
})
