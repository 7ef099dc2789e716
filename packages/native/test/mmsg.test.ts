import {
  bind,
  DatagramBatch,
  DatagramReceiver,
  getsockname,
  K,
  parseSockaddr,
  recvMmsg,
  sendMsg,
  sockaddrIn6,
  socket,
} from '@x/native'
import { describe, expect, it } from 'vitest'

function udpPair() {
  const a = socket(K('AF_INET6'), K('SOCK_DGRAM'))
  const b = socket(K('AF_INET6'), K('SOCK_DGRAM'))
  bind(a, sockaddrIn6({ address: '::1', port: 0 }))
  bind(b, sockaddrIn6({ address: '::1', port: 0 }))
  const pa = getsockname(a) as { port: number }
  const pb = getsockname(b) as { port: number }
  return { a, b, pa: pa.port, pb: pb.port }
}

describe('recvMmsg (recvmmsg batching)', () => {
  it('drains several datagrams in one call, with lengths and source addresses', () => {
    const { a, b, pa, pb } = udpPair()
    try {
      const batch = new DatagramBatch({ slots: 8, slotSize: 2048 })
      expect(recvMmsg(b, batch)).toBe(-11) // EAGAIN, no throw
      const to = sockaddrIn6({ address: '::1', port: pb })
      for (const n of [0, 1, 100, 2047]) expect(sendMsg(a, new Uint8Array(n).fill(n & 0xff), { to })).toBe(n)
      const before = process.hrtime.bigint()
      expect(recvMmsg(b, batch)).toBe(4)
      // the receive time is on process.hrtime's clock
      expect(batch.time[0]! >= before && batch.time[0]! <= process.hrtime.bigint()).toBe(true)
      expect(batch.count).toBe(4)
      expect([0, 1, 2, 3].map((i) => batch.length(i))).toEqual([0, 1, 100, 2047])
      expect(batch.data(2).every((x) => x === 100)).toBe(true)
      expect(batch.offset(3)).toBe(3 * 2048)
      const src = parseSockaddr(batch.address(1))
      expect(src).toMatchObject({ family: 'inet6', address: '::1', port: pa })
      // the raw source address is directly usable as a reply address
      expect(sendMsg(b, batch.data(2), { to: batch.address(2) })).toBe(100)
      const back = new DatagramBatch({ slots: 1, addresses: false })
      expect(recvMmsg(a, back)).toBe(1)
      expect(back.length(0)).toBe(100)
      expect(() => back.address(0)).toThrow(/without addresses/)
    } finally {
      a.close()
      b.close()
    }
  })

  it('reads at most `max` datagrams, leaving the rest queued', () => {
    const { a, b, pb } = udpPair()
    try {
      const to = sockaddrIn6({ address: '::1', port: pb })
      for (let i = 0; i < 5; i++) sendMsg(a, new Uint8Array([i]), { to })
      const batch = new DatagramBatch({ slots: 8, slotSize: 64, addresses: false })
      expect(recvMmsg(b, batch, 0, 2)).toBe(2)
      expect([batch.data(0)[0], batch.data(1)[0]]).toEqual([0, 1])
      expect(recvMmsg(b, batch, 0, 100)).toBe(3) // capped at the batch's slots, and only what is queued
      expect(batch.data(0)[0]).toBe(2)
    } finally {
      a.close()
      b.close()
    }
  })

  it('reports datagrams longer than a slot as truncated, and caps the batch at its slots', () => {
    const { a, b, pb } = udpPair()
    try {
      const to = sockaddrIn6({ address: '::1', port: pb })
      for (let i = 0; i < 5; i++) sendMsg(a, new Uint8Array(300), { to })
      const batch = new DatagramBatch({ slots: 3, slotSize: 256 })
      expect(recvMmsg(b, batch)).toBe(3)
      expect(batch.truncated(0)).toBe(true)
      expect(batch.length(0)).toBe(256)
      expect(recvMmsg(b, batch)).toBe(2)
      expect(recvMmsg(b, batch)).toBe(-11)
      expect(batch.count).toBe(0)
    } finally {
      a.close()
      b.close()
    }
  })

  it('validates its options and returns -EBADF for a closed fd', () => {
    expect(() => new DatagramBatch({ slots: 0 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }))
    expect(() => new DatagramBatch({ slots: 257 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }))
    expect(() => new DatagramBatch({ slotSize: 0 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }))
    const s = socket(K('AF_INET6'), K('SOCK_DGRAM'))
    const fd = s.fd
    s.close()
    expect(recvMmsg(fd, new DatagramBatch({ slots: 1, slotSize: 16 }))).toBe(-9)
  })
})

describe('DatagramReceiver (drain in C, one JS call per batch)', () => {
  it('calls back once per batch with the count; slot views are reused; close stops it', async () => {
    const { a, b, pb } = udpPair()
    const batch = new DatagramBatch({ slots: 4, slotSize: 512 })
    const seen: number[][] = []
    let done!: () => void
    const got = new Promise<void>((r) => {
      done = r
    })
    const rx = new DatagramReceiver(
      b,
      batch,
      (n) => {
        const lens: number[] = []
        for (let i = 0; i < n; i++) lens.push(batch.length(i))
        seen.push(lens)
        if (seen.flat().length === 6) done()
      },
      (e) => {
        throw e
      },
    )
    try {
      const to = sockaddrIn6({ address: '::1', port: pb })
      for (let i = 1; i <= 6; i++) sendMsg(a, new Uint8Array(i * 10), { to })
      const before = process.hrtime.bigint()
      rx.start()
      await got
      expect(batch.time[0]! > before).toBe(true)
      // six queued datagrams in one wake-up: a full batch of 4, then 2
      expect(seen).toEqual([
        [10, 20, 30, 40],
        [50, 60],
      ])
      expect(batch.count).toBe(2)
      expect(batch.slot(1)).toBe(batch.slot(1))
      expect(batch.slot(1).byteOffset).toBe(512)
      expect(batch.addressSlot(0).byteLength).toBe(batch.nameSize)
      expect(parseSockaddr(batch.addressSlot(0).subarray(0, batch.meta[2]))).toMatchObject({ family: 'inet6' })
      rx.close()
      rx.close()
      expect(rx.closed).toBe(true)
      expect(() => rx.start()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    } finally {
      rx.close()
      a.close()
      b.close()
    }
  })
})
