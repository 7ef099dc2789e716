// A minimal ELF64 reader for the prebuild checks: header fields and the defined dynamic symbols.
export interface ElfInfo {
  class64: boolean
  littleEndian: boolean
  type: number // 3 = ET_DYN
  machine: number // 243 = EM_RISCV, 62 = EM_X86_64, 183 = EM_AARCH64
  /** Defined global dynamic symbols (from .dynsym). */
  exports: string[]
  needed: string[]
}

export function readElf(b: Buffer): ElfInfo {
  if (b.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file')
  const class64 = b[4] === 2
  const littleEndian = b[5] === 1
  if (!class64 || !littleEndian) return { class64, littleEndian, type: 0, machine: 0, exports: [], needed: [] }
  const type = b.readUInt16LE(16)
  const machine = b.readUInt16LE(18)
  const shoff = Number(b.readBigUInt64LE(0x28))
  const shentsize = b.readUInt16LE(0x3a)
  const shnum = b.readUInt16LE(0x3c)
  const sections = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize
    return {
      type: b.readUInt32LE(o + 4),
      offset: Number(b.readBigUInt64LE(o + 0x18)),
      size: Number(b.readBigUInt64LE(o + 0x20)),
      link: b.readUInt32LE(o + 0x28),
      entsize: Number(b.readBigUInt64LE(o + 0x38)),
    }
  })
  const str = (sec: { offset: number }, at: number): string => {
    const start = sec.offset + at
    return b.toString('latin1', start, b.indexOf(0, start))
  }
  const exports: string[] = []
  const needed: string[] = []
  for (const s of sections) {
    if (s.type === 11) {
      // SHT_DYNSYM: Elf64_Sym { u32 name; u8 info; u8 other; u16 shndx; u64 value; u64 size }
      const strtab = sections[s.link]!
      for (let o = s.offset; o < s.offset + s.size; o += s.entsize || 24) {
        const bind = b[o + 4]! >> 4
        const shndx = b.readUInt16LE(o + 6)
        if (shndx !== 0 && (bind === 1 || bind === 2)) exports.push(str(strtab, b.readUInt32LE(o)))
      }
    } else if (s.type === 6) {
      // SHT_DYNAMIC: Elf64_Dyn { i64 tag; u64 val }; DT_NEEDED = 1
      const strtab = sections[s.link]!
      for (let o = s.offset; o < s.offset + s.size; o += 16) {
        if (b.readBigInt64LE(o) === 1n) needed.push(str(strtab, Number(b.readBigUInt64LE(o + 8))))
      }
    }
  }
  return { class64, littleEndian, type, machine, exports, needed }
}
