// bpf(2) wrappers: an array map round trip, an XSKMAP, a trivial XDP program loaded (not attached), and a rejected
// program's verifier log. Needs root (CAP_BPF); nothing is attached to any interface.
import { describe, expect, it } from 'vitest'
import {
  bpfInsns,
  bpfMapCreate,
  bpfMapDelete,
  bpfMapLookup,
  bpfMapUpdate,
  bpfProgLoad,
  ifQueues,
  K,
  u32Key,
} from '../src/index.js'
import { isRoot } from './helpers.js'

describe('bpfInsns (struct bpf_insn encoding)', () => {
  it('packs code, dst | src << 4, off (i16 LE) and imm (i32 LE); lddw takes two entries', () => {
    const b = bpfInsns([
      [0x61, 2, 1, 16, 0],
      [0x18, 1, 1, 0, 0x01020304],
      [0, 0, 0, 0, 0],
      [0x55, 5, 0, -3, -1],
    ])
    expect(b.length).toBe(32)
    expect([...b.subarray(0, 8)]).toEqual([0x61, 0x12, 16, 0, 0, 0, 0, 0])
    expect([...b.subarray(8, 16)]).toEqual([0x18, 0x11, 0, 0, 4, 3, 2, 1])
    expect([...b.subarray(24, 32)]).toEqual([0x55, 0x05, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff])
    expect(bpfInsns([[0xb4, 0, 0, 0, 0xffffffff]]).subarray(4)).toEqual(Uint8Array.of(255, 255, 255, 255))
  })
})

describe('ifQueues (sysfs)', () => {
  it("counts lo's queues, and says 1/1 for an interface sysfs does not show", () => {
    const lo = ifQueues('lo')
    expect(lo.rx).toBeGreaterThanOrEqual(1)
    expect(lo.tx).toBeGreaterThanOrEqual(1)
    expect(ifQueues('no-such-if0')).toEqual({ rx: 1, tx: 1 })
  })
})

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
    const pass = bpfInsns([
      [0xb7, 0, 0, 0, K('XDP_PASS')],
      [0x95, 0, 0, 0, 0],
    ])
    const p = bpfProgLoad({
      type: K('BPF_PROG_TYPE_XDP'),
      insns: pass,
      name: 'x_pass',
      expectedAttachType: K('BPF_XDP'),
    })
    expect(p.fd).toBeGreaterThan(2)
    p.close()
    const bad = bpfInsns([[0x95, 0, 0, 0, 0]]) // exit with r0 uninitialised
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
