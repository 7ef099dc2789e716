import { constants, IO, IOR, IOW, IOWR, ioctl, pipe, write } from '@x/native'
import { describe, expect, it } from 'vitest'

describe('ioctl', () => {
  it('the _IOC encoders agree with the kernel headers', () => {
    expect(IOW(0x54, 202, 4)).toBe(constants.TUNSETIFF) // _IOW('T', 202, int)
    expect(IOR(0x54, 210, 4)).toBe(constants.TUNGETIFF) // _IOR('T', 210, unsigned int)
    expect(IOW(0x54, 203, 4)).toBe(constants.TUNSETPERSIST)
    // cmio's numbers (the reference's corrected values): _IOR(0xd3, 0, struct cmio_setup) and _IOWR(0xd3, 1, __u64)
    expect(IOR(0xd3, 0, 32)).toBe(0x8020d300)
    expect(IOWR(0xd3, 1, 8)).toBe(0xc008d301)
    expect(IO(0x54, 1)).toBe(0x5401)
  })

  it('passes a buffer the kernel writes into (FIONREAD on a pipe)', () => {
    const [r, w] = pipe()
    try {
      write(w, new Uint8Array(37))
      const n = new Int32Array(1)
      expect(ioctl(r, 0x541b /* FIONREAD */, n, 'FIONREAD')).toBe(0)
      expect(n[0]).toBe(37)
    } finally {
      r.close()
      w.close()
    }
  })
})
