// nic-ring.ts: one NIC ring pair of a port without the module, over its AF_PACKET socket (see nic.ts). txsync
// transmits [hwcur, head) with sendmmsg (a NS_MOREFRAG chain as one datagram) and frees the slots the kernel took;
// under load (EAGAIN/ENOBUFS) the rest keep their slots and the ring waits; a frame refused for good is dropped,
// counted and thrown as Io once. rxsync returns [hwcur, head) and recvmmsg's waiting frames into the free slots
// (frames longer than a buffer as NS_MOREFRAG chains).
import { setTimeout as sleep } from 'node:timers/promises'
import { binding, K as NK } from '@x/native'
import { NS_MOREFRAG } from '@x/ring'
import { NetmapError } from './errors.js'
import { nicRingSlot } from './layout.js'
import {
  badBuffer,
  EAGAIN,
  ENOBUFS,
  errnoName,
  fragments,
  gatherBytes,
  gatherChain,
  NOBUFS_GIVE_UP_MS,
  NOBUFS_GIVE_UP_TRIES,
  type Pollable,
  RESOLVED_WAIT,
  type RingHost,
  ringPair,
  rxBatchBytes,
  rxDirect,
  rxRoom,
  rxSlotSize,
  tsWriter,
  walkChain,
} from './nic-shared.js'

/**
 * NIC ring pair i over its AF_PACKET socket. No allocation per packet: TX gathers packets (a NS_MOREFRAG chain into
 * one datagram) with copyWithin into a scratch batch in the region and sendmmsg's it from there; RX with an MTU
 * that fits a buffer receives with recvmmsg straight into runs of consecutive slot buffers, otherwise into a
 * scratch batch of MTU-sized slots, copied into the ring (long frames as NS_MOREFRAG chains).
 */
export function nicRing(host: RingHost, p: Pollable, i: number, mtu: number): void {
  const { g, nbufs, tx, rx, u8, stats, n, lim, bs } = ringPair(host, i)
  const fd = p.fd.fd
  if (tx) {
    const batchOff = host.take(gatherBytes(bs))
    const batchCap = gatherBytes(bs)
    const chain = new Int32Array(3) // walkChain's result
    /** Per batch entry: datagram length, and the slot after the packet's last fragment. */
    const lens = new Int32Array(64)
    const ends = new Int32Array(64)
    let count = 0
    let used = 0
    const _bufBase = tx.byteOffset + tx.bufOfs
    let hwcur = 0
    /** First slot not handled yet (sent, or dropped for good) in the running sync. */
    let done = 0
    /** What stopped the last sync: EAGAIN / ENOBUFS (the slots from hwcur wait), or 0. */
    let stall = 0
    let errs = 0
    let lastErr = 0
    /** The slot whose packet the qdisc keeps refusing (ENOBUFS), since when, and how often. */
    let nobufsAt = -1
    let nobufsSince = 0
    let nobufsTries = 0
    /** A frame was given up on and nothing has gone out since: the qdisc refuses for good. */
    let refusing = false
    /** Sends the batch: false when the socket is full (the rest stays in the ring). */
    const flush = (): boolean => {
      let off = 0
      while (count > 0) {
        const r = binding.sendmmsg(fd, u8, batchOff + off, used - off, lens, count, null, null, 0)
        let k = 1
        if (r > 0) {
          k = r
          done = ends[r - 1]!
          nobufsAt = -1
          refusing = false
        } else if (r === -EAGAIN || (r === -ENOBUFS && !nobufsForGood())) {
          stall = -r
          break
        } else {
          // a hard error (EMSGSIZE, ENETDOWN, …) for the first datagram: drop that one, send the rest
          errs++
          lastErr = -r
          done = ends[0]!
        }
        for (let j = 0; j < k; j++) off += lens[j]!
        lens.copyWithin(0, k, count)
        ends.copyWithin(0, k, count)
        count -= k
      }
      const ok = count === 0
      count = 0
      used = 0
      return ok
    }
    /** ENOBUFS for the packet at `done`: true once it has been refused for NOBUFS_GIVE_UP_MS (then: drop it). */
    const nobufsForGood = (): boolean => {
      if (refusing) return true
      const now = performance.now()
      if (nobufsAt !== done) {
        nobufsAt = done
        nobufsSince = now
        nobufsTries = 1
        return false
      }
      if (++nobufsTries < NOBUFS_GIVE_UP_TRIES || now - nobufsSince < NOBUFS_GIVE_UP_MS) return false
      nobufsAt = -1
      refusing = true
      return true
    }
    host.setDriver(nicRingSlot(g, true, i), {
      sync: () => {
        const head = tx.head
        if (head > lim) throw new NetmapError('SyncError', `txsync prologue: head ${head} out of range`)
        let k = hwcur
        done = hwcur
        stall = 0
        errs = 0
        while (k !== head) {
          // one packet: the slots from k through the first one without NS_MOREFRAG, gathered into one datagram
          if (!walkChain(tx, k, head, nbufs, chain)) break // an unfinished chain waits for its last fragment
          const e = chain[0]!
          const total = chain[1]!
          if (chain[2] !== 0) {
            if (!flush()) break
            // a bad buf_idx, a slot longer than its buffer, or more than NETMAP_MAX_FRAGS fragments: dropped
            errs++
            lastErr = chain[2]!
            done = e
            k = e
            continue
          }
          if ((count === 64 || used + total > batchCap) && !flush()) break
          gatherChain(tx, k, e, u8, batchOff + used)
          lens[count] = total
          ends[count] = e
          count++
          used += total
          k = e
        }
        if (stall === 0) flush()
        // sent (or dropped for good) up to done; under load the rest keeps its slots and tail stops there
        hwcur = done
        tx.tail = done === 0 ? lim : done - 1
        if (errs > 0) {
          stats.txErrors += errs
          stats.txLastErrno = lastErr
          throw new NetmapError(
            'Io',
            `sendmmsg dropped ${errs} frame${errs === 1 ? '' : 's'}: errno ${lastErr} (${errnoName(lastErr)}); the ring moved past ${errs === 1 ? 'it' : 'them'}`,
          )
        }
      },
      // a full socket buffer: wait for POLLOUT; a full qdisc (ENOBUFS) shows no readiness, so back off 1 ms
      wait: (signal) => (stall === EAGAIN ? p.wait('writable', signal) : sleep(1, undefined, { signal })),
      ready: () => false,
    })
  }
  if (rx) {
    const bufBase = rx.byteOffset + rx.bufOfs
    const truncBit = NK('MSG_TRUNC')
    const stamp = tsWriter(rx)
    const meta = new Int32Array(64 * 3)
    const direct = rxDirect(bs, mtu)
    // batch mode: slots of the MTU (+ Ethernet and VLAN headers); longer frames (GRO on a real NIC, an MTU raised
    // after the open) are cut by the kernel (MSG_TRUNC): counted in rxTruncated and dropped (direct mode too)
    const slotSize = rxSlotSize(bs, mtu)
    const batchOff = direct ? 0 : host.take(rxBatchBytes(bs, mtu))
    let hwtail = 0
    let room = 0
    /** Batch mode: the datagrams of the batch not yet in the ring, pj … pn-1 (a chain needed more free slots). */
    let pj = 0
    let pn = 0
    /** A free slot with a bad buf_idx found by this sync (-1: none). */
    let badSlot = -1
    /** Copies pending datagrams into the ring, a frame longer than a buffer as a NS_MOREFRAG chain. */
    const deliver = (): boolean => {
      for (; pj < pn; pj++) {
        if ((meta[pj * 3 + 1]! & truncBit) !== 0) {
          stats.rxTruncated++
          continue
        }
        const len = meta[pj * 3]!
        const frags = fragments(len, bs)
        if (frags > lim) {
          stats.rxTruncated++ // longer than the whole ring could hold
          continue
        }
        if (frags > room) return false
        for (let f = 0, t = hwtail; f < frags; f++, t = t === lim ? 0 : t + 1) {
          const bi = rx.bufIdx(t)
          if (bi < 2 || bi >= nbufs) {
            badSlot = t
            return false
          }
        }
        let o = batchOff + pj * slotSize
        const endo = o + len
        for (let f = 0; f < frags; f++) {
          const m = Math.min(bs, endo - o)
          u8.copyWithin(bufBase + rx.bufIdx(hwtail) * bs, o, o + m)
          rx.setLen(hwtail, m)
          rx.setSlotFlags(hwtail, f < frags - 1 ? NS_MOREFRAG : 0)
          o += m
          hwtail = hwtail === lim ? 0 : hwtail + 1
        }
        room -= frags
      }
      return true
    }
    /** Direct mode: recvmmsg into the run of consecutive buffers from hwtail (up to the wrap point). */
    const recvDirect = (): boolean => {
      const b0 = rx.bufIdx(hwtail)
      if (b0 < 2 || b0 >= nbufs) {
        badSlot = hwtail
        return false
      }
      let m = 1
      const most = Math.min(room, 64, n - hwtail, nbufs - b0)
      while (m < most && rx.bufIdx(hwtail + m) === b0 + m) m++
      const got = binding.recvmmsg(fd, u8, bufBase + b0 * bs, m * bs, bs, meta, null, 0, 0)
      if (got <= 0) return false
      let w = 0 // slots kept: a cut frame is dropped and the ones after it move down
      for (let j = 0; j < got; j++) {
        if ((meta[j * 3 + 1]! & truncBit) !== 0) {
          stats.rxTruncated++
          continue
        }
        const len = meta[j * 3]!
        if (w !== j) u8.copyWithin(bufBase + (b0 + w) * bs, bufBase + (b0 + j) * bs, bufBase + (b0 + j) * bs + len)
        rx.setLen(hwtail + w, len)
        rx.setSlotFlags(hwtail + w, 0)
        w++
      }
      hwtail += w
      if (hwtail === n) hwtail = 0
      room -= w
      return got === m // a full run: there may be more
    }
    /** Would the first pending datagram fit the slots the application has given back? */
    const pendingFits = (): boolean => {
      return fragments(meta[pj * 3]!, bs) <= rxRoom(rx.head, hwtail, n)
    }
    host.setDriver(nicRingSlot(g, false, i), {
      sync: () => {
        const head = rx.head
        if (head > lim) throw new NetmapError('SyncError', `rxsync prologue: head ${head} out of range`)
        room = rxRoom(head, hwtail, n)
        if (direct) {
          while (room > 0 && recvDirect()) {}
        } else {
          let drained = false
          for (;;) {
            if (pj < pn && !deliver()) break // the ring is full; the rest waits in the batch
            if (room === 0 || drained) break
            const max = Math.min(room, 64)
            // never more datagrams than the ring has slots for
            const got = binding.recvmmsg(fd, u8, batchOff, max * slotSize, slotSize, meta, null, 0, 0)
            if (got <= 0) break
            pj = 0
            pn = got
            drained = got < max
          }
        }
        rx.tail = hwtail
        stamp()
        if (badSlot >= 0) {
          const t = badSlot
          badSlot = -1
          throw badBuffer('rxsync', t, rx.bufIdx(t))
        }
      },
      // a chain waiting for free slots: ready at once only if the ring has room for it now (else the application
      // holds slots, and waiting on the socket at least goes through the event loop)
      wait: (signal) => (pj < pn && pendingFits() ? RESOLVED_WAIT : p.wait('readable', signal)),
      ready: () => false,
    })
  }
}
