// The XSKMAP redirect program (6 instructions, raw bytes, loaded with bpf(2) through @x/native) and its attachment:
// one per interface per process, shared by every queue's socket, reference-counted, attached with a bpf_link so it
// detaches when the last socket closes, and when the process exits (the kernel closes the link fd).
import {
  bpfInsns,
  bpfLinkCreate,
  bpfMapCreate,
  bpfMapDelete,
  bpfMapUpdate,
  bpfProgLoad,
  ifQueues,
  K,
  type OwnedFd,
  u32Key,
} from '@x/native'
import { NethunsError, wrapSystemError } from './errors.js'

export type XdpMode = 'skb' | 'drv'

/**
 * `return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS)` (libbpf v0.8 prog_redirect_flags): frames of
 * queues without a socket pass to the stack instead of being aborted (C nethuns and nethuns-rs use flags 0).
 */
export function redirectProgram(mapFd: number): Uint8Array {
  return bpfInsns([
    [0x61, 2, 1, 16, 0], // ldxw r2, [r1 + 16]   ; xdp_md.rx_queue_index
    [0x18, 1, K('BPF_PSEUDO_MAP_FD'), 0, mapFd], // lddw r1, map_fd
    [0x00, 0, 0, 0, 0], //                        ; second half of lddw
    [0xb7, 3, 0, 0, K('XDP_PASS')], // mov64 r3, XDP_PASS
    [0x85, 0, 0, 0, 51], // call bpf_redirect_map
    [0x95, 0, 0, 0, 0], // exit
  ])
}

interface Attachment {
  readonly ifindex: number
  readonly mode: XdpMode
  readonly maxEntries: number
  readonly map: OwnedFd
  readonly prog: OwnedFd
  readonly link: OwnedFd
  readonly queues: Set<number>
}

// Per process (per thread: module state is per isolate, so a Worker attaching the same interface gets EBUSY).
const attachments = new Map<number, Attachment>()

/** Interfaces with this process's program attached, and the queues registered (for tests and debugging). */
export function xdpAttachments(): Array<{ ifindex: number; mode: XdpMode; queues: number[] }> {
  return [...attachments.values()].map((a) => ({ ifindex: a.ifindex, mode: a.mode, queues: [...a.queues] }))
}

export interface XskRegistration {
  release(): void
}

/** Puts socket `xskFd` in the interface's XSKMAP at `queue`, attaching the program first if needed. */
export function registerXsk(
  ifname: string,
  ifindex: number,
  queue: number,
  xskFd: number,
  mode: XdpMode,
  portspec: string,
): XskRegistration {
  let a = attachments.get(ifindex)
  if (a !== undefined && a.mode !== mode) {
    throw new NethunsError(
      'EEXIST',
      `af_xdp '${portspec}': this process attached its XDP program in ${a.mode} mode; all its sockets on the interface must use that mode`,
      { errno: -17, portspec },
    )
  }
  if (a === undefined) a = attach(ifname, ifindex, queue, mode, portspec)
  if (queue >= a.maxEntries) {
    throw new NethunsError('ERR_NETHUNS_QUEUE', `af_xdp '${portspec}': queue ${queue} is not below ${a.maxEntries}`)
  }
  try {
    bpfMapUpdate(a.map, u32Key(queue), u32Key(xskFd))
  } catch (e) {
    if (a.queues.size === 0) detach(a)
    throw wrapSystemError(e, portspec, 'af_xdp: cannot register the socket in the XSKMAP of')
  }
  a.queues.add(queue)
  const att = a
  let done = false
  return {
    release() {
      if (done) return
      done = true
      try {
        bpfMapDelete(att.map, u32Key(queue))
      } catch {
        // the map goes away with the program anyway
      }
      att.queues.delete(queue)
      if (att.queues.size === 0) detach(att)
    },
  }
}

function attach(ifname: string, ifindex: number, queue: number, mode: XdpMode, portspec: string): Attachment {
  const maxEntries = Math.max(ifQueues(ifname).rx, queue + 1)
  let map: OwnedFd | undefined
  let prog: OwnedFd | undefined
  try {
    map = bpfMapCreate({ type: K('BPF_MAP_TYPE_XSKMAP'), keySize: 4, valueSize: 4, maxEntries, name: 'xsks_map' })
    prog = bpfProgLoad({
      type: K('BPF_PROG_TYPE_XDP'),
      insns: redirectProgram(map.fd),
      license: 'GPL',
      name: 'nethuns_xsk',
      expectedAttachType: K('BPF_XDP'),
    })
    const flags = mode === 'drv' ? K('XDP_FLAGS_DRV_MODE') : K('XDP_FLAGS_SKB_MODE')
    let link: OwnedFd
    try {
      link = bpfLinkCreate(prog, ifindex, K('BPF_XDP'), flags)
    } catch (e) {
      const code = (e as { code?: string }).code
      if (code === 'EBUSY' || code === 'EEXIST') {
        throw new NethunsError(
          code,
          `af_xdp '${portspec}': another XDP program is attached to the interface (${code}); nethuns attaches its own`,
          { errno: code === 'EBUSY' ? -16 : -17, syscall: 'bpf(BPF_LINK_CREATE)', portspec, cause: e },
        )
      }
      throw e
    }
    const a: Attachment = { ifindex, mode, maxEntries, map, prog, link, queues: new Set() }
    attachments.set(ifindex, a)
    return a
  } catch (e) {
    prog?.close()
    map?.close()
    throw wrapSystemError(e, portspec, `af_xdp: cannot attach the XDP program (${mode} mode) to`)
  }
}

function detach(a: Attachment): void {
  attachments.delete(a.ifindex)
  a.link.close() // the last fd of the link: the program leaves the interface
  a.prog.close()
  a.map.close()
}
