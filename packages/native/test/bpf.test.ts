// bpf(2) wrappers: an array map round trip, an XSKMAP, a trivial XDP program loaded (not attached), and a rejected
// program's verifier log. Needs root (CAP_BPF); nothing is attached to any interface.
import { describe, expect, it } from 'vitest'
import { bpfMapCreate, bpfMapDelete, bpfMapLookup, bpfMapUpdate, bpfProgLoad, K, u32Key } from '../src/index.js'
import { isRoot } from './helpers.js'

const insn = (code: number, regs: number, off: number, imm: number): number[] => {
  const b = new Uint8Array(8)
  const dv = new DataView(b.buffer)
  dv.setUint8(0, code)
  dv.setUint8(1, regs)
  dv.setInt16(2, off, true)
  dv.setInt32(4, imm, true)
  return [...b]
}

describe.skipIf(!isRoot)('bpf(2) (needs root)', () => {
  it('creates an array map, updates, looks up and deletes', () => {
    const m = bpfMapCreate({ type: K('BPF_MAP_TYPE_HASH'), keySize: 4, valueSize: 4, maxEntries: 8, name: 'x_test' })
    try {
      const out = new Uint8Array(4)
      expect(bpfMapLookup(m, u32Key(3), out)).toBe(false)
      bpfMapUpdate(m, u32Key(3), u32Key(0xdeadbeef))
      expect(bpfMapLookup(m, u32Key(3), out)).toBe(true)
      expect(new DataView(out.buffer).getUint32(0, true)).toBe(0xdeadbeef)
      expect(bpfMapDelete(m, u32Key(3))).toBe(true)
      expect(bpfMapDelete(m, u32Key(3))).toBe(false)
    } finally {
      m.close()
    }
  })

  it('creates an XSKMAP', () => {
    const m = bpfMapCreate({ type: K('BPF_MAP_TYPE_XSKMAP'), keySize: 4, valueSize: 4, maxEntries: 4 })
    expect(m.fd).toBeGreaterThan(2)
    m.close()
  })

  it('loads an XDP program (r0 = XDP_PASS; exit) and reports a rejected one with the verifier log', () => {
    const pass = Uint8Array.from([...insn(0xb7, 0, 0, K('XDP_PASS')), ...insn(0x95, 0, 0, 0)])
    const p = bpfProgLoad({
      type: K('BPF_PROG_TYPE_XDP'),
      insns: pass,
      name: 'x_pass',
      expectedAttachType: K('BPF_XDP'),
    })
    expect(p.fd).toBeGreaterThan(2)
    p.close()
    const bad = Uint8Array.from(insn(0x95, 0, 0, 0)) // exit with r0 uninitialised
    let err: { code?: string; syscall?: string; log?: string } = {}
    try {
      bpfProgLoad({ type: K('BPF_PROG_TYPE_XDP'), insns: bad })
    } catch (e) {
      err = e as typeof err
    }
    expect(err.code).toBe('EACCES')
    expect(err.syscall).toBe('bpf(BPF_PROG_LOAD)')
    expect(err.log).toMatch(/R0 !read_ok/)
  })
})
