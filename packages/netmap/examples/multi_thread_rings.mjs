// multi_thread_rings: a pipe created with 4 ring pairs; one worker per ring pair on each side, each bound to its
// own ring with `-K` (netmap:x{p-K / netmap:x}p-K), never a shared port (netmap-rs's seed multi_thread_rings.rs).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { createSharedPipe, NetmapBuilder } from '@x/netmap'

const RINGS = 4
const N = 1000
if (isMainThread) {
  const sab = createSharedPipe({ parent: 'mtr', id: 'p', rings: RINGS, slots: 256 })
  const run = (role, k) =>
    new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { role, k, sab } })
      w.on('message', (m) => console.log(m))
      w.once('error', reject)
      w.once('exit', resolve)
    })
  const jobs = []
  for (let k = 0; k < RINGS; k++) jobs.push(run('rx', k), run('tx', k))
  const codes = await Promise.all(jobs)
  const ok = codes.every((c) => c === 0)
  console.log(ok ? 'multi_thread_rings ok' : 'multi_thread_rings FAILED')
  process.exitCode = ok ? 0 : 1
} else {
  const { role, k, sab } = workerData
  const nm = new NetmapBuilder(`netmap:mtr${role === 'tx' ? '{' : '}'}p-${k}`).sharedMemory(sab).build()
  if (role === 'tx') {
    const tx = nm.txRing(k)
    for (let i = 0; i < N; i++) {
      while (!tx.send(Uint8Array.of(k, i & 255))) {
        tx.sync()
        await tx.ready()
      }
    }
    tx.sync()
  } else {
    const rx = nm.rxRing(k)
    for (let i = 0; i < N; i++) {
      const p = (await rx.next()).payload()
      if (p[0] !== k || p[1] !== (i & 255)) throw new Error(`ring ${k}: bad packet ${i}`)
    }
    rx.sync()
    parentPort.postMessage(`ring ${k}: ${N} packets`)
  }
  nm.close()
}
