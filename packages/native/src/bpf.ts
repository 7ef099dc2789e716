// bpf(2) without libbpf: maps, program loading (the verifier log comes with the error) and links. Every object is
// an OwnedFd: closing the last fd of a link detaches its program, closing a map or program frees it.
import { binding, K } from './binding.js'
import { type FdLike, fdOf, OwnedFd } from './fd.js'

export interface BpfMapOptions {
  /** BPF_MAP_TYPE_* (e.g. K('BPF_MAP_TYPE_XSKMAP')). */
  type: number
  keySize: number
  valueSize: number
  maxEntries: number
  flags?: number
  /** Up to 15 characters, shown by bpftool. */
  name?: string
}

/** BPF_MAP_CREATE → the map's fd. */
export function bpfMapCreate(o: BpfMapOptions): OwnedFd {
  return new OwnedFd(
    binding.bpf_map_create(o.type, o.keySize, o.valueSize, o.maxEntries, o.flags ?? 0, o.name),
    'bpf map',
  )
}

/** A 4-byte little-endian key or value (XSKMAP slots, array indices, fds). */
export function u32Key(v: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, v >>> 0, true)
  return b
}

/** BPF_MAP_UPDATE_ELEM (flags: K('BPF_ANY') by default, BPF_NOEXIST, BPF_EXIST). */
export function bpfMapUpdate(map: FdLike, key: Uint8Array, value: Uint8Array, flags = K('BPF_ANY')): void {
  binding.bpf_map_update_elem(fdOf(map), key, value, flags)
}

/** BPF_MAP_LOOKUP_ELEM into `out`: false when the key has no value. */
export function bpfMapLookup(map: FdLike, key: Uint8Array, out: Uint8Array): boolean {
  return binding.bpf_map_lookup_elem(fdOf(map), key, out)
}

/** BPF_MAP_DELETE_ELEM: false when the key was not there. */
export function bpfMapDelete(map: FdLike, key: Uint8Array): boolean {
  return binding.bpf_map_delete_elem(fdOf(map), key)
}

/** One eBPF instruction as the kernel's struct bpf_insn names it: [code, dst_reg, src_reg, off, imm]. */
export type BpfInsn = readonly [code: number, dst: number, src: number, off: number, imm: number]

/**
 * struct bpf_insn[] for bpfProgLoad: 8 bytes per instruction (code u8, dst_reg | src_reg << 4, off i16 LE, imm i32
 * LE). A 64-bit immediate load (lddw, code 0x18) takes two entries, the second [0, 0, 0, 0, high 32 bits].
 */
export function bpfInsns(insns: readonly BpfInsn[]): Uint8Array {
  const b = new Uint8Array(insns.length * 8)
  const dv = new DataView(b.buffer)
  insns.forEach(([code, dst, src, off, imm], k) => {
    dv.setUint8(k * 8, code)
    dv.setUint8(k * 8 + 1, (dst & 0xf) | ((src & 0xf) << 4))
    dv.setInt16(k * 8 + 2, off, true)
    dv.setInt32(k * 8 + 4, imm | 0, true)
  })
  return b
}

export interface BpfProgOptions {
  /** BPF_PROG_TYPE_* (e.g. K('BPF_PROG_TYPE_XDP')). */
  type: number
  /** struct bpf_insn[]: 8 bytes per instruction (code, dst | src << 4, off i16 LE, imm i32 LE). */
  insns: Uint8Array
  /** Default 'GPL' (needed for GPL-only helpers such as bpf_redirect_map). */
  license?: string
  name?: string
  /** BPF_* attach type the program is loaded for (e.g. K('BPF_XDP')); default 0. */
  expectedAttachType?: number
}

/** BPF_PROG_LOAD → the program's fd. A rejected program throws with the verifier's text in `error.log`. */
export function bpfProgLoad(o: BpfProgOptions): OwnedFd {
  const fd = binding.bpf_prog_load(o.type, o.insns, o.license ?? 'GPL', o.name, o.expectedAttachType ?? 0)
  return new OwnedFd(fd, 'bpf program')
}

/** BPF_LINK_CREATE → the link's fd; the program stays attached until the last fd of the link closes. */
export function bpfLinkCreate(prog: FdLike, targetIfindex: number, attachType: number, flags = 0): OwnedFd {
  return new OwnedFd(binding.bpf_link_create(fdOf(prog), targetIfindex, attachType, flags), 'bpf link')
}
