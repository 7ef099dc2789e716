import { EventFd, OwnedFd, pipe, read, write } from '@x/native'
import { describe, expect, it } from 'vitest'
import { fdFlags, O_CLOEXEC, O_NONBLOCK, openFds } from './helpers.js'

describe('OwnedFd', () => {
  it('closes once, then refuses use', () => {
    const before = openFds()
    const [r, w] = pipe()
    expect(openFds()).toBe(before + 2)
    r.close()
    r.close()
    w[Symbol.dispose]()
    expect(openFds()).toBe(before)
    expect(r.closed).toBe(true)
    expect(() => r.fd).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })

  it('using disposes', () => {
    const before = openFds()
    {
      using e = new EventFd()
      expect(e.fd).toBeGreaterThan(2)
    }
    expect(openFds()).toBe(before)
  })

  it('is CLOEXEC and non-blocking by default', () => {
    const [r, w] = pipe()
    try {
      expect(fdFlags(r.fd) & O_NONBLOCK).toBe(O_NONBLOCK)
      expect(fdFlags(r.fd) & O_CLOEXEC).toBe(O_CLOEXEC)
      const d = r.dup()
      expect(fdFlags(d.fd) & O_CLOEXEC).toBe(O_CLOEXEC)
      d.close()
      r.setNonBlocking(false)
      expect(fdFlags(r.fd) & O_NONBLOCK).toBe(0)
    } finally {
      r.close()
      w.close()
    }
  })

  it('read/write return -errno on the hot path', () => {
    const [r, w] = pipe()
    try {
      const buf = new Uint8Array(8)
      expect(read(r, buf)).toBe(-11)
      expect(write(w, Uint8Array.of(1, 2, 3))).toBe(3)
      expect(read(r, buf)).toBe(3)
      expect([...buf.subarray(0, 3)]).toEqual([1, 2, 3])
      w.close()
      expect(read(r, buf)).toBe(0)
    } finally {
      r.close()
      w.close()
    }
  })

  it('release gives the number away without closing', () => {
    const [r, w] = pipe()
    const n = r.release()
    expect(r.closed).toBe(true)
    const again = new OwnedFd(n)
    again.close()
    w.close()
    expect(() => new OwnedFd(-1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
  })

  it('eventfd counts and reports EAGAIN without throwing', () => {
    using e = new EventFd(0, { semaphore: true })
    expect(e.read()).toBe(-11)
    expect(e.write(3)).toBe(0)
    expect(e.read()).toBe(1)
    expect(e.read()).toBe(1)
    expect(e.read()).toBe(1)
    expect(e.read()).toBe(-11)
  })
})
