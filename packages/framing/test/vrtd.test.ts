import {
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  decodeResponseHeader,
  encodeRequest,
  encodeRequestHeader,
  encodeRequestHeaderInto,
  encodeRequestInto,
  encodeResponse,
  encodeResponseHeader,
  encodeResponseInto,
  FramingError,
  VRTD_BODY_MAX,
  VRTD_HEADER_SIZE,
  VRTD_MSG_MAX_SIZE,
  vrtd,
} from '@x/framing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectFraming, hex, toHex } from './helpers.js'

// Golden vectors: /work/shared/reference/vrtd.md §2.7 (header | body).
const exchanges = [
  {
    what: 'GET_NUM_DEVICES, seq 1 → OK, 1 device',
    req: '01 00 00 00 01 00 00 00 | 00',
    opcode: 0,
    seqno: 1,
    reqBody: '00',
    resp: '04 00 00 00 01 00 00 00 | 01 00 00 00',
    ret: 0,
    respBody: '01 00 00 00',
  },
  {
    what: 'GET_NUM_DEVICES with no body (main client bug) → BAD_REQUEST',
    req: '00 00 00 00 01 00 00 00',
    opcode: 0,
    seqno: 1,
    reqBody: '',
    resp: '00 00 03 00 01 00 00 00',
    ret: 3,
    respBody: '',
  },
  {
    what: 'GET_BAR_INFO dev 0 bar 0, seq 3 → usable, start 0x1000, 64 MiB',
    req: '05 00 02 00 03 00 00 00 | 00 00 00 00 00',
    opcode: 2,
    seqno: 3,
    reqBody: '00 00 00 00 00',
    resp: '18 00 00 00 03 00 00 00 | 18 00 00 00 00 01 00 00 00 10 00 00 00 00 00 00 00 00 00 04 00 00 00 00',
    ret: 0,
    respBody: '18 00 00 00 00 01 00 00 00 10 00 00 00 00 00 00 00 00 00 04 00 00 00 00',
  },
  {
    what: 'GET_BAR_FD dev 1 bar 2, seq 7 → OK, 64 MiB',
    req: '05 00 03 00 07 00 00 00 | 01 00 00 00 02',
    opcode: 3,
    seqno: 7,
    reqBody: '01 00 00 00 02',
    resp: '08 00 00 00 07 00 00 00 | 00 00 00 04 00 00 00 00',
    ret: 0,
    respBody: '00 00 00 04 00 00 00 00',
  },
  {
    what: 'GET_BAR_FD dev 1 bar 2, seq 7 → denied',
    req: '05 00 03 00 07 00 00 00 | 01 00 00 00 02',
    opcode: 3,
    seqno: 7,
    reqBody: '01 00 00 00 02',
    resp: '00 00 07 00 07 00 00 00',
    ret: 7,
    respBody: '',
  },
  {
    what: 'unknown opcode 20, seq 9',
    req: '00 00 14 00 09 00 00 00',
    opcode: 20,
    seqno: 9,
    reqBody: '',
    resp: '00 00 03 00 09 00 00 00',
    ret: 3,
    respBody: '',
  },
]

describe('vrtd: golden vectors (reference §2.7)', () => {
  it('constants', () => {
    expect([VRTD_HEADER_SIZE, VRTD_MSG_MAX_SIZE, VRTD_BODY_MAX]).toEqual([8, 4096, 4088])
    expect([vrtd.HEADER_SIZE, vrtd.MSG_MAX_SIZE, vrtd.BODY_MAX]).toEqual([8, 4096, 4088])
  })

  for (const x of exchanges) {
    it(x.what, () => {
      expect(toHex(encodeRequest(x.opcode, x.seqno, hex(x.reqBody)))).toBe(toHex(hex(x.req)))
      expect(toHex(encodeResponse(x.ret, x.seqno, hex(x.respBody)))).toBe(toHex(hex(x.resp)))
      const rq = decodeRequest(hex(x.req))
      expect({ size: rq.size, opcode: rq.opcode, seqno: rq.seqno, body: toHex(rq.body) }).toEqual({
        size: hex(x.reqBody).length,
        opcode: x.opcode,
        seqno: x.seqno,
        body: toHex(hex(x.reqBody)),
      })
      const rs = decodeResponse(hex(x.resp))
      expect({ ret: rs.ret, seqno: rs.seqno, body: toHex(rs.body) }).toEqual({
        ret: x.ret,
        seqno: x.seqno,
        body: toHex(hex(x.respBody)),
      })
      expect(toHex(encodeRequestHeader(hex(x.reqBody).length, x.opcode, x.seqno))).toBe(
        toHex(hex(x.req).subarray(0, 8)),
      )
    })
  }

  it('GET_DEVICE_INFO dev 0, seq 2: request, and the v0 / main / dev response headers', () => {
    expect(toHex(encodeRequest(1, 2, hex('00 00 00 00')))).toBe(toHex(hex('04 00 01 00 02 00 00 00 00 00 00 00')))
    expect(toHex(encodeResponseHeader(128, 0, 2))).toBe(toHex(hex('80 00 00 00 02 00 00 00')))
    expect(toHex(encodeResponseHeader(168, 0, 2))).toBe(toHex(hex('a8 00 00 00 02 00 00 00')))
    expect(toHex(encodeResponseHeader(170, 0, 2))).toBe(toHex(hex('aa 00 00 00 02 00 00 00')))
    for (const size of [128, 168, 170]) {
      const r = decodeResponse(encodeResponse(0, 2, new Uint8Array(size)))
      expect([r.size, r.ret, r.seqno, r.body.length]).toEqual([size, 0, 2, size])
    }
  })
})

describe('vrtd: validation as the daemon does it (§2.2, §4.7)', () => {
  it('datagram < 8 bytes → ERR_TRUNCATED', () => {
    for (const n of [0, 1, 7]) expectFraming(() => decodeRequest(new Uint8Array(n)), 'ERR_TRUNCATED', 0)
    expectFraming(() => decodeResponse(new Uint8Array(7)), 'ERR_TRUNCATED', 0)
    expectFraming(() => decodeRequestHeader(new Uint8Array(3)), 'ERR_TRUNCATED')
  })

  it('8 + size ≠ length → ERR_BAD_LENGTH (both ways)', () => {
    expectFraming(() => decodeRequest(hex('01 00 00 00 01 00 00 00')), 'ERR_BAD_LENGTH')
    expectFraming(() => decodeRequest(hex('01 00 00 00 01 00 00 00 00 00')), 'ERR_BAD_LENGTH')
    expectFraming(() => decodeResponse(hex('04 00 00 00 01 00 00 00 01 00 00')), 'ERR_BAD_LENGTH')
  })

  it('size > 4088 → ERR_FRAME_TOO_LARGE, even when the datagram matches it', () => {
    const d = new Uint8Array(8 + 4089)
    d[0] = 4089 & 0xff
    d[1] = 4089 >> 8
    expectFraming(() => decodeRequest(d), 'ERR_FRAME_TOO_LARGE')
    const ok = encodeRequest(5, 1, new Uint8Array(4088))
    expect(ok.length).toBe(4096)
    expect(decodeRequest(ok).body.length).toBe(4088)
    expectFraming(() => encodeRequest(5, 1, new Uint8Array(4089)), 'ERR_FRAME_TOO_LARGE')
    expectFraming(() => encodeRequest(5, 1, new Uint8Array(70000)), 'ERR_FRAME_TOO_LARGE')
    expectFraming(() => encodeRequestHeader(4089, 0, 1), 'ERR_FRAME_TOO_LARGE')
  })

  it('field ranges are checked on encode', () => {
    expectFraming(() => encodeRequest(0x10000, 1), 'ERR_BAD_VALUE')
    expectFraming(() => encodeRequest(0, -1), 'ERR_BAD_VALUE')
    expectFraming(() => encodeRequest(0, 2 ** 32), 'ERR_BAD_VALUE')
    expectFraming(() => encodeResponse(1.5, 1), 'ERR_BAD_VALUE')
    expect(decodeRequestHeader(encodeRequest(0xffff, 0xffffffff))).toEqual({
      size: 0,
      opcode: 0xffff,
      seqno: 0xffffffff,
    })
  })

  it('error replies: header only by default (v0 garbage size), exact with strictErrors', () => {
    const garbage = hex('37 13 07 00 07 00 00 00 de ad')
    const r = decodeResponse(garbage)
    expect([r.size, r.ret, r.seqno, r.body.length]).toEqual([0x1337, 7, 7, 0])
    expectFraming(() => decodeResponse(garbage, { strictErrors: true }), 'ERR_FRAME_TOO_LARGE')
    expect(decodeResponseHeader(garbage)).toEqual({ size: 0x1337, ret: 7, seqno: 7 })
    // an OK reply is always exact
    expectFraming(() => decodeResponse(hex('37 13 00 00 07 00 00 00 de ad')), 'ERR_FRAME_TOO_LARGE')
  })

  it('encode…Into write at an offset and report the bytes written', () => {
    const dst = new Uint8Array(32).fill(0xee)
    expect(encodeRequestInto(dst, 3, 3, 7, hex('01 00 00 00 02'))).toBe(13)
    expect(toHex(dst.subarray(3, 16))).toBe(toHex(hex('05 00 03 00 07 00 00 00 01 00 00 00 02')))
    expect(dst[16]).toBe(0xee)
    expect(encodeResponseInto(dst, 0, 0, 7, hex('00 00 00 04 00 00 00 00'))).toBe(16)
    expect(encodeRequestHeaderInto(dst, 24, 0, 1, 1)).toBe(8)
    expectFraming(() => encodeRequestHeaderInto(dst, 25, 0, 1, 1), 'ERR_BUFFER_TOO_SMALL')
    expectFraming(() => encodeRequestInto(dst, 20, 3, 7, hex('01 00 00 00 02')), 'ERR_BUFFER_TOO_SMALL')
  })

  it('property: request/response round trip; garbage throws only FramingError', () => {
    fc.assert(
      fc.property(fc.nat(0xffff), fc.nat(0xffffffff), fc.uint8Array({ maxLength: 4088 }), (code, seq, body) => {
        const rq = decodeRequest(encodeRequest(code, seq, body))
        expect([rq.opcode, rq.seqno, rq.size]).toEqual([code, seq, body.length])
        expect(Buffer.from(rq.body).equals(body)).toBe(true)
        const rs = decodeResponse(encodeResponse(code, seq, body), { strictErrors: true })
        expect([rs.ret, rs.seqno, rs.body.length]).toEqual([code, seq, body.length])
      }),
      { numRuns: 100 },
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4200 }), fc.boolean(), (g, strict) => {
        for (const f of [() => decodeRequest(g), () => decodeResponse(g, { strictErrors: strict })]) {
          try {
            f()
          } catch (e) {
            expect(e).toBeInstanceOf(FramingError)
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})
