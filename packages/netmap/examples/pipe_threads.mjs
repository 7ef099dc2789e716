// pipe_threads: master in one worker, slave in the other, 5 packets (netmap-rs examples/pipe_threads.rs, fixed:
// the second end opens `}` — upstream opened the master twice). The pipe lives in a SharedArrayBuffer.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { createSharedPipe, NetmapBuilder } from '@x/netmap'

const N = 5
if (isMainThread) {
  const sab = createSharedPipe({ parent: 'pipe', id: 'threads' })
  const run = (role) =>
    new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { role, sab } })
      w.on('message', (m) => console.log(m))
      w.once('error', reject)
      w.once('exit', resolve)
    })
  const codes = await Promise.all([run('receiver'), run('sender')])
  console.log(codes.every((c) => c === 0) ? 'pipe_threads ok' : 'pipe_threads FAILED')
  process.exitCode = codes.every((c) => c === 0) ? 0 : 1
} else {
  const { role, sab } = workerData
  const nm = new NetmapBuilder(role === 'sender' ? 'netmap:pipe{threads' : 'netmap:pipe}threads')
    .sharedMemory(sab)
    .build()
  if (role === 'sender') {
    const tx = nm.txRing(0)
    for (let i = 0; i < N; i++) {
      while (!tx.send(new TextEncoder().encode(`packet ${i}`))) await tx.ready()
      tx.sync()
    }
    parentPort.postMessage(`sender: sent ${N}`)
  } else {
    const rx = nm.rxRing(0)
    for (let i = 0; i < N; i++) {
      const f = await rx.next()
      const s = new TextDecoder().decode(f.payload())
      if (s !== `packet ${i}`) throw new Error(`got ${s}`)
      parentPort.postMessage(`receiver: ${s}`)
    }
    rx.sync()
  }
  nm.close()
}
