// Bench endpoint: a worker (workerData) or a child process (argv JSON). netmap tx/rx with a payload copy per
// packet and a sequence check; or a MessagePort sender/receiver. The receiver reports its rate (first → last packet).
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { NetmapBuilder } from '@x/netmap'

const o = isMainThread ? JSON.parse(process.argv[2]) : workerData
const report = (m) => (isMainThread ? process.send(m) : parentPort.postMessage(m))
const { count, size, batch } = o
const tpl = new Uint8Array(size).map((_, i) => i & 255)

if (o.role === 'port-tx') {
  const port = o.port
  for (let i = 0; i < count; i++) {
    const b = new Uint8Array(size)
    b.set(tpl)
    b[0] = i & 255
    if (o.transfer) port.postMessage(b, [b.buffer])
    else port.postMessage(b)
    if ((i & 1023) === 1023) await new Promise(setImmediate) // let the receiver keep up (bounded queue)
  }
  port.once('message', () => port.close()) // the receiver's done
} else if (o.role === 'port-rx') {
  const port = o.port
  let n = 0
  let t0 = 0
  let bad = 0
  port.on('message', (b) => {
    if (n === 0) t0 = performance.now()
    if (b[0] !== (n & 255) || b.length !== size) bad++
    if (++n === count) {
      report({ mpps: count / ((performance.now() - t0) / 1000) / 1e6, mismatches: bad })
      port.postMessage('done')
      port.close()
    }
  })
} else {
  const b = new NetmapBuilder(o.spec)
  if (o.sab) b.sharedMemory(o.sab)
  const nm = b.build()
  report({ ready: true })
  if (o.role === 'tx') {
    const tx = nm.txRing(0)
    const dv = new DataView(nm.region.buffer)
    let seq = 0
    const put = (u8, off) => {
      u8.set(tpl, off)
      dv.setUint32(off, seq++, true)
      return size
    }
    while (seq < count) {
      const n = tx.fill(Math.min(batch, count - seq), put)
      tx.sync()
      if (n === 0) await tx.ready()
    }
    while (tx.space < tx.numSlots - 1) await tx.ready(tx.numSlots - 1)
  } else {
    const rx = nm.rxRing(0)
    const dv = new DataView(nm.region.buffer)
    let expect = 0
    let bad = 0
    let t0 = 0
    const check = (_u8, off, len) => {
      if (dv.getUint32(off, true) !== expect || len !== size) bad++
      expect++
    }
    while (expect < count) {
      rx.sync()
      const n = rx.drain(batch, check)
      if (n === 0) await rx.ready()
      else if (t0 === 0) t0 = performance.now()
    }
    rx.sync()
    report({ mpps: count / ((performance.now() - t0) / 1000) / 1e6, mismatches: bad })
  }
  nm.close()
}
if (isMainThread) process.disconnect?.()
