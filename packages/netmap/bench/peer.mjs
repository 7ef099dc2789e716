// Bench endpoint: a worker (workerData) or a child process (argv JSON). netmap tx/rx with a payload copy per
// packet and a sequence check; or a MessagePort sender/receiver. The receiver checks every packet and reports its
// rate from packet `warm` (a fifth of the run: the JIT tiers warm up before it) to the last one.
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { NetmapBuilder } from '@x/netmap'

const o = isMainThread ? JSON.parse(process.argv[2]) : workerData
const report = (m) => (isMainThread ? process.send(m) : parentPort.postMessage(m))
const { count, size, batch } = o
const warm = Math.floor(count / 5)
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
    if (n === warm) t0 = performance.now()
    if (b[0] !== (n & 255) || b.length !== size) bad++
    if (++n === count) {
      report({ mpps: (count - warm) / ((performance.now() - t0) / 1000) / 1e6, mismatches: bad })
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
    let seq = 0
    // Every packet's bytes are written into its slot's buffer: the template, then the sequence number over its first
    // 4 bytes. Small packets are written with 8-byte stores through one Float64Array over the region (fill's offsets
    // are buffer starts, 2048-byte aligned), 4-byte ones for the first 8 bytes and the tail: a Uint8Array.set costs
    // ~14 ns of call overhead, more than copying 60 bytes, and across cores each store waits for a line the receiver
    // read last, so fewer, wider stores go faster. V8 copies Float64Array elements bit for bit (no NaN canonicalising
    // on typed-array stores); checked below for this template, else 4-byte stores. Large packets: set (a memcpy).
    // NETMAP_BENCH_VERIFY=1 makes the receiver check every byte too.
    const buf = nm.region.buffer
    const w32 = new Uint32Array(buf, 0, buf.byteLength >>> 2)
    const f64 = new Float64Array(buf, 0, buf.byteLength >>> 3)
    const tplWords = new Uint32Array(tpl.buffer, 0, size >>> 2)
    const nWords = tplWords.length
    const tplF = new Float64Array(tpl.buffer, 0, size >>> 3)
    const copied = new Float64Array(tplF.length)
    for (let i = 0; i < tplF.length; i++) copied[i] = tplF[i]
    const exact = new Uint8Array(copied.buffer).every((b, i) => b === tpl[i])
    const nF = exact ? tplF.length : 1 // 8-byte words [1, nF), then 4-byte words [2 * nF, nWords)
    const tailFrom = nWords * 4
    const probe = tx.reserveBatch(1) // not committed: only to check the alignment the word stores rely on
    if (probe.count === 1 && probe.packet(0, 0).byteOffset % 8 !== 0) throw new Error('buffers are not 8-byte aligned')
    const put =
      size <= 256 && size >= 8
        ? (u8, off) => {
            const o = off >>> 2
            w32[o] = seq++
            w32[o + 1] = tplWords[1]
            const o8 = off >>> 3
            for (let i = 1; i < nF; i++) f64[o8 + i] = tplF[i]
            for (let i = 2 * nF; i < nWords; i++) w32[o + i] = tplWords[i]
            for (let i = tailFrom; i < size; i++) u8[off + i] = tpl[i]
            return size
          }
        : (u8, off) => {
            u8.set(tpl, off)
            w32[off >>> 2] = seq++ // little-endian hosts (x86-64, arm64), as the receiver's getUint32(…, true)
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
    let n0 = 0
    const check =
      process.env.NETMAP_BENCH_VERIFY === '1'
        ? (u8, off, len) => {
            if (dv.getUint32(off, true) !== expect || len !== size) bad++
            for (let i = 4; i < size; i++) if (u8[off + i] !== tpl[i]) bad++
            expect++
          }
        : (_u8, off, len) => {
            if (dv.getUint32(off, true) !== expect || len !== size) bad++
            expect++
          }
    while (expect < count) {
      rx.sync()
      const n = rx.drain(batch, check)
      if (n === 0) await rx.ready()
      else if (t0 === 0 && expect >= warm) {
        t0 = performance.now()
        n0 = expect
      }
    }
    rx.sync()
    report({ mpps: (count - n0) / ((performance.now() - t0) / 1000) / 1e6, mismatches: bad })
  }
  nm.close()
}
if (isMainThread) process.disconnect?.()
