// A real riscv64 guest binary against the emulated device: test/fixtures/guest-riscv64.c, written against the
// protocol alone, cross-compiled (static) with Debian's riscv64-linux-gnu-gcc and run under qemu-user's
// qemu-riscv64, talks to a CmioHost on this thread. Skipped without the cross compiler or qemu-user.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CmioHost, type CmioRequest } from '@x/cmio'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const has = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
const ok = has('riscv64-linux-gnu-gcc') && has('qemu-riscv64')
const why = ok ? 'riscv64-linux-gnu-gcc + qemu-riscv64' : 'needs g++-riscv64-linux-gnu and qemu-user'

let dir = ''
let bin = ''
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xcmio-rv-'))
  bin = join(dir, 'guest')
  if (ok) {
    execFileSync('riscv64-linux-gnu-gcc', [
      '-static',
      '-O2',
      '-o',
      bin,
      fileURLToPath(new URL('./fixtures/guest-riscv64.c', import.meta.url)),
    ])
  }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe.skipIf(!ok)(`a riscv64 guest program on the emulated device (${why})`, () => {
  it('maps the buffers at the real addresses and gets the emulator semantics', async () => {
    const sock = join(dir, 'cmio.sock')
    using host = CmioHost.listen(sock)
    const seen: string[] = []
    host.onYield((r: CmioRequest) => {
      seen.push(`${r.cmd}:${r.reason.toString(16)}:${Buffer.from(r.data).toString()}`)
      if (r.cmd === 1) return { reason: 0x77, data: Buffer.from(`echo ${Buffer.from(r.data)}`) }
    })
    const p = spawn('qemu-riscv64', [bin, sock], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d) => {
      out += d
    })
    p.stderr.on('data', (d) => {
      out += d
    })
    const code = await new Promise((r) => p.once('close', r))
    expect(out).toMatch(/setup tx=0x60800000\+0x200000 rx=0x60000000\+0x200000 at 0x60800000 0x60000000/)
    expect(out).toMatch(/automatic r=0 reply=0x0200000000000000/)
    expect(out).toMatch(/manual r=0 reply=0x0000007700000012 rx=echo riscv64 hello/)
    expect(out).toMatch(/ignored r=0 reply=0000000000000000|ignored r=0 reply=0$/m)
    expect(out).toMatch(/done/)
    expect(code).toBe(0)
    expect(seen).toEqual(['0:4:report', '1:42:riscv64 hello'])
  }, 60_000)
})
