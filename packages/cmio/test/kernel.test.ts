// The kernel backend cannot run here (no Cartesi kernel): its constants, struct layout and error paths are tested.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cmio, CmioError, decodeSetup, defaultSetup, encodeSetup, kernelConstants, SETUP_SIZE } from '@x/cmio'
import { IOR, IOWR, OwnedFd } from '@x/native'
import { afterAll, describe, expect, it } from 'vitest'
import { binding } from '../src/binding.js'

const openFds = (): number => readdirSync('/proc/self/fd').length
const dir = mkdtempSync(join(tmpdir(), 'xcmio-k-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('kernel ABI', () => {
  it('has the driver ioctl numbers (not tapcmio 0xd30000/0xd30001)', () => {
    const c = kernelConstants()
    expect(c.IOCTL_CMIO_SETUP).toBe(0x8020d300)
    expect(c.IOCTL_CMIO_YIELD).toBe(0xc008d301)
    expect(c.IOCTL_CMIO_SETUP).toBe(IOR(0xd3, 0, 32))
    expect(c.IOCTL_CMIO_YIELD).toBe(IOWR(0xd3, 1, 8))
    expect(c.IOCTL_CMIO_SETUP).not.toBe((0xd3 << 16) | 0)
  })

  it('lays struct cmio_setup out as the C compiler does', () => {
    const c = binding().constants
    expect(c.sizeof_cmio_setup).toBe(SETUP_SIZE)
    expect(c.sizeof_cmio_buffer).toBe(16)
    expect(c.offsetof_cmio_setup_tx_data).toBe(0)
    expect(c.offsetof_cmio_setup_tx_length).toBe(8)
    expect(c.offsetof_cmio_setup_rx_data).toBe(16)
    expect(c.offsetof_cmio_setup_rx_length).toBe(24)
    expect(c.sizeof_yield_word).toBe(8)
  })

  it('encodes and decodes the setup little-endian', () => {
    const b = encodeSetup(defaultSetup())
    expect(Buffer.from(b).toString('hex')).toBe(
      `${'0000806000000000'}${'0000200000000000'}${'0000006000000000'}${'0000200000000000'}`,
    )
    expect(decodeSetup(b)).toEqual({
      tx: { data: 0x60800000n, length: 0x200000 },
      rx: { data: 0x60000000n, length: 0x200000 },
    })
    expect(() => decodeSetup(new Uint8Array(31))).toThrow(RangeError)
  })
})

describe('kernel backend error paths', () => {
  it('OpenError with code ENOENT when the device is missing', () => {
    const e = (() => {
      try {
        Cmio.open({ device: join(dir, 'nope'), backend: 'kernel' })
      } catch (err) {
        return err as CmioError
      }
    })()
    expect(e).toBeInstanceOf(CmioError)
    expect(e?.kind).toBe('OpenError')
    expect(e?.code).toBe('ENOENT')
    expect(e?.errno).toBe(-2)
    expect(e?.syscall).toBe('open')
    expect(e?.message).toMatch(/^Failed to open CMIO device: ENOENT/)
  })

  it('SetupError(ENOTTY) from a character device that is not cmio, and the fd is closed', () => {
    const before = openFds()
    let e: CmioError | undefined
    try {
      Cmio.open({ device: '/dev/null' }) // auto: a character device → kernel
    } catch (err) {
      e = err as CmioError
    }
    expect(e?.kind).toBe('SetupError')
    expect(e?.code).toBe('ENOTTY')
    expect(e?.syscall).toBe('ioctl(IOCTL_CMIO_SETUP)')
    expect(openFds()).toBe(before)
  })

  it('picks no backend for a regular file (OpenError ENODEV)', () => {
    const f = join(dir, 'plain')
    writeFileSync(f, 'x')
    expect(() => Cmio.open({ device: f })).toThrow(expect.objectContaining({ kind: 'OpenError', code: 'ENODEV' }))
  })

  it('CMIO_DEVICE overrides the default path', () => {
    const saved = process.env.CMIO_DEVICE
    process.env.CMIO_DEVICE = join(dir, 'from-env')
    try {
      expect(() => Cmio.open()).toThrow(expect.objectContaining({ kind: 'OpenError', code: 'ENOENT' }))
    } finally {
      if (saved === undefined) delete process.env.CMIO_DEVICE
      else process.env.CMIO_DEVICE = saved
    }
  })

  it('yields return -errno, synchronously and from the AsyncWorker', async () => {
    const b = binding()
    const fd = new OwnedFd(b.cmio_open('/dev/null'))
    try {
      const w = new BigUint64Array([0x0201004200000010n])
      expect(b.cmio_yield(fd.fd, w)).toBe(-25) // ENOTTY
      expect(await b.cmio_yield_async(fd.fd, w)).toBe(-25)
      expect(w[0]).toBe(0x0201004200000010n) // untouched on failure
      expect(() => b.cmio_yield(fd.fd, new BigUint64Array(0))).toThrow(TypeError)
      expect(() => b.cmio_yield(fd.fd, new Uint32Array(2) as unknown as BigUint64Array)).toThrow(TypeError)
    } finally {
      fd.close()
    }
  })
})
