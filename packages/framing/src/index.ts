/**
 * @x/framing: zero-copy streaming codecs. Decoders hand out Uint8Array views into the input; encoders write into a
 * caller's buffer (`…Into(dst, offset, …)` → bytes written) or allocate exactly once. Every bad input throws
 * FramingError.
 */

export * from './capture.js'
export * from './cmio-mux.js'
export * from './cmio-mux-response.js'
export * from './cmio-tap.js'
export * from './errors.js'
export * from './length-prefixed.js'
export * from './pcap.js'
export * from './pcap-file.js'
export * from './pcapng.js'
export * from './rtt.js'
export type { ByteSink } from './sink.js'
export * from './stream.js'
export * as vrtd from './vrtd.js'
export {
  BODY_MAX as VRTD_BODY_MAX,
  type DecodeResponseOptions as VrtdDecodeResponseOptions,
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
  encodeResponseHeaderInto,
  encodeResponseInto,
  HEADER_SIZE as VRTD_HEADER_SIZE,
  MSG_MAX_SIZE as VRTD_MSG_MAX_SIZE,
  type Request as VrtdRequest,
  type RequestHeader as VrtdRequestHeader,
  type Response as VrtdResponse,
  type ResponseHeader as VrtdResponseHeader,
} from './vrtd.js'
