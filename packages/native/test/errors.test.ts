import { binding, check, errnoException, ifNameToIndex, ioctl, negErrno, pipe, read } from '@x/native'
import { describe, expect, it } from 'vitest'

describe('errors', () => {
  it('native control calls throw Node-style errors', () => {
    try {
      ifNameToIndex('nosuchif0')
      expect.unreachable()
    } catch (e) {
      const err = e as NodeJS.ErrnoException
      expect(err).toBeInstanceOf(Error)
      expect(err.code).toBe('ENODEV')
      expect(err.errno).toBe(-19)
      expect(err.syscall).toBe('if_nametoindex')
      expect(err.message).toBe('ENODEV: no such device, if_nametoindex')
    }
  })

  it('ioctl names the request in syscall', () => {
    const [r, w] = pipe()
    try {
      expect(() => ioctl(r, 0x5401 /* TCGETS */, new Uint8Array(64), 'TCGETS')).toThrow(
        expect.objectContaining({ code: 'ENOTTY', syscall: 'ioctl(TCGETS)' }),
      )
      expect(() => ioctl(r, 0xdead, null)).toThrow(expect.objectContaining({ syscall: 'ioctl(0xdead)' }))
    } finally {
      r.close()
      w.close()
    }
  })

  it('a closed fd gives EBADF with the syscall', () => {
    expect(() => binding.close(99999)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'close' }))
  })

  it('errnoException matches the native shape', () => {
    const e = errnoException(-11, 'recvmsg')
    expect(e.code).toBe('EAGAIN')
    expect(e.errno).toBe(-11)
    expect(e.syscall).toBe('recvmsg')
    expect(e.message).toMatch(/^EAGAIN: .+, recvmsg$/)
    expect(errnoException(11, 'x').errno).toBe(-11)
    expect(() => check(-13, 'open')).toThrow(expect.objectContaining({ code: 'EACCES' }))
    expect(check(3, 'open')).toBe(3)
  })

  it('negErrno: what hot paths return, named (EAGAIN from an empty non-blocking pipe)', () => {
    expect(negErrno.EAGAIN).toBe(-11)
    expect(Object.isFrozen(negErrno)).toBe(true)
    for (const [name, v] of Object.entries(negErrno)) expect(errnoException(v, 'x').code).toBe(name)
    const [r, w] = pipe()
    try {
      expect(read(r, new Uint8Array(8))).toBe(negErrno.EAGAIN)
    } finally {
      r.close()
      w.close()
    }
  })

  it('bad arguments are TypeErrors, never crashes', () => {
    expect(() => (binding.read as any)('x')).toThrow(TypeError)
    expect(() => (binding.read as any)(0, 'notabuffer')).toThrow(TypeError)
    expect(() => binding.read(0, new Uint8Array(4), 2, 8)).toThrow(RangeError)
    expect(() => binding.read(0, new Uint8Array(4), -1, 1)).toThrow(RangeError)
    expect(() => (binding.munmap as any)(new Uint8Array(4))).toThrow(TypeError)
    expect(() => (binding as any).FdWatcher(0, () => {})).toThrow()
  })
})
