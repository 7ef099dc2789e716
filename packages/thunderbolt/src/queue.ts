// A bounded push queue read as an async iterator. UDP semantics for a slow consumer: once `max` items wait, new
// ones are dropped (and counted) rather than buffered without bound or pausing the socket (which would also stop
// the automatic pongs).

export class MessageQueue<T> implements AsyncIterableIterator<T> {
  readonly max: number
  /** Items dropped because the queue was full. */
  dropped = 0
  #items: T[] = []
  #head = 0
  #waiters: ((r: IteratorResult<T>) => void)[] = []
  #done = false
  readonly #onEnd: () => void

  constructor(max: number, onEnd: () => void = () => {}) {
    this.max = max
    this.#onEnd = onEnd
  }

  get size(): number {
    return this.#items.length - this.#head
  }

  get done(): boolean {
    return this.#done
  }

  /** Queues (or hands over) one item; false when it was dropped or the queue has ended. */
  push(item: T): boolean {
    if (this.#done) return false
    const w = this.#waiters.shift()
    if (w) {
      w({ value: item, done: false })
      return true
    }
    if (this.size >= this.max) {
      this.dropped++
      return false
    }
    this.#items.push(item)
    return true
  }

  /** Ends the iteration: waiting and later next() calls get done once the queued items are read. */
  end(): void {
    if (this.#done) return
    this.#done = true
    for (const w of this.#waiters.splice(0)) w({ value: undefined, done: true })
    this.#onEnd()
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head]!
      this.#items[this.#head++] = undefined as T
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head)
        this.#head = 0
      }
      return Promise.resolve({ value, done: false })
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** Called by `break` in a for-await loop: stops receiving and drops what is queued. */
  return(): Promise<IteratorResult<T>> {
    this.#items = []
    this.#head = 0
    this.end()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
