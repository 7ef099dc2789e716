// kring.ts: the kernel's side of one pipe ring, ported: nm_txsync_prologue + netmap_pipe_txsync + nm_sync_finalize
// and nm_rxsync_prologue + netmap_pipe_rxsync + finalize (netmap.c 1721–1831, netmap_pipe.c 185–288). The kring
// state lives in the region (one 128-byte line per ring), so a re-open or a second open of the master continues it.
// Ordering: slot descriptors are plain stores; the peer's pipe_tail is published with Atomics.store after them and
// read with Atomics.load before the slots are read.
import { NS_BUF_CHANGED, NS_MOREFRAG, type RingView } from '@x/ring'
import { NetmapError } from './errors.js'
import { KRING as K } from './layout.js'

const NOT_CHANGED = ~NS_BUF_CHANGED & 0xffff

export class PipeKring {
  readonly ring: RingView
  readonly n: number
  readonly tx: boolean
  /** This kring's state words, and the linked kring's. */
  readonly #st: Int32Array
  readonly #peer: Int32Array
  /** Slot words (4 per slot) of this ring and of the linked ring. */
  readonly #slots: Uint32Array
  readonly #peerSlots: Uint32Array
  /** The whole region as words, and the word offsets of both rings' slot[0] (copyWithin: no view per sync). */
  readonly #all: Uint32Array
  readonly #slot0: number
  readonly #peerSlot0: number
  readonly #ts: Int32Array
  readonly #notify: () => void

  constructor(ring: RingView, peerRing: RingView, st: Int32Array, peerSt: Int32Array, tx: boolean, notify: () => void) {
    this.ring = ring
    this.n = ring.numSlots
    this.tx = tx
    this.#st = st
    this.#peer = peerSt
    this.#slots = new Uint32Array(ring.buffer, ring.byteOffset + 256, this.n * 4)
    this.#peerSlots = new Uint32Array(peerRing.buffer, peerRing.byteOffset + 256, this.n * 4)
    this.#all = new Uint32Array(ring.buffer, 0, Math.floor(ring.buffer.byteLength / 4))
    this.#slot0 = (ring.byteOffset + 256) / 4
    this.#peerSlot0 = (peerRing.byteOffset + 256) / 4
    this.#ts = new Int32Array(ring.buffer, ring.byteOffset + 40, 4)
    this.#notify = notify
  }

  /** nm_ring_reinit's index part, then the error: the ring is usable again after the throw. */
  #fail(what: string, head: number, cur: number): never {
    const st = this.#st
    const ring = this.ring
    ring.head = st[K.hwcur]!
    ring.cur = st[K.hwcur]!
    ring.tail = st[K.hwtail]!
    st[K.rhead] = st[K.hwcur]!
    st[K.rcur] = st[K.hwcur]!
    throw new NetmapError(
      'SyncError',
      `${what}: head ${head} cur ${cur} outside [${st[K.rhead]} … ${this.tx ? st[K.rtail] : st[K.hwtail]}] (hwcur ${st[K.hwcur]}, hwtail ${st[K.hwtail]}, ${this.n} slots)`,
    )
  }

  /**
   * The kring words live in memory the peer (another process) and this process's own code can write: an index out of
   * [0, n) there would make the slot walks below run for ever (or past the ring), so it is a SyncError, not a hang.
   */
  #corrupt(what: string): never {
    const st = this.#st
    throw new NetmapError(
      'SyncError',
      `${what}: the pipe's ${this.tx ? 'TX' : 'RX'} kring state is corrupt (hwcur ${st[K.hwcur]}, hwtail ${st[K.hwtail]}, rhead ${st[K.rhead]}, rtail ${st[K.rtail]}, pipe tail ${st[K.pipeTail]}; ${this.n} slots)`,
    )
  }

  txsync(): void {
    const st = this.#st
    const ring = this.ring
    const n = this.n
    const lim = n - 1
    // nm_txsync_prologue
    const head = ring.head
    const cur = ring.cur
    const rhead = st[K.rhead]!
    const rtail = st[K.rtail]!
    if (rhead >>> 0 > lim || rtail >>> 0 > lim || st[K.hwcur]! >>> 0 > lim || st[K.hwtail]! >>> 0 > lim)
      this.#corrupt('txsync')
    if (head > lim || cur > lim) this.#fail('txsync prologue', head, cur)
    if (rtail >= rhead) {
      if (head < rhead || head > rtail || cur < head || cur > rtail) this.#fail('txsync prologue', head, cur)
    } else {
      if (head > rtail && head < rhead) this.#fail('txsync prologue', head, cur)
      if (head <= rtail) {
        if (cur < head || cur > rtail) this.#fail('txsync prologue', head, cur)
      } else if (cur > rtail && cur < head) this.#fail('txsync prologue', head, cur)
    }
    if (ring.tail !== rtail) ring.tail = rtail
    st[K.rhead] = head
    st[K.rcur] = cur
    // netmap_pipe_txsync
    const hwtail = Atomics.load(st, K.pipeTail)
    if (hwtail >>> 0 > lim) this.#corrupt('txsync')
    st[K.hwtail] = hwtail
    let m = head - st[K.hwcur]!
    if (m < 0) m += n
    if (m > 0) {
      const ts = this.#slots
      const all = this.#all
      const t0 = this.#slot0
      const r0 = this.#peerSlot0
      const from = st[K.hwcur]!
      // copy the whole slot descriptors of [hwcur, head) into the linked RX ring (two bulk copies at most)
      if (from + m <= n) all.copyWithin(r0 + from * 4, t0 + from * 4, t0 + (from + m) * 4)
      else {
        all.copyWithin(r0 + from * 4, t0 + from * 4, t0 + n * 4)
        all.copyWithin(r0, t0, t0 + (from + m - n) * 4)
      }
      // then clear NS_BUF_CHANGED on the TX side and find the end of the last complete packet: a first pass ORs
      // the flags words (no branch per slot); only a batch with one of the two flags set takes the slot-by-slot walk
      const end = Math.min(from + m, n)
      let or = 0
      for (let j = from * 4 + 1, e = end * 4 + 1; j < e; j += 4) or |= ts[j]!
      for (let j = 1, e = (from + m - end) * 4 + 1; j < e; j += 4) or |= ts[j]!
      let k = from + m >= n ? from + m - n : from + m
      let nk = k
      if (((or >>> 16) & (NS_BUF_CHANGED | NS_MOREFRAG)) !== 0) {
        k = from
        nk = n
        for (; m > 0; m--) {
          const w = k * 4 + 1
          const fl = ts[w]! >>> 16
          if (fl & NS_BUF_CHANGED) ts[w] = (ts[w]! & 0xffff) | ((fl & NOT_CHANGED) << 16)
          k = k === lim ? 0 : k + 1
          if (!(fl & NS_MOREFRAG)) nk = k
        }
      }
      st[K.hwcur] = k
      if (nk <= lim) {
        Atomics.store(this.#peer, K.pipeTail, nk) // only complete packets are published
        this.#notify()
      }
    }
    // nm_sync_finalize
    st[K.rtail] = st[K.hwtail]!
    ring.tail = st[K.hwtail]!
  }

  rxsync(): void {
    const st = this.#st
    const ring = this.ring
    const n = this.n
    const lim = n - 1
    // nm_rxsync_prologue
    const cur = ring.cur
    const head = ring.head
    const hwcur = st[K.hwcur]!
    const hwtail = st[K.hwtail]!
    if (hwcur >>> 0 > lim || hwtail >>> 0 > lim || st[K.rtail]! >>> 0 > lim) this.#corrupt('rxsync')
    if (head > lim || cur > lim) this.#fail('rxsync prologue', head, cur)
    if (hwtail >= hwcur) {
      if (head < hwcur || head > hwtail || cur < head || cur > hwtail) this.#fail('rxsync prologue', head, cur)
    } else {
      if (head < hwcur && head > hwtail) this.#fail('rxsync prologue', head, cur)
      if (head <= hwtail) {
        if (cur < head || cur > hwtail) this.#fail('rxsync prologue', head, cur)
      } else if (cur < head && cur > hwtail) this.#fail('rxsync prologue', head, cur)
    }
    if (ring.tail !== st[K.rtail]) ring.tail = st[K.rtail]!
    st[K.rhead] = head
    st[K.rcur] = cur
    // netmap_pipe_rxsync
    const tail = Atomics.load(st, K.pipeTail)
    if (tail >>> 0 > lim) this.#corrupt('rxsync')
    st[K.hwtail] = tail
    let m = head - hwcur
    if (m < 0) m += n
    if (m > 0) {
      const rs = this.#slots
      const ts = this.#peerSlots
      // the released slots whose buffer the receiver swapped (NS_BUF_CHANGED) go back to the TX ring: an OR pass
      // over the flags words first, the slot-by-slot copy only when one is set
      const end = Math.min(hwcur + m, n)
      let or = 0
      for (let j = hwcur * 4 + 1, e = end * 4 + 1; j < e; j += 4) or |= rs[j]!
      for (let j = 1, e = (hwcur + m - end) * 4 + 1; j < e; j += 4) or |= rs[j]!
      let k = hwcur + m >= n ? hwcur + m - n : hwcur + m
      if (((or >>> 16) & NS_BUF_CHANGED) !== 0) {
        k = hwcur
        for (; m > 0; m--) {
          const w = k * 4
          const fl = rs[w + 1]! >>> 16
          if (fl & NS_BUF_CHANGED) {
            ts[w] = rs[w]!
            ts[w + 1] = rs[w + 1]!
            ts[w + 2] = rs[w + 2]!
            ts[w + 3] = rs[w + 3]!
            rs[w + 1] = (rs[w + 1]! & 0xffff) | ((fl & NOT_CHANGED) << 16)
          }
          k = k === lim ? 0 : k + 1
        }
      }
      Atomics.store(this.#peer, K.pipeTail, k === 0 ? lim : k - 1) // one slot stays empty
      st[K.hwcur] = k
      this.#notify()
    }
    // finalize + ts
    st[K.rtail] = st[K.hwtail]!
    ring.tail = st[K.hwtail]!
    const now = Date.now()
    this.#ts[0] = Math.floor(now / 1000)
    this.#ts[2] = (now % 1000) * 1000
  }

  /** Would an rxsync show new packets / a txsync free slots (without syncing)? */
  peerAdvanced(): boolean {
    return Atomics.load(this.#st, K.pipeTail) !== this.#st[K.hwtail]
  }

  /**
   * The linked kring's rhead: the peer's sync stores its user's head there, so a change means the peer is awake and
   * making progress (the adaptive spin's progress signal). No side effect.
   */
  peerActivity(): number {
    return Atomics.load(this.#peer, K.rhead)
  }
}
