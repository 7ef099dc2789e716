// Body codecs and the per-revision tables against the reference's golden vectors and struct layouts.
import {
  bodies,
  DEFAULT_PROTOCOL,
  Opcode,
  opcodeCount,
  opcodeName,
  opSpec,
  Ret,
  retMessage,
  retName,
  VrtdError,
} from '@x/vrtd'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hex, toHex } from './helpers.js'

const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength)

describe('request bodies', () => {
  it('match the golden vectors', () => {
    expect(toHex(bodies.encodeGetNumDevices())).toBe('00')
    expect(toHex(bodies.encodeDevNumber(0))).toBe('00 00 00 00')
    expect(toHex(bodies.encodeDevBar(0, 0))).toBe('00 00 00 00 00')
    expect(toHex(bodies.encodeDevBar(1, 2))).toBe('01 00 00 00 02')
  })

  it('have the v1.0 struct sizes and offsets', () => {
    expect(bodies.encodeQpairAdd(1, { mode: 2, dirMask: 3, h2cRingSize: 4, c2hRingSize: 5, cmptRingSize: 6 })).toEqual(
      hex('01000000 1c000000 02000000 03000000 04000000 05000000 06000000 00000000'),
    )
    expect(bodies.encodeU32x3(1, 2, 3).length).toBe(12)
    expect(toHex(bodies.encodeClockOp(1, 300_000_000, 1, 1))).toBe('01 00 00 00 00 a3 e1 11 01 01')
    const bo = bodies.encodeBufferOpen(2, { allocType: 1, allocDir: 2, allocArg: 3n, size: 0xffffffffffffffffn })
    expect(bo.length).toBe(28)
    expect(dv(bo).getBigUint64(12, true)).toBe(3n)
    expect(dv(bo).getBigUint64(20, true)).toBe(0xffffffffffffffffn)
    expect(bodies.encodeBufferClose(1, 2n, 3n).length).toBe(20)
    expect(dv(bodies.encodeBufferClose(1, 2n, 3n)).getBigUint64(4, true)).toBe(2n)
    const raw = bodies.encodeBufferOpenRaw(1, 2, 0x1000n, 0x2000n)
    expect(raw.length).toBe(24)
    expect(dv(raw).getBigUint64(8, true)).toBe(0x1000n)
    expect(toHex(bodies.encodeHotplug(1, 2, 3))).toBe('01 00 00 00 02 03')
  })

  it('NUL-pad and truncate fixed strings', () => {
    const b = bodies.encodeBdf('0000:65:00')
    expect(b.length).toBe(32)
    expect(bodies.getCString(b, 0, 32)).toBe('0000:65:00')
    expect(b.subarray(10).every((x) => x === 0)).toBe(true)
    const long = bodies.encodeBdf('x'.repeat(40))
    expect(bodies.getCString(long, 0, 32)).toBe('x'.repeat(31))
    expect(long[31]).toBe(0)
  })
})

describe('response bodies', () => {
  it('decode GET_BAR_INFO (golden vector)', () => {
    const body = hex('18 00 00 00 00 01 00 00 00 10 00 00 00 00 00 00 00 00 00 04 00 00 00 00')
    expect(bodies.decodeBarInfo(dv(body), 0)).toEqual({
      size: 24,
      barNumber: 0,
      usable: true,
      inUse: false,
      startAddress: 0x1000n,
      length: 64n * 1024n * 1024n,
    })
    const out = new Uint8Array(24)
    bodies.encodeBarInfoInto(dv(out), 0, bodies.decodeBarInfo(dv(body), 0))
    expect(out).toEqual(body)
  })

  it('round-trip u64 maxima as bigint', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
        fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
        (start, length) => {
          const out = new Uint8Array(24)
          const info = { size: 24, barNumber: 5, usable: true, inUse: false, startAddress: start, length }
          bodies.encodeBarInfoInto(dv(out), 0, info)
          expect(bodies.decodeBarInfo(dv(out), 0)).toEqual(info)
        },
      ),
    )
  })

  it('device info: 128 bytes in v0, 168 in v1.0, zero-filled, cut at the first NUL', () => {
    const info = {
      name: 'slash_ctl0',
      pci: { bdf: '0000:65:00', vendorId: 0x10ee, deviceId: 0x50b4, subsystemVendorId: 1, subsystemDeviceId: 2 },
    }
    const buf = new Uint8Array(200).fill(0xaa)
    expect(bodies.encodeDeviceInfoInto(buf, 0, info, 'v1.0')).toBe(168)
    expect(buf.subarray(10, 128).every((x) => x === 0)).toBe(true)
    expect(bodies.decodeDeviceInfo(dv(buf), 0, 'v1.0')).toEqual(info)
    expect(toHex(buf.subarray(160, 168))).toBe('ee 10 b4 50 01 00 02 00')
    const v0 = new Uint8Array(128).fill(0xaa)
    expect(bodies.encodeDeviceInfoInto(v0, 0, info, 'v0')).toBe(128)
    expect(bodies.decodeDeviceInfo(dv(v0), 0, 'v0')).toEqual({ name: 'slash_ctl0', pci: null })
    expect(v0.subarray(10).every((x) => x === 0)).toBe(true)
  })

  it('sensors: {u32 n; 72-byte entries}, short tables rejected', () => {
    const sensors = [
      { name: 'fpga_temp', type: 1, status: 1, unitMod: 0, value: 42 },
      { name: 'vccint', type: 4, status: 1, unitMod: -3, value: -800 },
    ]
    const buf = new Uint8Array(4 + 2 * 72)
    expect(bodies.encodeSensorsInto(buf, 0, sensors)).toBe(148)
    expect(bodies.decodeSensors(dv(buf), 0, 148)).toEqual(sensors)
    expect(bodies.decodeSensors(dv(buf), 0, 100)).toBeNull()
  })

  it('qdma info and qpair add', () => {
    const b = hex('14000000 01000000 02000000 03000000 04000000')
    expect(bodies.decodeQdmaInfo(dv(b), 0)).toEqual({ size: 20, qsetsMax: 1, msixQvecs: 2, vfMax: 3, caps: 4 })
    const q = hex('1c000000 01000000 02000000 03000000 04000000 05000000 07000000')
    expect(bodies.decodeQpairAdd(dv(q), 0).qid).toBe(7)
  })
})

describe('protocol tables', () => {
  it('v0 has opcodes 0-3, v1.0 0-15, default v1.0', () => {
    expect(DEFAULT_PROTOCOL).toBe('v1.0')
    expect(opcodeCount('v0')).toBe(4)
    expect(opcodeCount('v1.0')).toBe(16)
    expect(opSpec('v0', 4)).toBeUndefined()
    expect(opSpec('v1.0', 16)).toBeUndefined()
    expect(opcodeName(Opcode.BUFFER_OPEN_RAW)).toBe('BUFFER_OPEN_RAW')
    expect(opcodeName(20)).toBe('UNKNOWN')
  })

  it('sizes per revision (reference §2.4)', () => {
    const v1 = Array.from({ length: 16 }, (_, i) => opSpec('v1.0', i)!)
    expect(v1.map((s) => s.req)).toEqual([1, 4, 5, 5, 4, 32, 12, 12, 4, 10, 28, 20, 32, 6, 4, 24])
    expect(v1.map((s) => s.resp)).toEqual([4, 168, 24, 8, 20, 28, 1, 1, 1, 4, 16, 1, 4, 1, 4, 1])
    expect(v1.map((s) => s.respFds)).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1])
    expect(v1.map((s) => s.reqFds)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    expect(opSpec('v0', Opcode.GET_DEVICE_INFO)!.resp).toBe(128)
  })
})

describe('VrtdError', () => {
  it('names the vrtd_ret value and carries upstream strings', () => {
    const e = new VrtdError(Ret.AUTH_ERROR, { opcode: 3, seqno: 7 })
    expect(e).toBeInstanceOf(Error)
    expect(e.code).toBe('AUTH_ERROR')
    expect(e.retName).toBe('VRTD_RET_AUTH_ERROR')
    expect(e.message).toBe('Missing permission')
    expect([e.opcode, e.seqno]).toEqual([3, 7])
    expect(retMessage(5)).toBe("Requested resouce doesn't exist")
    expect(retName(2)).toBe('BAD_CONN')
    expect(new VrtdError(42).code).toBe('UNKNOWN')
    expect(new VrtdError(42).message).toBe('Unknown error (42)')
    expect(new VrtdError(Ret.BAD_CONN, { detail: 'x' }).forRequest(1, 2)).toMatchObject({
      code: 'BAD_CONN',
      opcode: 1,
      seqno: 2,
      detail: 'x',
    })
  })
})
