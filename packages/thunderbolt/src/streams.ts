// Data-stream sockets: a connected fd (made and configured natively) adopted by net.Socket, reading into slabs.
//
// Node's default read path allocates a fresh 64 KiB buffer for every read(2); on a fast link that allocation, its
// page faults and the small reads cost more than the copy itself (measured on veth: ~10 Gbit/s against iperf3's
// ~16). Here each socket reads through `onread` into a slab: reads start at 64 KiB and grow to 256 KiB while they
// come back full, every chunk is pushed to the Readable side as a view of the slab (no copy), and a new slab is
// taken when the tail gets short. The socket is an ordinary Duplex: 'data', pipe(), async iteration, backpressure
// (a false push() stops reading until the consumer asks for more).
import net, { type Socket } from 'node:net'
import { binding, errnoException, K, negErrno, OwnedFd } from '@x/native'
import { WatchedFd } from './watched.js'

const MIN_READ = 64 * 1024
const MAX_READ = 256 * 1024
/** A slab holds this many reads of the current size. */
const READS_PER_SLAB = 8
/** Below this many free bytes the slab is retired. */
const MIN_TAIL = 16 * 1024

class SlabReader {
  #read = MIN_READ
  #slab = Buffer.allocUnsafeSlow(MIN_READ * 4)
  #used = 0
  #offered = 0
  socket: Socket | null = null

  /** The buffer for the next read(2): the free tail of the slab, at most one read long. */
  next = (): Buffer => {
    if (this.#slab.length - this.#used < MIN_TAIL) {
      this.#slab = Buffer.allocUnsafeSlow(this.#read * READS_PER_SLAB)
      this.#used = 0
    }
    const end = Math.min(this.#slab.length, this.#used + this.#read)
    this.#offered = end - this.#used
    return this.#slab.subarray(this.#used, end)
  }

  /** `n` bytes arrived in `buf` (the buffer next() returned): hand them on as a view. */
  onRead = (n: number, buf: Uint8Array): boolean => {
    this.#used += n
    if (n === this.#offered && n === this.#read && this.#read < MAX_READ) this.#read *= 2
    const s = this.socket
    if (s === null) return false
    return s.push((buf as Buffer).subarray(0, n))
  }
}

/** Wraps a connected TCP fd (ownership passes to the socket) in a net.Socket with the slab read path. */
export function adoptStream(fd: OwnedFd): Socket {
  const reader = new SlabReader()
  // `onread` is honoured by the constructor (lib/net.js) though @types/node only declares it for connect().
  const options: net.SocketConstructorOpts & { onread: net.OnReadOpts } = {
    fd: fd.release(),
    readable: true,
    writable: true,
    onread: { buffer: reader.next, callback: reader.onRead },
  }
  const s = new net.Socket(options)
  reader.socket = s
  return s
}

const { EAGAIN, ECONNABORTED, EINTR } = negErrno
const ACCEPTS_PER_WAKEUP = 64

/** Accepts (accept4, SOCK_CLOEXEC | SOCK_NONBLOCK) when the listener is readable, up to 64 per wake-up. */
export class Acceptor {
  readonly #w: WatchedFd
  readonly #onAccept: (fd: OwnedFd) => void

  constructor(fd: OwnedFd, onAccept: (fd: OwnedFd) => void, onError: (err: Error) => void) {
    this.#onAccept = onAccept
    this.#w = new WatchedFd(fd, () => this.#drain(), onError)
  }

  get fd(): OwnedFd {
    return this.#w.fd
  }

  start(): void {
    this.#w.start()
  }

  #drain(): void {
    const flags = K('SOCK_CLOEXEC') | K('SOCK_NONBLOCK')
    for (let i = 0; i < ACCEPTS_PER_WAKEUP && !this.#w.closed; i++) {
      const r = binding.accept4(this.#w.fd.fd, flags)
      if (r >= 0) {
        this.#onAccept(new OwnedFd(r, 'socket'))
        continue
      }
      if (r === EAGAIN) return
      if (r === ECONNABORTED || r === EINTR) continue
      this.#w.fail(errnoException(r, 'accept4'))
      return
    }
  }

  close(): void {
    this.#w.close()
  }
}
