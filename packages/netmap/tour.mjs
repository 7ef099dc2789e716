// Tour step for @x/netmap: two worker threads exchange packets over a netmap pipe laid out byte for byte as the
// kernel's (a SharedArrayBuffer region; the kernel's pipe txsync/rxsync ported), with sequence numbers checked.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { createSharedPipe, NetmapBuilder } from '@x/netmap'

const COUNT = 20_000_000
const SIZE = 60
const BATCH = 256

if (isMainThread) {
  const sab = createSharedPipe({ parent: 'tour', id: '1', slots: 1024 })
  const t0 = performance.now()
  const result = await Promise.all(
    ['rx', 'tx'].map(
      (role) =>
        new Promise((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), { workerData: { role, sab } })
          w.once('message', resolve)
          w.once('error', reject)
        }),
    ),
  )
  const s = (performance.now() - t0) / 1000
  const { received, mismatches, ms } = result[0]
  console.log(`  ${received} packets of ${SIZE} B from worker to worker over netmap:tour{1 → netmap:tour}1`)
  console.log(
    `  ${(received / ms / 1e3).toFixed(1)} Mpps in ${(ms / 1000).toFixed(2)} s (batch ${BATCH}; first packet to last, ${s.toFixed(2)} s with the workers' start-up; a short run, JIT warm-up included: node bench/pipe.mjs measures steady rates), ${mismatches} mismatches`,
  )
  process.exitCode = mismatches === 0 && received === COUNT ? 0 : 1
} else {
  const { role, sab } = workerData
  const nm = new NetmapBuilder(role === 'tx' ? 'netmap:tour{1' : 'netmap:tour}1').sharedMemory(sab).build()
  if (role === 'tx') {
    const tx = nm.txRing(0)
    let seq = 0
    while (seq < COUNT) {
      const n = tx.fill(Math.min(BATCH, COUNT - seq), (u8, off) => {
        const v = seq++
        u8[off] = v & 255
        u8[off + 1] = (v >>> 8) & 255
        u8[off + 2] = (v >>> 16) & 255
        u8[off + 3] = v >>> 24
        return SIZE
      })
      tx.sync()
      if (n === 0) await tx.ready()
    }
    parentPort.postMessage({ sent: seq })
  } else {
    const rx = nm.rxRing(0)
    let expect = 0
    let mismatches = 0
    let first = 0
    while (expect < COUNT) {
      rx.sync()
      const n = rx.drain(BATCH, (u8, off) => {
        if ((u8[off] | (u8[off + 1] << 8) | (u8[off + 2] << 16) | (u8[off + 3] << 24)) >>> 0 !== expect) mismatches++
        expect++
      })
      if (n === 0) await rx.ready()
      else if (first === 0) first = performance.now()
    }
    rx.sync()
    parentPort.postMessage({ received: expect, mismatches, ms: performance.now() - first })
  }
  nm.close()
}
