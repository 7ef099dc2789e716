// Pipe throughput: @x/netmap shm pipes (two worker threads over a SharedArrayBuffer; two processes over a /dev/shm
// region) at 60 B and 1500 B, batch 1/32/256, side by side with MessagePort postMessage (copy and transfer) and a C
// program moving the same packets through the same region. The JS ends use the rings' callback API (fill/drain); at
// 60 B batch 256 a line shows ends that walk the ring as the C program does (see peer.mjs). Run: node bench/pipe.mjs
// [--quick]
import { execFileSync, fork } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MessageChannel, Worker } from 'node:worker_threads'
import { createSharedPipe, NetmapBuilder, regionPath } from '@x/netmap'

const here = fileURLToPath(new URL('.', import.meta.url))
const peer = `${here}peer.mjs`
const quick = process.argv.includes('--quick')
// packets per run, the same for JS and C; the goal row's runs are long (0.3–0.5 s) so that the JIT's warm-up and a
// moment of host noise weigh little
const N = (size, batch) =>
  Math.round(
    (batch === 1 ? 400_000 : size > 1000 ? 1_000_000 : batch === 256 ? 40_000_000 : 4_000_000) / (quick ? 10 : 1),
  )

function fromWorker(data, transfer = []) {
  return new Promise((resolve, reject) => {
    const w = new Worker(peer, { workerData: data, transferList: transfer })
    w.once('exit', () => resolve({ exited: true }))
    w.on('message', (m) => m.mpps !== undefined && resolve(m))
    w.once('error', reject)
  })
}
function fromChild(data) {
  return new Promise((resolve, reject) => {
    const c = fork(peer, [JSON.stringify(data)])
    c.on('message', (m) => m.mpps !== undefined && resolve(m))
    c.once('error', reject)
  })
}
let uid = 0
async function threads(size, batch, api = '') {
  const count = N(size, batch)
  const p = `bt${process.pid}x${uid++}`
  const sab = createSharedPipe({ parent: p, id: '1', slots: 1024 })
  const [r] = await Promise.all([
    fromWorker({ role: `rx${api}`, spec: `netmap:${p}}1`, sab, count, size, batch }),
    fromWorker({ role: `tx${api}`, spec: `netmap:${p}{1`, sab, count, size, batch }),
  ])
  return r
}
async function processes(size, batch) {
  const count = N(size, batch)
  const p = `bp${process.pid}x${uid++}`
  const [r] = await Promise.all([
    fromChild({ role: 'rx', spec: `netmap:${p}}1`, count, size, batch }),
    new Promise((res) =>
      fork(peer, [JSON.stringify({ role: 'tx', spec: `netmap:${p}{1`, count, size, batch })]).once('exit', res),
    ),
  ])
  return r
}
async function postMessage(size, transfer) {
  const count = Math.round(300_000 / (quick ? 10 : 1))
  const { port1, port2 } = new MessageChannel()
  const [r] = await Promise.all([
    fromWorker({ role: 'port-rx', port: port2, count, size }, [port2]),
    new Promise((res, rej) => {
      const w = new Worker(peer, {
        workerData: { role: 'port-tx', port: port1, count, size, transfer },
        transferList: [port1],
      })
      w.once('exit', res)
      w.once('error', rej)
    }),
  ])
  return r
}
// one C binary per packet size (its payload copy is a memcpy of a compile-time size), rebuilt when pipe_ref.c changes
function cref(size, batch) {
  const csrc = `${here}ref/pipe_ref.c`
  const cbin = `${here}out/pipe_ref_${size}`
  if (!existsSync(cbin) || statSync(cbin).mtimeMs < statSync(csrc).mtimeMs) {
    mkdirSync(`${here}out`, { recursive: true })
    execFileSync('gcc', ['-O2', '-pthread', `-DSIZE=${size}`, '-o', cbin, csrc])
  }
  const p = `bc${process.pid}x${uid++}`
  const nm = new NetmapBuilder(`netmap:${p}{1`).numSlots(1024).build() // the region @x/netmap builds
  try {
    const out = execFileSync(cbin, [regionPath(p, '1'), String(N(size, batch)), String(size), String(batch)])
    const [mpps, bad] = String(out).trim().split(' ').map(Number)
    return { mpps, mismatches: bad }
  } finally {
    nm.close()
  }
}

const f = (x) => (x >= 10 ? x.toFixed(1) : x.toFixed(2))
const line = (what, v, ref, r, goal) =>
  console.log(`${what}: ${f(v)} Mpps | ref ${ref}: ${f(r)} Mpps | ratio ${(v / r).toFixed(2)}x | goal ${goal}`)
const ROUNDS = quick ? 1 : 3
let bad = 0
for (const size of [60, 1500]) {
  const pmCopy = await postMessage(size, false)
  const pmXfer = await postMessage(size, true)
  for (const batch of [1, 32, 256]) {
    const top = size === 60 && batch === 256
    // The goal row runs ROUNDS interleaved rounds of all three and keeps the best of each: the machine is shared,
    // and the best round is the one least disturbed (the same rule for JS and C).
    let t = { mpps: 0 }
    let p = { mpps: 0 }
    let c = { mpps: 0 }
    let k = { mpps: 0 }
    for (let r = 0; r < (top ? ROUNDS : 1); r++) {
      const tr = await threads(size, batch)
      const kr = top ? await threads(size, batch, '-walk') : { mpps: 0, mismatches: 0 }
      const pr = await processes(size, batch)
      const cr = cref(size, batch)
      bad += tr.mismatches + kr.mismatches + pr.mismatches + cr.mismatches
      if (tr.mpps > t.mpps) t = tr
      if (kr.mpps > k.mpps) k = kr
      if (pr.mpps > p.mpps) p = pr
      if (cr.mpps > c.mpps) c = cr
    }
    const ok = (yes) => (yes ? 'ok' : 'MISSED')
    const g = (text, yes) => (top ? `${text}: ${ok(yes)}` : '-')
    line(
      `2 threads  ${size} B batch ${batch}`,
      t.mpps,
      'postMessage copy',
      pmCopy.mpps,
      g('≥ 20x', t.mpps >= 20 * pmCopy.mpps),
    )
    line(
      `2 threads  ${size} B batch ${batch}`,
      t.mpps,
      'postMessage transfer',
      pmXfer.mpps,
      g('≥ 20x', t.mpps >= 20 * pmXfer.mpps),
    )
    line(`2 threads  ${size} B batch ${batch}`, t.mpps, 'C same region', c.mpps, g('≥ 0.5x', t.mpps >= 0.5 * c.mpps))
    line(`2 processes ${size} B batch ${batch}`, p.mpps, 'C same region', c.mpps, g('≥ 0.5x', p.mpps >= 0.5 * c.mpps))
    if (top) {
      line(`2 threads  ${size} B batch ${batch}, walking the ring`, k.mpps, 'C same region', c.mpps, 'no goal')
      console.log(`2 threads  ${size} B batch ${batch}: ${f(t.mpps)} Mpps | goal ≥ 40 Mpps: ${ok(t.mpps >= 40)}`)
      console.log(`2 processes ${size} B batch ${batch}: ${f(p.mpps)} Mpps | goal ≥ 20 Mpps: ${ok(p.mpps >= 20)}`)
      console.log(
        `(60 B batch 256: best of ${ROUNDS} interleaved rounds of threads, processes and C, ${N(size, batch) / 1e6} M packets each)`,
      )
    }
  }
}
console.log(`${bad} mismatches`)
