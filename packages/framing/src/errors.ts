/**
 * The one error type of @x/framing. Every malformed input, oversize length field or misuse surfaces as a
 * `FramingError` with a stable `code`; nothing else (no `RangeError` from a `DataView`, no `TypeError` from a
 * typed-array constructor) escapes a decoder.
 */

export type FramingErrorCode =
  /** A length field (or a message) exceeds the configured or protocol maximum. */
  | 'ERR_FRAME_TOO_LARGE'
  /** The input ended inside a frame, header or block. */
  | 'ERR_TRUNCATED'
  /** A magic number or block type is not what the format requires. */
  | 'ERR_BAD_MAGIC'
  /** A length field is inconsistent (with the datagram, the block trailer, the header size, ...). */
  | 'ERR_BAD_LENGTH'
  /** A field holds a value the format does not allow (unknown type, interface id, out-of-range argument). */
  | 'ERR_BAD_VALUE'
  /** `encodeInto`: the destination has no room for the encoding. */
  | 'ERR_BUFFER_TOO_SMALL'
  /** The object is in the wrong state: push after `end()`, write after `close()`, a decoder that already failed. */
  | 'ERR_BAD_STATE'

export class FramingError extends Error {
  readonly code: FramingErrorCode
  /** Byte offset of the offending frame or field: within the buffer for one-shot decoders, within the stream for
   * streaming decoders. Absent when no position applies. */
  readonly offset: number | undefined

  constructor(code: FramingErrorCode, message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at offset ${offset})`)
    this.name = 'FramingError'
    this.code = code
    this.offset = offset
  }
}
