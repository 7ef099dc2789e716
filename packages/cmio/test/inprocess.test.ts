import { Cmio, CmioError, type CmioRequest, CmioTerminate, Domain, paddedLength, type YieldHandler } from '@x/cmio'
import { describe, expect, it, vi } from 'vitest'

const enc = new TextEncoder()

function open(handler: YieldHandler, length?: number): Cmio {
  return Cmio.open({ backend: 'inprocess', handler, inprocess: length ? { length } : undefined })
}

describe('in-process backend: emulator semantics', () => {
  it('acknowledges automatic yields with dev 2 and the rest 0, after the handler saw the request', () => {
    const seen: CmioRequest[] = []
    using c = open((r) => {
      seen.push({ ...r, data: r.data.slice() })
    })
    expect(c.backend).toBe('inprocess')
    c.tx.set(enc.encode('report!'))
    const y = c.yield_({ dev: 0, cmd: 0, reason: 4, data: 7 })
    expect(y).toEqual({ dev: 2, cmd: 0, reason: 0, data: 0 })
    expect(seen).toHaveLength(1)
    expect(seen[0]!.cmd).toBe(0)
    expect(seen[0]!.reason).toBe(4)
    expect(Buffer.from(seen[0]!.data).toString()).toBe('report!')
  })

  it('hands PROGRESS its data field as 4 little-endian bytes, not tx', () => {
    let got: Uint8Array | undefined
    using c = open((r) => {
      got = r.data.slice()
    })
    c.yield_({ dev: 2, cmd: 0, reason: 1, data: 0x01020304 })
    expect(Array.from(got!)).toEqual([4, 3, 2, 1])
  })

  it('ignores commands other than 0 and 1: no handler call, the guest reads 0', () => {
    const h = vi.fn()
    using c = open(h)
    // tapcmio's demo: yield_with_buffer(1, 2, 3, "Hello, TAP CMIO!") is cmd 2
    const r = c.yieldWithBuffer(1, 2, 3, enc.encode('Hello, TAP CMIO!'))
    expect(r.reason).toBe(0)
    expect(r.rx.byteLength).toBe(0)
    expect(c.yield_({ dev: 2, cmd: 255, reason: 1, data: 1 })).toEqual({ dev: 0, cmd: 0, reason: 0, data: 0 })
    expect(h).not.toHaveBeenCalled()
  })

  it('answers a manual yield with (reason << 32) | len, dev 0, cmd 0, and a copy of rx', () => {
    using c = open((r) => ({ reason: 7, data: enc.encode(`echo:${Buffer.from(r.data).toString()}`) }))
    const { rx, reason } = c.yieldWithBuffer(2, 1, Domain.SOCKETS, enc.encode('hi'))
    expect(reason).toBe(7)
    expect(Buffer.from(rx).toString()).toBe('echo:hi')
    expect(rx.buffer).not.toBe(c.rx.buffer) // a copy, as the document's signature returns one
    const y = c.yield_({ dev: 2, cmd: 1, reason: 0x42, data: 0 })
    expect(y).toEqual({ dev: 0, cmd: 0, reason: 7, data: 5 })
    expect(c.yieldWord(0x0201004200000000n)).toBe(0x0000000700000005n)
  })

  it('zero-fills rx to the next power of two ≥ max(len, 32) and leaves the rest', () => {
    let len = 0
    using c = open(() => ({ reason: 9, data: new Uint8Array(len).fill(0xaa) }))
    const rx = c.rx
    const dirty = (): void => {
      rx.fill(0xee, 0, 256)
    }
    dirty()
    len = 1
    c.manual(0x42, 0)
    expect(rx[0]).toBe(0xaa)
    expect(rx.subarray(1, 32).every((b) => b === 0)).toBe(true)
    expect(rx[32]).toBe(0xee)
    dirty()
    len = 33
    c.manual(0x42, 0)
    expect(rx.subarray(33, 64).every((b) => b === 0)).toBe(true)
    expect(rx[64]).toBe(0xee)
    dirty()
    len = 0
    expect(c.manual(0x42, 0)).toEqual({ reason: 9, length: 0 })
    expect(rx[0]).toBe(0xee) // len 0 leaves rx untouched
    expect([0, 1, 32, 33, 64, 65, 1000].map(paddedLength)).toEqual([32, 32, 32, 64, 64, 128, 1024])
  })

  it('writes zero-copy responses (length of bytes already in session.rx)', () => {
    using c = open((_r, s) => {
      s.rx.set([1, 2, 3])
      return { reason: 3, length: 3 }
    })
    const r = c.manual(0x42, 0)
    expect(r).toEqual({ reason: 3, length: 3 })
    expect(Array.from(c.rx.subarray(0, 3))).toEqual([1, 2, 3])
  })
})

describe('in-process backend: errors', () => {
  it('BufferTooLarge for a tx over the tx length', () => {
    let claim = 0
    using c = open((_r, s) => ({ reason: 1, length: Math.min(claim, s.rx.byteLength) }), 4096)
    expect(c.getTxLength()).toBe(4096)
    try {
      c.yieldWithBuffer(2, 1, 0x42, new Uint8Array(4097))
      expect.unreachable()
    } catch (e) {
      const err = e as CmioError
      expect(err.kind).toBe('BufferTooLarge')
      expect([err.size, err.max]).toEqual([4097, 4096])
      expect(err.message).toBe('Buffer too large: 4097 bytes (max: 4096)')
    }
    // the other way (a reply claiming more than rx) needs a broken host: see emulated.test.ts, 'a hostile host'
    claim = 10
    expect(c.manual(0x42, 0).length).toBe(10)
  })

  it('ends the session on rx-rejected, tx-exception and unknown manual reasons when the handler has no answer', () => {
    for (const reason of [2, 4, 0x99]) {
      using c = open(() => undefined)
      expect(() => c.manual(reason, 0)).toThrow(expect.objectContaining({ kind: 'YieldError', code: 'EIO' }))
      // terminal: later yields fail the same way
      expect(() => c.yield_({ dev: 2, cmd: 0, reason: 2, data: 0 })).toThrow(
        expect.objectContaining({ kind: 'YieldError', code: 'EIO' }),
      )
    }
  })

  it('enforces the v0.21 rule: reason 0 answers only rx-accepted', () => {
    using a = open(() => ({ reason: 0 }))
    expect(a.manual(1, 0)).toEqual({ reason: 0, length: 0 })
    expect(() => a.manual(0x42, 0)).toThrow(expect.objectContaining({ kind: 'YieldError' }))
    using b = Cmio.open({ backend: 'inprocess', handler: () => ({ reason: 0 }), inprocess: { strictReasons: false } })
    expect(b.manual(0x42, 0)).toEqual({ reason: 0, length: 0 })
  })

  it('a handler can end the session with an errno', () => {
    using c = open(() => {
      throw new CmioTerminate(61, 'no more inputs')
    })
    expect(() => c.manual(1, 0)).toThrow(expect.objectContaining({ kind: 'YieldError', code: 'ENODATA', errno: -61 }))
  })

  it('refuses an async handler on the blocking yield, awaits it on yieldAsync', async () => {
    using c = open(async () => ({ reason: 5, data: enc.encode('later') }))
    expect(() => c.manual(0x42, 0)).toThrow(expect.objectContaining({ kind: 'YieldError', code: 'EAGAIN' }))
    using d = open(async () => ({ reason: 5, data: enc.encode('later') }))
    const r = await d.yieldWithBufferAsync(2, 1, 0x42, new Uint8Array(0))
    expect(Buffer.from(r.rx).toString()).toBe('later')
    expect(await d.manualAsync(0x42, 0)).toEqual({ reason: 5, length: 5 })
  })

  it('refuses a second yield while one is in flight', async () => {
    let release!: () => void
    using c = open(() => new Promise((r) => (release = () => r({ reason: 1 }))))
    const p = c.manualAsync(0x42, 0)
    await expect(c.manualAsync(0x42, 0)).rejects.toMatchObject({ kind: 'YieldError', code: 'EBUSY' })
    release()
    expect(await p).toEqual({ reason: 1, length: 0 })
  })

  it('detaches the views on close; yields then fail', () => {
    const c = open(() => ({ reason: 1 }))
    const tx = c.tx
    const rx = c.rx
    expect(tx.byteLength).toBe(2 * 1024 * 1024)
    c.close()
    c.close()
    expect(tx.byteLength).toBe(0)
    expect(rx.byteLength).toBe(0)
    expect(c.tx.byteLength).toBe(0)
    expect(() => c.manual(0x42, 0)).toThrow(expect.objectContaining({ kind: 'YieldError', code: 'EBADF' }))
  })

  it('needs a handler', () => {
    expect(() => Cmio.open({ backend: 'inprocess' })).toThrow(CmioError)
  })
})
