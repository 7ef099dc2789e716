// The CMIO socket multiplexer's responses (guest → host, in the tx of a 0x43 yield). The commands are in
// cmio-mux.ts, in tapcmio's own format; upstream's responses reuse the command shapes with no status for CONNECT and an ambiguous
// [1] for errors (tapcmio bug #9). Here every command gets exactly one response with an explicit status:
//
//   type:u8 | socket_id:u32be | status:u8 | data_len:u32be | data          (10-byte header, big-endian)
//
//   type    the command's type (0x01…0x08), or 0x00 BATCH_ERROR (socket_id 0, data = a UTF-8 message) when the
//           command batch was malformed (the commands before the bad one were executed).
//   status  0 OK; 0xFF END (RECEIVE: the guest socket reached end of stream, nothing more will come);
//           anything else a Linux errno (ECONNREFUSED 111, ENOENT 2, EBADF 9 unknown socket id, EEXIST 17 id in use,
//           ENAMETOOLONG 36 path over sun_path, EPROTOTYPE 91 a TCP command on a Unix socket or the reverse, …).
//   data    RECEIVE: the bytes read (maybe none); otherwise empty.
import { FramingError } from './errors.js'

export const MUX_BATCH_ERROR = 0x00
export const MUX_RESPONSE_HEADER = 10
export const MuxStatus = { OK: 0, END: 0xff } as const

export interface MuxResponse {
  type: number
  socketId: number
  status: number
  /** A view into the batch when decoded. */
  data: Uint8Array
}

export function muxResponseSize(dataLength: number): number {
  return MUX_RESPONSE_HEADER + dataLength
}

/** Writes the header at `offset` for `dataLength` bytes the caller has put (or will put) at offset + 10. */
export function writeMuxResponseHeader(
  dst: Uint8Array,
  offset: number,
  type: number,
  socketId: number,
  status: number,
  dataLength: number,
): void {
  if (offset + MUX_RESPONSE_HEADER + dataLength > dst.byteLength) {
    throw new FramingError('ERR_BUFFER_TOO_SMALL', 'no room for the mux response', offset)
  }
  const dv = new DataView(dst.buffer, dst.byteOffset + offset, MUX_RESPONSE_HEADER)
  dv.setUint8(0, type)
  dv.setUint32(1, socketId >>> 0)
  dv.setUint8(5, status)
  dv.setUint32(6, dataLength >>> 0)
}

/** Writes one response (header and data) at `offset`; returns its size. */
export function encodeMuxResponseInto(dst: Uint8Array, offset: number, r: MuxResponse): number {
  writeMuxResponseHeader(dst, offset, r.type, r.socketId, r.status, r.data.byteLength)
  dst.set(r.data, offset + MUX_RESPONSE_HEADER)
  return MUX_RESPONSE_HEADER + r.data.byteLength
}

/** All responses as one batch in a new buffer. */
export function encodeMuxResponses(rs: readonly MuxResponse[]): Uint8Array {
  let n = 0
  for (const r of rs) n += MUX_RESPONSE_HEADER + r.data.byteLength
  const out = new Uint8Array(n)
  let p = 0
  for (const r of rs) p += encodeMuxResponseInto(out, p, r)
  return out
}

/** Calls onResponse for each response of a batch (data as views); a partial tail throws ERR_TRUNCATED. */
export function forEachMuxResponse(batch: Uint8Array, onResponse: (r: MuxResponse) => void): number {
  const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength)
  let p = 0
  let n = 0
  while (p < batch.byteLength) {
    if (batch.byteLength - p < MUX_RESPONSE_HEADER) {
      throw new FramingError('ERR_TRUNCATED', 'mux response batch ends inside a header', p)
    }
    const type = dv.getUint8(p)
    if (type > 0x08) throw new FramingError('ERR_BAD_VALUE', `unknown mux response type 0x${type.toString(16)}`, p)
    const len = dv.getUint32(p + 6)
    if (batch.byteLength - p - MUX_RESPONSE_HEADER < len) {
      throw new FramingError('ERR_TRUNCATED', `mux response batch ends inside ${len} bytes of data`, p)
    }
    onResponse({
      type,
      socketId: dv.getUint32(p + 1),
      status: dv.getUint8(p + 5),
      data: batch.subarray(p + MUX_RESPONSE_HEADER, p + MUX_RESPONSE_HEADER + len),
    })
    p += MUX_RESPONSE_HEADER + len
    n++
  }
  return n
}

export function decodeMuxResponses(batch: Uint8Array): MuxResponse[] {
  const out: MuxResponse[] = []
  forEachMuxResponse(batch, (r) => out.push(r))
  return out
}
