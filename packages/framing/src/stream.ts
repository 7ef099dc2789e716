/**
 * Shared streaming machinery: `FrameDecoder`, the base of every stream codec in this package (length-prefixed
 * frames, CMIO mux messages, pcap records, pcapng blocks), and `decodeStream`, the async-generator adapter for
 * sockets and other async iterables of chunks.
 *
 * A subclass says how long the frame starting at a position is (`frameLength`) and what to make of a complete one
 * (`frame`). The base does the rest:
 *
 * - a frame that lies within one pushed chunk is handed over as a **view into that chunk** (no copy);
 * - a frame that straddles chunks is copied, once, into an internal accumulation buffer; by default two buffers are
 *   reused in turn (grown when needed), so such a view is **valid until the next `push()`**; pass `reuse: false` to
 *   get a fresh, exactly-sized allocation per straddling frame instead (valid forever);
 * - input may be split at any byte: 1-byte chunks give the same frames as one big chunk;
 * - the first error is sticky (the stream is out of sync): later pushes throw it again until `reset()`.
 */

import { plain } from './bytes.js'
import { assertBytes } from './check.js'
import { FramingError } from './errors.js'

export interface FrameDecoderOptions {
  /** Reuse the accumulation buffers for frames that straddle chunks (default `true`): such frames are then valid
   * only until the next `push()`. With `false` each straddling frame gets its own allocation. Frames that lie in one
   * chunk are always views into that chunk, whatever this says. */
  reuse?: boolean
}

/** Anything with the push/end shape of the decoders in this package. */
export interface PushDecoder<T> {
  push(chunk: Uint8Array): T[]
  end(): void
}

const MIN_CAPACITY = 64

function allocate(n: number): Uint8Array {
  try {
    return new Uint8Array(n)
  } catch {
    throw new FramingError('ERR_FRAME_TOO_LARGE', `cannot allocate ${n} bytes for a frame`)
  }
}

export abstract class FrameDecoder<T> implements PushDecoder<T> {
  /** Stream offset of the first byte of the next chunk. */
  protected base = 0
  private readonly reuse: boolean
  private bufs: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)]
  private cur = 0
  private pbuf: Uint8Array = this.bufs[0]
  private plen = 0
  private ptotal = -1
  private pbase = 0
  private failure: unknown = undefined
  private ended = false
  private out: T[] | null = null
  private cb: ((item: T) => void) | undefined = undefined
  private emitted = 0

  constructor(options?: FrameDecoderOptions) {
    this.reuse = options?.reuse !== false
  }

  /**
   * Length in bytes of the frame starting at `buf[start]`, of which `avail` (≥ 1) bytes are present:
   * a positive total (header included; may exceed `avail`), or `-n` when at least `n > avail` bytes are needed to
   * tell. Throws FramingError for a bad header; `at` is the stream offset of `buf[start]`, for error messages.
   * A returned total must not be smaller than any `n` asked for before.
   */
  protected abstract frameLength(buf: Uint8Array, start: number, avail: number, at: number): number

  /** A complete frame `buf[start, end)` at stream offset `at`; call `this.emit()` for each item it yields. */
  protected abstract frame(buf: Uint8Array, start: number, end: number, at: number): void

  /** Called by `end()` when no partial frame is pending; throw FramingError if the stream is incomplete. */
  protected onEnd(): void {}

  protected emit(item: T): void {
    this.emitted++
    if (this.cb !== undefined) this.cb(item)
    else this.out!.push(item)
  }

  /** Decodes `chunk` and returns the items it completed. */
  push(chunk: Uint8Array): T[]
  /** Decodes `chunk`, calls `onItem` for each completed item (no array), returns how many there were. */
  push(chunk: Uint8Array, onItem: (item: T) => void): number
  push(chunk: Uint8Array, onItem?: (item: T) => void): T[] | number {
    if (onItem === undefined) {
      const out: T[] = []
      this.out = out
      this.cb = undefined
      try {
        this.feed(chunk)
      } finally {
        this.out = null
      }
      return out
    }
    const before = this.emitted
    this.cb = onItem
    try {
      this.feed(chunk)
    } finally {
      this.cb = undefined
    }
    return this.emitted - before
  }

  /** Declares the end of the stream: throws FramingError (ERR_TRUNCATED) if a partial frame is pending. */
  end(): void {
    this.check()
    this.ended = true
    if (this.plen > 0) {
      const what = this.ptotal > 0 ? `${this.plen} of ${this.ptotal} bytes` : `${this.plen} header bytes`
      this.fail(new FramingError('ERR_TRUNCATED', `stream ended inside a frame (${what})`, this.pbase))
    }
    try {
      this.onEnd()
    } catch (e) {
      this.fail(e)
    }
  }

  /** Forgets all state (pending bytes, errors, end) so the decoder can read a new stream. */
  reset(): void {
    this.base = 0
    this.plen = 0
    this.ptotal = -1
    this.pbase = 0
    this.failure = undefined
    this.ended = false
  }

  /** Bytes held back, waiting for the rest of a frame. */
  get pending(): number {
    return this.plen
  }

  /** Total bytes pushed so far (the stream offset of the next chunk). */
  get offset(): number {
    return this.base
  }

  private check(): void {
    if (this.failure !== undefined) {
      if (this.failure instanceof FramingError) throw this.failure
      throw new FramingError(
        'ERR_BAD_STATE',
        `decoder failed earlier: ${String((this.failure as Error)?.message ?? this.failure)}`,
      )
    }
    if (this.ended) throw new FramingError('ERR_BAD_STATE', 'the decoder has ended; call reset() to read a new stream')
  }

  private fail(e: unknown): never {
    this.failure = e
    throw e
  }

  /** Runs the frame loop over one chunk; views handed out point into `chunk` or into an accumulation buffer. */
  protected feed(input: Uint8Array): void {
    this.check()
    assertBytes(input, 'chunk')
    const chunk = plain(input)
    const end = chunk.length
    try {
      let pos = this.plen > 0 ? this.completePending(chunk) : 0
      while (pos < end) {
        const avail = end - pos
        const r = this.frameLength(chunk, pos, avail, this.base + pos)
        if (r > 0 && r <= avail) {
          this.frame(chunk, pos, pos + r, this.base + pos)
          pos += r
        } else {
          this.startPending(chunk, pos, end, r)
          pos = end
        }
      }
    } catch (e) {
      this.fail(e)
    }
    this.base += end
  }

  private storage(n: number, exact: boolean): Uint8Array {
    if (!this.reuse && exact) return allocate(n)
    let b = this.bufs[this.cur]
    if (b.length < n) {
      b = allocate(Math.max(MIN_CAPACITY, n, b.length * 2))
      this.bufs[this.cur] = b
    }
    return b
  }

  /** Makes room for `n` bytes in the pending storage, keeping what is there. */
  private grow(n: number, exact: boolean): void {
    if (this.pbuf.length >= n && !(exact && !this.reuse)) return
    const old = this.pbuf
    const nb = this.storage(n, exact)
    if (nb !== old) nb.set(old.subarray(0, this.plen), 0)
    this.pbuf = nb
  }

  private startPending(chunk: Uint8Array, pos: number, end: number, r: number): void {
    const n = end - pos
    this.pbase = this.base + pos
    this.plen = 0
    if (r > 0) {
      this.ptotal = r
      this.pbuf = this.storage(r, true)
    } else {
      this.ptotal = -1
      this.pbuf = this.storage(Math.max(-r, n), false)
    }
    this.pbuf.set(chunk.subarray(pos, end), 0)
    this.plen = n
  }

  /** Feeds the start of `chunk` to the pending frame; returns the position after what it used. */
  private completePending(chunk: Uint8Array): number {
    const end = chunk.length
    let pos = 0
    for (;;) {
      if (this.ptotal < 0) {
        const r = this.frameLength(this.pbuf, 0, this.plen, this.pbase)
        if (r < 0) {
          const want = -r
          if (want <= this.plen) throw new FramingError('ERR_BAD_STATE', 'frameLength asked for bytes it has')
          const take = Math.min(want - this.plen, end - pos)
          this.grow(want, false)
          this.pbuf.set(chunk.subarray(pos, pos + take), this.plen)
          this.plen += take
          pos += take
          if (this.plen < want) return pos
          continue
        }
        if (r < this.plen) throw new FramingError('ERR_BAD_LENGTH', `frame length ${r} below its header`, this.pbase)
        this.ptotal = r
        this.grow(r, true)
      }
      const take = Math.min(this.ptotal - this.plen, end - pos)
      if (take > 0) this.pbuf.set(chunk.subarray(pos, pos + take), this.plen)
      this.plen += take
      pos += take
      if (this.plen < this.ptotal) return pos
      const buf = this.pbuf
      const total = this.ptotal
      const at = this.pbase
      this.plen = 0
      this.ptotal = -1
      // Ping-pong: the next partial frame goes to the other buffer, so this frame stays intact until the next push.
      this.cur ^= 1
      this.pbuf = this.bufs[this.cur]
      this.frame(buf, 0, total, at)
      return pos
    }
  }
}

/**
 * Adapts a push decoder to an async iterable of chunks (a `net.Socket`, a `fs.ReadStream`, any async generator):
 * yields each decoded item, then calls `decoder.end()` when the source ends (so a truncated tail throws
 * FramingError). Items that straddled chunks are valid until the next iteration step unless the decoder was made
 * with `reuse: false`. Breaking out of the loop returns (closes) the source.
 */
export async function* decodeStream<T>(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  decoder: PushDecoder<T>,
): AsyncGenerator<T, void, undefined> {
  for await (const chunk of source) {
    const items = decoder.push(chunk)
    for (let i = 0; i < items.length; i++) yield items[i]
  }
  decoder.end()
}
