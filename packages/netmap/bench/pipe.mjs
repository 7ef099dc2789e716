// Pipe throughput: @x/netmap shm pipes (two worker threads over a SharedArrayBuffer; two processes over a /dev/shm
// region) at 60 B and 1500 B, batch 1/32/256, side by side with MessagePort postMessage (copy and transfer) and a C
// program moving the same packets through the same region. Run: node bench/pipe.mjs [--quick]
import { execFileSync, fork } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MessageChannel, Worker } from 'node:worker_threads'
import { createSharedPipe, NetmapBuilder, regionPath } from '@x/netmap'

const here = fileURLToPath(new URL('.', import.meta.url))
const peer = `${here}peer.mjs`
const quick = process.argv.includes('--quick')
const N = (size, batch) => Math.round((batch === 1 ? 400_000 : size > 1000 ? 1_000_000 : 4_000_000) / (quick ? 10 : 1))

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
async function threads(size, batch) {
  const count = N(size, batch)
  const p = `bt${process.pid}x${uid++}`
  const sab = createSharedPipe({ parent: p, id: '1', slots: 1024 })
  const [r] = await Promise.all([
    fromWorker({ role: 'rx', spec: `netmap:${p}}1`, sab, count, size, batch }),
    fromWorker({ role: 'tx', spec: `netmap:${p}{1`, sab, count, size, batch }),
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
const cbin = `${here}out/pipe_ref`
function cref(size, batch) {
  const csrc = `${here}ref/pipe_ref.c`
  if (!existsSync(cbin) || statSync(cbin).mtimeMs < statSync(csrc).mtimeMs) {
    mkdirSync(`${here}out`, { recursive: true })
    execFileSync('gcc', ['-O2', '-pthread', '-o', cbin, csrc])
  }
  const p = `bc${process.pid}x${uid++}`
  const nm = new NetmapBuilder(`netmap:${p}{1`).numSlots(1024).build() // the region @x/netmap builds
  try {
    const out = execFileSync(cbin, [regionPath(p, '1'), String(N(size, batch) * 4), String(size), String(batch)])
    const [mpps, bad] = String(out).trim().split(' ').map(Number)
    return { mpps, mismatches: bad }
  } finally {
    nm.close()
  }
}

const f = (x) => (x >= 10 ? x.toFixed(1) : x.toFixed(2))
const line = (what, v, ref, r, goal) =>
  console.log(`${what}: ${f(v)} Mpps | ref ${ref}: ${f(r)} Mpps | ratio ${(v / r).toFixed(2)}x | goal ${goal}`)
let bad = 0
for (const size of [60, 1500]) {
  const pmCopy = await postMessage(size, false)
  const pmXfer = await postMessage(size, true)
  for (const batch of [1, 32, 256]) {
    const t = await threads(size, batch)
    const p = await processes(size, batch)
    const c = cref(size, batch)
    bad += t.mismatches + p.mismatches + c.mismatches
    const top = size === 60 && batch === 256
    line(`2 threads  ${size} B batch ${batch}`, t.mpps, 'postMessage copy', pmCopy.mpps, top ? '≥ 20x' : '-')
    line(`2 threads  ${size} B batch ${batch}`, t.mpps, 'postMessage transfer', pmXfer.mpps, top ? '≥ 20x' : '-')
    line(`2 threads  ${size} B batch ${batch}`, t.mpps, 'C same region', c.mpps, top ? '≥ 0.5x (and ≥ 40 Mpps)' : '-')
    line(`2 processes ${size} B batch ${batch}`, p.mpps, 'C same region', c.mpps, top ? '≥ 0.5x (and ≥ 20 Mpps)' : '-')
  }
}
console.log(`${bad} mismatches`)
