// host-ring.ts: the host ring pair of a TAP port without the module (see nic.ts): the tap fd is the stack side of
// the interface. Host TX ring → write(2) on the tap fd (the kernel receives the frame on tapX, as if from the wire);
// host RX ring ← read(2) from the tap fd (what the stack transmits out of tapX). One syscall per packet: a tap fd has
// no batch call.
import { binding } from '@x/native'
import { NS_MOREFRAG } from '@x/ring'
import { NetmapError } from './errors.js'
import { nicRingSlot } from './layout.js'
import {
  badBuffer,
  EAGAIN,
  EINVAL,
  EIO,
  EMSGSIZE,
  ENOBUFS,
  ENOMEM,
  errnoName,
  fragments,
  gatherBytes,
  gatherChain,
  type Pollable,
  RESOLVED_WAIT,
  type RingHost,
  ringPair,
  rxRoom,
  TAP_READ_BYTES,
  tsWriter,
  walkChain,
} from './nic-shared.js'

/** The host ring pair over the tap fd: TX = write(2) per frame into the stack, RX = read(2) per frame from it. */
export function hostRing(host: RingHost, p: Pollable): void {
  const { g, nbufs, tx, rx, u8, stats, n, lim, bs } = ringPair(host, host.geometry.nRings)
  const valid = (b: number): boolean => b >= 2 && b < nbufs
  const fd = p.fd.fd
  if (tx) {
    const bufBase = tx.byteOffset + tx.bufOfs
    // a NS_MOREFRAG chain is gathered here and written as one frame
    const gather = host.take(gatherBytes(bs))
    const chain = new Int32Array(3) // walkChain's result
    let hwcur = 0
    host.setDriver(nicRingSlot(g, true, g.nRings), {
      sync: () => {
        const head = tx.head
        if (head > lim) throw new NetmapError('SyncError', `txsync prologue: head ${head} out of range`)
        let errs = 0
        let lastErr = 0
        /**
         * Every failed write is counted; a full or down tap or a runt frame is dropped quietly (the stack would drop
         * it too), anything else — and a packet the ring itself made bad — is also thrown once after the sync.
         */
        const countWriteError = (r: number, ours: boolean): void => {
          stats.txErrors++
          stats.txLastErrno = -r
          if (ours || (r !== -EAGAIN && r !== -ENOBUFS && r !== -EIO && r !== -EINVAL && r !== -ENOMEM)) {
            errs++
            lastErr = -r
          }
        }
        let k = hwcur
        while (k !== head) {
          if ((tx.slotFlags(k) & NS_MOREFRAG) === 0) {
            // one slot: written from its buffer
            const len = tx.len(k)
            const bi = tx.bufIdx(k)
            const r = !valid(bi) ? -EINVAL : len > bs ? -EMSGSIZE : binding.write(fd, u8, bufBase + bi * bs, len)
            if (r < 0) countWriteError(r, !valid(bi))
            k = k === lim ? 0 : k + 1
            continue
          }
          if (!walkChain(tx, k, head, nbufs, chain)) break // an unfinished chain waits for its last fragment
          const e = chain[0]!
          const bad = chain[2]!
          if (bad === 0) gatherChain(tx, k, e, u8, gather) // then written as one frame
          const r = bad !== 0 ? -bad : binding.write(fd, u8, gather, chain[1]!)
          if (r < 0) countWriteError(r, bad !== 0)
          k = e
        }
        hwcur = k
        tx.tail = k === 0 ? lim : k - 1
        if (errs > 0) {
          throw new NetmapError(
            'Io',
            `write to tap dropped ${errs} frame${errs === 1 ? '' : 's'}: errno ${lastErr} (${errnoName(lastErr)})`,
          )
        }
      },
      wait: (signal) => p.wait('writable', signal),
      ready: () => false,
    })
  }
  if (rx) {
    const bufBase = rx.byteOffset + rx.bufOfs
    // any frame a tap without IFF_VNET_HDR delivers (MTU ≤ 65535, plus headers) fits; longer ones than a buffer
    // become NS_MOREFRAG chains over the ring's buffers
    const scratch = host.take(TAP_READ_BYTES)
    const stamp = tsWriter(rx)
    let hwtail = 0
    /** Bytes of a frame read but not yet in the ring (it needed more slots than were free), or 0. */
    let pending = 0
    const hostPendingFits = (): boolean => {
      return fragments(pending, bs) <= rxRoom(rx.head, hwtail, n)
    }
    host.setDriver(nicRingSlot(g, false, g.nRings), {
      sync: () => {
        const head = rx.head
        if (head > lim) throw new NetmapError('SyncError', `rxsync prologue: head ${head} out of range`)
        let room = rxRoom(head, hwtail, n)
        let err = 0
        while (room > 0) {
          let len = pending
          if (len === 0) {
            const r = binding.read(fd, u8, scratch, TAP_READ_BYTES)
            if (r <= 0) {
              if (r !== 0 && r !== -EAGAIN) err = -r
              break
            }
            len = r
          }
          const frags = fragments(len, bs)
          if (frags > lim) {
            pending = 0
            stats.rxTruncated++ // longer than the whole ring could hold
            continue
          }
          if (frags > room) {
            pending = len
            break
          }
          let bad = -1
          for (let f = 0, t = hwtail; f < frags && bad < 0; f++, t = t === lim ? 0 : t + 1) {
            if (!valid(rx.bufIdx(t))) bad = t
          }
          if (bad >= 0) {
            pending = len
            rx.tail = hwtail
            throw badBuffer('host rxsync', bad, rx.bufIdx(bad))
          }
          pending = 0
          for (let f = 0, o = 0; f < frags; f++) {
            const m = Math.min(bs, len - o)
            u8.copyWithin(bufBase + rx.bufIdx(hwtail) * bs, scratch + o, scratch + o + m)
            rx.setLen(hwtail, m)
            rx.setSlotFlags(hwtail, f < frags - 1 ? NS_MOREFRAG : 0)
            o += m
            hwtail = hwtail === lim ? 0 : hwtail + 1
          }
          room -= frags
        }
        rx.tail = hwtail
        stamp()
        if (err !== 0) throw new NetmapError('Io', `read from tap failed: errno ${err} (${errnoName(err)})`)
      },
      wait: (signal) => (pending > 0 && hostPendingFits() ? RESOLVED_WAIT : p.wait('readable', signal)),
      ready: () => false,
    })
  }
}
