import { writeSync } from 'node:fs'
import { addSeals, getSeals, K, memfdCreate, mmap, Seal } from '@x/native'
import { describe, expect, it } from 'vitest'
import { openFds } from './helpers.js'

describe('mmap', () => {
  it('two mappings of one memfd share bytes', () => {
    using fd = memfdCreate('share', { size: 8192 })
    using a = mmap(fd, 8192)
    using b = mmap(fd, 8192)
    a.bytes()[100] = 42
    expect(b.bytes()[100]).toBe(42)
    expect(a.address).not.toBe(0n)
    expect(a.address).not.toBe(b.address)
  })

  it('unmap detaches every view first (stale views read as empty, never fault)', () => {
    const r = mmap(-1, 4096)
    const v = r.bytes()
    const dv = r.view()
    v[0] = 1
    r.unmap()
    expect(v.length).toBe(0)
    expect(v[0]).toBeUndefined()
    expect(() => dv.getUint8(0)).toThrow(TypeError)
    expect(() => r.buffer).toThrow(expect.objectContaining({ code: 'ERR_UNMAPPED' }))
    r.unmap() // idempotent
    expect(r.mapped).toBe(false)
  })

  it('anonymous, private and fixed-address mappings', () => {
    using anon = mmap(-1, 65536)
    expect(anon.bytes().every((x) => x === 0)).toBe(true)
    using fd = memfdCreate('fixed', { size: 4096 })
    const target = anon.address + 8192n
    anon.unmap() // free the range
    using fixed = mmap(fd, 4096, { flags: K('MAP_SHARED') | K('MAP_FIXED_NOREPLACE'), address: target })
    expect(fixed.address).toBe(target)
    // a second NOREPLACE mapping at the same place is refused
    expect(() => mmap(fd, 4096, { flags: K('MAP_SHARED') | K('MAP_FIXED_NOREPLACE'), address: target })).toThrow(
      expect.objectContaining({ code: 'EEXIST', syscall: 'mmap' }),
    )
    using priv = mmap(fd, 4096, { flags: K('MAP_PRIVATE') })
    priv.bytes()[0] = 9
    expect(fixed.bytes()[0]).toBe(0)
  })

  it('bad mmap arguments are typed errors', () => {
    expect(() => mmap(-1, 0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }))
    expect(() => mmap(12345, 4096)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'mmap' }))
    using fd = memfdCreate('ro', { size: 4096 })
    expect(() => mmap(fd, 4096, { offset: 3 })).toThrow(expect.objectContaining({ code: 'EINVAL' }))
  })
})

describe('memfd seals', () => {
  it('F_SEAL_WRITE forbids writes and writable shared maps', () => {
    const before = openFds()
    {
      using fd = memfdCreate('sealed', { size: 4096 })
      using m = mmap(fd, 4096)
      m.bytes()[0] = 5
      m.unmap()
      addSeals(fd, Seal.SHRINK | Seal.GROW | Seal.WRITE)
      expect(getSeals(fd) & (Seal.SHRINK | Seal.GROW | Seal.WRITE)).toBe(Seal.SHRINK | Seal.GROW | Seal.WRITE)
      expect(() => writeSync(fd.fd, Buffer.from('x'), 0, 1, 0)).toThrow(expect.objectContaining({ code: 'EPERM' }))
      expect(() => mmap(fd, 4096)).toThrow(expect.objectContaining({ code: 'EPERM' }))
      using ro = mmap(fd, 4096, { prot: K('PROT_READ') })
      expect(ro.bytes()[0]).toBe(5)
      addSeals(fd, Seal.SEAL)
      expect(() => addSeals(fd, Seal.FUTURE_WRITE)).toThrow(
        expect.objectContaining({ code: 'EPERM', syscall: 'fcntl' }),
      )
    }
    expect(openFds()).toBe(before)
  })

  it('without allowSealing, seals are refused', () => {
    using fd = memfdCreate('nosealing', { allowSealing: false })
    expect(() => addSeals(fd, Seal.GROW)).toThrow(expect.objectContaining({ code: 'EPERM' }))
  })
})
