import {
  AUTOMATIC_ACK,
  CMD_MASK,
  DATA_MASK,
  DEV_MASK,
  forceYieldDev,
  formatYield,
  manualReply,
  packYield,
  REASON_MASK,
  unpackYield,
  unpackYieldInto,
} from '@x/cmio'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

describe('yield word (dev:8 | cmd:8 | reason:16 | data:32)', () => {
  it('matches the reference vectors', () => {
    expect(packYield({ dev: 2, cmd: 1, reason: 0x42, data: 16 })).toBe(0x0201004200000010n)
    expect(AUTOMATIC_ACK).toBe(0x0200000000000000n)
    expect(unpackYield(0x0200000000000000n)).toEqual({ dev: 2, cmd: 0, reason: 0, data: 0 })
    expect(manualReply(1, 5)).toBe(0x0000000100000005n)
    expect(unpackYield(0x0000000100000005n)).toEqual({ dev: 0, cmd: 0, reason: 1, data: 5 })
    expect(unpackYield(0n)).toEqual({ dev: 0, cmd: 0, reason: 0, data: 0 })
  })

  it("uses the emulator's masks", () => {
    expect(DEV_MASK).toBe(0xff00000000000000n)
    expect(CMD_MASK).toBe(0x00ff000000000000n)
    expect(REASON_MASK).toBe(0x0000ffff00000000n)
    expect(DATA_MASK).toBe(0x00000000ffffffffn)
    expect(DEV_MASK | CMD_MASK | REASON_MASK | DATA_MASK).toBe(0xffffffffffffffffn)
    const w = packYield({ dev: 0xab, cmd: 0xcd, reason: 0x1234, data: 0x89abcdef })
    expect((w & DEV_MASK) >> 56n).toBe(0xabn)
    expect((w & CMD_MASK) >> 48n).toBe(0xcdn)
    expect((w & REASON_MASK) >> 32n).toBe(0x1234n)
    expect(w & DATA_MASK).toBe(0x89abcdefn)
  })

  it('truncates each field to its width, as libcmt does', () => {
    // dev << 56 | cmd << 56 >> 8 | reason << 48 >> 16 | data << 32 >> 32
    expect(packYield({ dev: 0x102, cmd: 0x101, reason: 0x10042, data: 2 ** 32 + 7 })).toBe(0x0201004200000007n)
  })

  it('round-trips every field combination', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (dev, cmd, reason, data) => {
          expect(unpackYield(packYield({ dev, cmd, reason, data }))).toEqual({ dev, cmd, reason, data })
        },
      ),
    )
  })

  it('unpacks in place and forces dev to 2 like OpenSBI', () => {
    const y = { dev: 9, cmd: 9, reason: 9, data: 9 }
    expect(unpackYieldInto(0x0000000100000005n, y)).toBe(y)
    expect(y).toEqual({ dev: 0, cmd: 0, reason: 1, data: 5 })
    expect(forceYieldDev(0x0001004200000010n)).toBe(0x0201004200000010n)
    expect(forceYieldDev(0xff01004200000010n)).toBe(0x0201004200000010n)
    expect(formatYield({ dev: 2, cmd: 1, reason: 0x42, data: 16 })).toBe('{dev 2, cmd 1, reason 0x42, data 16}')
  })
})
