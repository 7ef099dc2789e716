// qfilter.ts: the socket filter that gives each AF_PACKET socket of a multi-queue NIC port the frames of one RX
// queue only. An eBPF BPF_PROG_TYPE_SOCKET_FILTER program (loaded with @x/native's bpfProgLoad, attached with
// SO_ATTACH_BPF) reads __sk_buff.queue_mapping (skb->queue_mapping, what classic BPF calls SKF_AD_QUEUE; a classic
// filter would need a pointer in struct sock_fprog, which JS cannot pass). Drivers that record the RX queue
// (skb_record_rx_queue: real NICs, TUN/TAP) store queue + 1 there; veth hands over the sender's TX queue index
// unchanged, which is also the index of the RX queue it delivers to (veth_xmit: rq[skb_get_queue_mapping(skb)]),
// measured on Linux 6.18. Values past the queue count wrap (mod n), so every frame reaches exactly one ring.
import { existsSync } from 'node:fs'
import { type BpfInsn, bpfInsns, bpfProgLoad, K, type OwnedFd } from '@x/native'

/** struct __sk_buff: queue_mapping. */
const SKB_QUEUE_MAPPING = 12

/**
 * Whether skb->queue_mapping of a received frame is the RX queue + 1 (drivers calling skb_record_rx_queue: a bus
 * device, or TUN/TAP) or the RX queue itself (veth and other software devices that pass the TX queue through).
 */
export function queueBase(ifname: string): 0 | 1 {
  const d = `/sys/class/net/${ifname}`
  return existsSync(`${d}/device`) || existsSync(`${d}/tun_flags`) ? 1 : 0
}

/** The eBPF instructions: accept (0xffffffff bytes) iff ((queue_mapping - base) mod n) == ring, else drop (0). */
export function queueFilterInsns(ring: number, n: number, base: 0 | 1): Uint8Array {
  const prog: BpfInsn[] = [
    [0x61, 0, 1, SKB_QUEUE_MAPPING, 0], // r0 = *(u32 *)(r1 + queue_mapping)
  ]
  if (base === 1) {
    prog.push([0x15, 0, 0, 1, 0]) // if r0 == 0 goto +1 (not recorded: ring 0)
    prog.push([0x17, 0, 0, 0, 1]) // r0 -= 1
  }
  prog.push(
    [0x97, 0, 0, 0, n], // r0 %= n
    [0x55, 0, 0, 2, ring], // if r0 != ring goto drop
    [0xb4, 0, 0, 0, -1], // w0 = 0xffffffff: keep the whole frame
    [0x95, 0, 0, 0, 0], // exit
    [0xb7, 0, 0, 0, 0], // drop: r0 = 0
    [0x95, 0, 0, 0, 0], // exit
  )
  return bpfInsns(prog)
}

/** Loads the filter for ring `ring` of `n` → its program fd (attach with SO_ATTACH_BPF, then close). */
export function loadQueueFilter(ring: number, n: number, base: 0 | 1): OwnedFd {
  return bpfProgLoad({
    type: K('BPF_PROG_TYPE_SOCKET_FILTER'),
    insns: queueFilterInsns(ring, n, base),
    name: `nm_rxq${ring}`,
  })
}

/** SO_ATTACH_BPF (asm-generic/socket.h; not among @x/native's constants). */
export const SO_ATTACH_BPF = 50
