// BPF filter strings (tcpdump syntax) compiled with libpcap (pcap_compile on a dead DLT_EN10MB handle) into classic
// BPF: attached in the kernel for af_packet (SO_ATTACH_FILTER) and pcap (pcap_setfilter), run per frame in the
// receive loop for af_xdp.
import { binding } from './binding.js'
import { NethunsError } from './errors.js'

/** True when libpcap is available: built with pcap.h and found at run time (dlopen). */
export const havePcap: boolean = typeof binding.bpf_compile === 'function'

/** Compiles `expr` to struct sock_filter[] bytes (8 per instruction). Throws ERR_NETHUNS_BPF on a syntax error. */
export function compileFilter(expr: string, snaplen = 262144): Uint8Array {
  if (!havePcap || binding.bpf_compile === undefined) {
    throw new NethunsError(
      'ERR_NETHUNS_NOT_AVAILABLE',
      'BPF filter strings need libpcap, which is not available (libpcap0.8 not installed, or built without pcap.h)',
      {
        kind: 'Pcap',
      },
    )
  }
  const r = binding.bpf_compile(expr, snaplen, 1)
  if (typeof r === 'string') {
    throw new NethunsError('ERR_NETHUNS_BPF', `bad filter '${expr}': ${r}`, { kind: 'Pcap' })
  }
  return r
}

/** The instructions of a compiled program, as tcpdump -d would number them (for debugging). */
export function filterInstructions(prog: Uint8Array): Array<{ code: number; jt: number; jf: number; k: number }> {
  const dv = new DataView(prog.buffer, prog.byteOffset, prog.byteLength)
  const out: Array<{ code: number; jt: number; jf: number; k: number }> = []
  for (let o = 0; o + 8 <= prog.byteLength; o += 8) {
    out.push({
      code: dv.getUint16(o, true),
      jt: dv.getUint8(o + 2),
      jf: dv.getUint8(o + 3),
      k: dv.getUint32(o + 4, true),
    })
  }
  return out
}
