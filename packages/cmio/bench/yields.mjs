// Yields per second through the emulated device, side by side with the protocol's floor:
//   - a child-process guest doing blocking yield_() (and then yieldAsync()) against a CmioHost on this thread;
//   - ref: the same 8-byte SEQPACKET round trip between two C processes (bench/ref/seqpacket_pingpong.c);
//   - the in-process backend (no socket at all), against a plain JS call for scale.
// Each figure is the best of 3 runs (a shared 2-vCPU machine is noisy).
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Cmio, CmioHost } from '@x/cmio'

const here = fileURLToPath(new URL('.', import.meta.url))
const out = fileURLToPath(new URL('../../../.cache/bench/', import.meta.url))
mkdirSync(out, { recursive: true })
const N = 200_000
const fmt = (x) => `${Math.round(x).toLocaleString('en-US')}/s`

const dir = mkdtempSync(join(tmpdir(), 'xcmio-bench-'))
const sock = join(dir, 'cmio.sock')
const host = CmioHost.listen(sock)
host.onYield(() => ({ reason: 1 }))

function guest(mode) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(here, 'yield-guest.mjs'), sock, String(N), mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let s = ''
    p.stdout.on('data', (d) => {
      s += d
    })
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(s).perSecond) : reject(new Error(`guest exited ${code}`))))
  })
}

let ref = Number.NaN
try {
  execFileSync('cc', ['-O2', '-o', `${out}seqpacket_pingpong`, `${here}ref/seqpacket_pingpong.c`])
  for (let i = 0; i < 3; i++) {
    const r = Number(
      execFileSync(`${out}seqpacket_pingpong`, [String(N)])
        .toString()
        .trim(),
    )
    ref = Number.isNaN(ref) ? r : Math.max(ref, r)
  }
} catch (e) {
  console.log(`cmio: C reference unavailable (${e.message.split('\n')[0]})`)
}

try {
  let sync = 0
  let asyncRate = 0
  for (let i = 0; i < 3; i++) {
    sync = Math.max(sync, await guest('sync'))
    asyncRate = Math.max(asyncRate, await guest('async'))
  }
  const ratio = (x) => (Number.isFinite(ref) ? `${(x / ref).toFixed(2)}x` : 'n/a')
  console.log(
    `cmio: emulated yield_ (blocking guest process ↔ CmioHost): ${fmt(sync)} | ref C SEQPACKET 8-byte round trip: ${fmt(ref)} | ratio ${ratio(sync)} | goal ≥ 0.5x`,
  )
  console.log(
    `cmio: emulated yieldAsync (event loop guest ↔ CmioHost): ${fmt(asyncRate)} | ref C SEQPACKET 8-byte round trip: ${fmt(ref)} | ratio ${ratio(asyncRate)} | goal ≥ 0.4x`,
  )
} finally {
  host.close()
  rmSync(dir, { recursive: true, force: true })
}

// in-process: the handler is a plain call on this thread
const c = Cmio.open({ backend: 'inprocess', handler: () => ({ reason: 1 }) })
const y = { dev: 2, cmd: 1, reason: 0x43, data: 0 }
const M = 1_000_000
for (let i = 0; i < 10_000; i++) c.yield_(y)
let t = process.hrtime.bigint()
for (let i = 0; i < M; i++) c.yield_(y)
const inproc = M / (Number(process.hrtime.bigint() - t) / 1e9)
c.close()
const f = (o) => ({ reason: 1, length: o.data })
const o = { dev: 2, cmd: 1, reason: 0x43, data: 0 }
t = process.hrtime.bigint()
for (let i = 0; i < M; i++) f(o)
const js = M / (Number(process.hrtime.bigint() - t) / 1e9)
console.log(
  `cmio: in-process yield_ (pack, engine, unpack): ${fmt(inproc)} | ref plain JS handler call: ${fmt(js)} | ratio ${(inproc / js).toFixed(3)}x | goal ≥ 1,000,000/s`,
)
