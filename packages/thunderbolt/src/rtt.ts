// measureRtt bookkeeping: pings in flight keyed by their (unique) timestamp, so concurrent measurements are each
// matched by their own pong. The RTT comes from the monotonic clock, not from the timestamp on the wire: from just
// before the ping's sendmsg to the return of the recvmmsg that read its pong (as sockperf's sendto → recvfrom).
// One timer serves all pending pings (armed for the earliest deadline), so a measurement costs no timer of its own.
// Keys are numbers, not bigints (no allocation when a pong arrives): the low 53 bits of the timestamp, with the
// high word checked on a match.

/** The map key of a timestamp given as its two 32-bit halves. */
export const rttKey = (hi: number, lo: number): number => (hi & 0x1f_ffff) * 0x1_0000_0000 + lo

interface Pending {
  hi: number
  sentAt: bigint
  deadline: number
  peer: string
  resolve: (rtt: number | null) => void
  onTimeout: () => void
}

export class RttTracker {
  readonly #pending = new Map<number, Pending>()
  #timer: NodeJS.Timeout | null = null
  #armedFor = Number.POSITIVE_INFINITY

  get size(): number {
    return this.#pending.size
  }

  /** Registers a ping; after `timeoutMs` without its pong, `onTimeout` runs and the promise resolves null. */
  add(
    ts: bigint,
    peer: string,
    timeoutMs: number,
    resolve: (rtt: number | null) => void,
    onTimeout: () => void,
  ): number {
    const deadline = performance.now() + timeoutMs
    const hi = Number(ts >> 32n)
    const key = rttKey(hi, Number(ts & 0xffff_ffffn))
    this.#pending.set(key, { hi, sentAt: process.hrtime.bigint(), deadline, peer, resolve, onTimeout })
    if (deadline < this.#armedFor) this.#arm(deadline)
    else if (this.#pending.size === 1) this.#timer?.ref()
    return key
  }

  /** Marks the send time just before the ping goes out. */
  sent(key: number): void {
    const p = this.#pending.get(key)
    if (p) p.sentAt = process.hrtime.bigint()
  }

  /** Drops a ping whose send failed. */
  cancel(key: number): void {
    this.#pending.delete(key)
    if (this.#pending.size === 0) this.#timer?.unref()
  }

  /** A pong echoing timestamp hi:lo arrived at `now`: resolves its measurement; [peer, s], or null if none waits. */
  match(hi: number, lo: number, now: bigint): [string, number] | null {
    if (this.#pending.size === 0) return null
    const key = rttKey(hi, lo)
    const p = this.#pending.get(key)
    if (p === undefined || p.hi !== hi) return null
    this.#pending.delete(key)
    if (this.#pending.size === 0) this.#timer?.unref()
    const rtt = Number(now - p.sentAt) / 1e9
    p.resolve(rtt)
    return [p.peer, rtt]
  }

  /** Resolves every pending measurement with null (close()). */
  clear(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#armedFor = Number.POSITIVE_INFINITY
    const all = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of all) p.resolve(null)
  }

  #arm(deadline: number): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#armedFor = deadline
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, deadline - performance.now()))
    if (this.#pending.size === 0) this.#timer.unref()
  }

  #expire(): void {
    this.#timer = null
    this.#armedFor = Number.POSITIVE_INFINITY
    const now = performance.now()
    let next = Number.POSITIVE_INFINITY
    for (const [key, p] of this.#pending) {
      if (p.deadline <= now) {
        this.#pending.delete(key)
        p.onTimeout()
        p.resolve(null)
      } else if (p.deadline < next) next = p.deadline
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next)
  }
}
