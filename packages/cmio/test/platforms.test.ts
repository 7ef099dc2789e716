// The addon is built for the guest's architecture too: a Cartesi Machine is riscv64. The prebuild (or, when it has
// not been made, a direct cross-compile of the same sources) must be a RISC-V shared object exporting the N-API
// module entry. Needs Debian's g++-riscv64-linux-gnu unless prebuilds/linux-riscv64 exists.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readElf } from './elf.js'

const pkg = fileURLToPath(new URL('..', import.meta.url))
const prebuilt = (arch: string): string | null => {
  const d = join(pkg, 'prebuilds', `linux-${arch}`)
  if (!existsSync(d)) return null
  const f = readdirSync(d).find((n) => n.endsWith('.node'))
  return f ? join(d, f) : null
}
const hasCross = (() => {
  try {
    execFileSync('riscv64-linux-gnu-g++', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
const riscv = prebuilt('riscv64')
const canCheck = riscv !== null || hasCross
const reason = riscv ? 'prebuilds/linux-riscv64' : hasCross ? 'cross-compiled now' : 'needs g++-riscv64-linux-gnu'

function crossCompile(): { file: string; cleanup: () => void } {
  const require = createRequire(import.meta.url)
  const out = mkdtempSync(join(tmpdir(), 'xcmio-rv-'))
  const file = join(out, 'binding.node')
  const napi = require('node-addon-api').include_dir as string
  const xnative = require('@x/native/gyp').include_dir as string
  const nodeInclude = ['/usr/include/node', '/usr/local/include/node'].find((d) => existsSync(join(d, 'node_api.h')))
  if (!nodeInclude) throw new Error('no Node headers')
  const src = ['binding.cc', 'kernel.cc', 'emulated.cc'].map((f) => join(pkg, 'src', 'native', f))
  execFileSync('riscv64-linux-gnu-g++', [
    '-shared',
    '-fPIC',
    '-O2',
    '-std=c++17',
    '-fvisibility=hidden',
    '-D_GNU_SOURCE',
    '-DNAPI_VERSION=8',
    '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    '-DNAPI_CPP_EXCEPTIONS',
    `-I${nodeInclude}`,
    `-I${napi}`,
    `-I${xnative}`,
    ...src,
    '-o',
    file,
  ])
  return { file, cleanup: () => rmSync(out, { recursive: true, force: true }) }
}

describe.skipIf(!canCheck)(`riscv64 addon (${reason})`, () => {
  it('is a little-endian ELF64 RISC-V shared object exporting napi_register_module_v1', () => {
    const built = riscv ? { file: riscv, cleanup: () => {} } : crossCompile()
    try {
      const elf = readElf(readFileSync(built.file))
      expect(elf.class64).toBe(true)
      expect(elf.littleEndian).toBe(true)
      expect(elf.type).toBe(3) // ET_DYN
      expect(elf.machine).toBe(243) // EM_RISCV
      expect(elf.exports).toContain('napi_register_module_v1')
      expect(elf.needed.every((n) => /^(libc|libstdc\+\+|libm|libgcc_s|ld-linux)/.test(n))).toBe(true)
    } finally {
      built.cleanup()
    }
  }, 120_000)
})

describe('host prebuilds', () => {
  it.skipIf(prebuilt('x64') === null)('linux-x64 is an x86-64 shared object with the same entry', () => {
    const elf = readElf(readFileSync(prebuilt('x64')!))
    expect([elf.type, elf.machine]).toEqual([3, 62])
    expect(elf.exports).toContain('napi_register_module_v1')
  })
  it.skipIf(prebuilt('arm64') === null)('linux-arm64 is an AArch64 shared object with the same entry', () => {
    const elf = readElf(readFileSync(prebuilt('arm64')!))
    expect([elf.type, elf.machine]).toEqual([3, 183])
    expect(elf.exports).toContain('napi_register_module_v1')
  })
})
