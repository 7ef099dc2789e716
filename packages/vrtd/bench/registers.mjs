// Register read/write rate through a BarFile (a BAR lent by the daemon, mapped MAP_SHARED): one access bracket
// around many 32-bit accesses, one bracket per access (what libvrt's Kernel does per register), and 64-bit
// accesses; next to the same loop over a plain Uint32Array view of the mapping (the floor: no checks).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Daemon, Session, simulatorConfig } from '@x/vrtd'

const dir = mkdtempSync(join(tmpdir(), 'vrtd-bench-'))
const daemon = Daemon.start({ configText: simulatorConfig(), socket: join(dir, 'v.sock'), log: { level: 'error' } })
const s = await Session.connect({ path: daemon.path })
const bf = await (await (await s.getDevice(0)).getBar(0)).openBarFile()

const WORDS = 4096 // 16 KiB of registers, cycled
function rate(label, fn, n) {
  fn(Math.min(n, 100_000)) // warm up (JIT)
  let best = 0
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint()
    fn(n)
    best = Math.max(best, n / (Number(process.hrtime.bigint() - t) / 1e9))
  }
  return { label, best }
}

const results = []
results.push(
  rate(
    'write32 + read32 in one access',
    (n) => {
      bf.update((a) => {
        for (let i = 0; i < n; i++) {
          const off = (i & (WORDS - 1)) << 2
          a.write32(off, i >>> 0)
          if (a.read32(off) !== i >>> 0) throw new Error('mismatch')
        }
      })
    },
    4_000_000,
  ),
)
const raw = rate(
  'plain Uint32Array (no bracket, no checks)',
  (n) => {
    const u32 = bf.read((a) => new Uint32Array(a.bytes().buffer, 0, WORDS))
    for (let i = 0; i < n; i++) {
      const idx = i & (WORDS - 1)
      u32[idx] = i >>> 0
      if (u32[idx] !== i >>> 0) throw new Error('mismatch')
    }
  },
  4_000_000,
)
results.push(
  rate(
    'read64 in one access',
    (n) => {
      let x = 0n
      bf.read((a) => {
        for (let i = 0; i < n; i++) x ^= a.read64((i & (WORDS / 2 - 1)) << 3)
      })
      return x
    },
    2_000_000,
  ),
)
results.push(
  rate(
    'writeRegister + readRegister (one bracket each)',
    (n) => {
      for (let i = 0; i < n; i++) {
        const off = (i & (WORDS - 1)) << 2
        bf.writeRegister(off, i >>> 0)
        bf.readRegister(off)
      }
    },
    1_000_000,
  ),
)

const m = (x) => `${(x / 1e6).toFixed(1)}M ops/s`
const pairs = (x) => x * 2 // write + read per iteration
console.log(
  `vrtd BarFile register write+read: ${m(pairs(results[0].best))} | ref plain Uint32Array on the same mapping: ${m(pairs(raw.best))} | ratio ${(raw.best / results[0].best).toFixed(2)}x`,
)
console.log(`vrtd BarFile read64: ${m(results[1].best)}`)
console.log(
  `vrtd BarFile bracketed writeRegister+readRegister: ${m(pairs(results[2].best))} (memfd BAR: the sync ioctl is off after its first ENOTTY)`,
)
bf.close()
s.close()
daemon.close()
rmSync(dir, { recursive: true, force: true })
