// Bench endpoint: a worker (workerData) or a child process (argv JSON). netmap tx/rx, every packet's bytes written
// into its slot's buffer and its sequence number checked; or a MessagePort sender/receiver. The receiver reports its
// rate from packet `warm` (a fifth of the run: the JIT tiers warm up before it) to the last one.
//
// Roles `tx`/`rx` walk the ring themselves, as the C reference does (ring.slots, ring.bufBase, ring.view: the README's
// "Walking a ring yourself"); `tx-cb`/`rx-cb` go through the callback API (`fill`/`drain`), one call per packet.
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { NetmapBuilder } from '@x/netmap'

const o = isMainThread ? JSON.parse(process.argv[2]) : workerData
const report = (m) => (isMainThread ? process.send(m) : parentPort.postMessage(m))
const { count, size, batch } = o
const warm = Math.floor(count / 5)
const tpl = new Uint8Array(size).map((_, i) => i & 255)
const verify = process.env.NETMAP_BENCH_VERIFY === '1' // the receiver checks every byte too

/**
 * The per-packet writer, as source: the sequence number over the first 4 bytes (little-endian, as the receiver reads
 * it), then every other byte of the template as constant stores, 8 bytes at a time where the word's bits survive a
 * double literal, else 4 (the stores a compiler emits for a fixed-size memcpy). `o` is the buffer's word offset.
 */
function writerSource(tpl) {
  const w = new Uint32Array(tpl.buffer, 0, tpl.length >>> 2)
  const d = new Float64Array(tpl.buffer, 0, tpl.length >>> 3)
  const lines = ['w32[o] = seq++', `w32[o + 1] = ${w[1]}`]
  for (let i = 1; i < d.length; i++) {
    const x = d[i]
    if (Number.isNaN(x)) lines.push(`w32[o + ${2 * i}] = ${w[2 * i]}`, `w32[o + ${2 * i + 1}] = ${w[2 * i + 1]}`)
    else lines.push(`f64[(o >>> 1) + ${i}] = ${Object.is(x, -0) ? '-0' : String(x)}`)
  }
  for (let i = 2 * d.length; i < w.length; i++) lines.push(`w32[o + ${i}] = ${w[i]}`)
  for (let i = w.length * 4; i < tpl.length; i++) lines.push(`u8[o * 4 + ${i}] = ${tpl[i]}`)
  return lines.join('\n      ')
}

/** send(n): writes up to n packets at head (fewer when the ring has less space), advances head/cur; the count. */
function sender(ring) {
  const u8 = ring.u8
  const w32 = new Uint32Array(u8.buffer, 0, u8.byteLength >>> 2)
  const f64 = new Float64Array(u8.buffer, 0, u8.byteLength >>> 3)
  if (ring.bufBase % 8 !== 0 || ring.bufSize % 8 !== 0) throw new Error('buffers are not 8-byte aligned')
  // small packets: the compiled writer; large ones: a memcpy (u8.set) and the sequence number
  const body = size >= 8 && size <= 256 ? writerSource(tpl) : 'u8.set(tpl, o * 4)\n      w32[o] = seq++'
  const make = new Function(
    'ring',
    'u8',
    'w32',
    'f64',
    'tpl',
    `const slots = ring.slots, base = ring.bufBase, bs = ring.bufSize, ns = ring.numSlots, v = ring.view
  let seq = 0
  return function send(n) {
    const count = Math.min(n, v.space())
    let h = v.head
    for (let i = 0; i < count; i++) {
      const o = (base + slots[h * 4] * bs) >>> 2
      ${body}
      slots[h * 4 + 1] = ${size} // len, flags 0
      h = h + 1 === ns ? 0 : h + 1
    }
    v.head = h
    v.cur = h
    return count
  }`,
  )
  // the writer's bytes, checked once on a scratch ring of one slot
  const scratch = new Uint8Array(256 + 16 + 4096)
  const probe = {
    slots: new Uint32Array(scratch.buffer, 256, 4),
    bufBase: 2048,
    bufSize: 2048,
    numSlots: 2,
    view: { space: () => 1, head: 0, cur: 0 },
  }
  make(probe, scratch, new Uint32Array(scratch.buffer), new Float64Array(scratch.buffer), tpl)(1)
  const want = tpl.slice()
  want.fill(0, 0, 4)
  if (!scratch.subarray(2048, 2048 + size).every((b, i) => b === want[i])) throw new Error('the writer is wrong')
  return make(ring, u8, w32, f64, tpl)
}

/** recv(max): checks up to max packets from head, advances head/cur; the count. */
function receiver(ring) {
  const u8 = ring.u8
  const w32 = new Uint32Array(u8.buffer, 0, u8.byteLength >>> 2)
  const slots = ring.slots
  const base = ring.bufBase
  const bs = ring.bufSize
  const ns = ring.numSlots
  const v = ring.view
  const st = { expect: 0, bad: 0 }
  st.recv = (max) => {
    const n = Math.min(max, v.space())
    let h = v.head
    let expect = st.expect
    let bad = st.bad
    for (let i = 0; i < n; i++) {
      const off = base + slots[h * 4] * bs
      if (w32[off >>> 2] !== expect || (slots[h * 4 + 1] & 0xffff) !== size) bad++
      if (verify) for (let j = 4; j < size; j++) if (u8[off + j] !== tpl[j]) bad++
      expect++
      h = h + 1 === ns ? 0 : h + 1
    }
    st.expect = expect
    st.bad = bad
    v.head = h
    v.cur = h
    return n
  }
  return st
}

/** The callback API: tx.fill with a per-packet writer, rx.drain with a per-packet check. */
function callbacks(ring, tx) {
  const u8 = ring.u8
  const w32 = new Uint32Array(u8.buffer, 0, u8.byteLength >>> 2)
  const st = { expect: 0, bad: 0, seq: 0 }
  if (tx) {
    const put = (u8, off) => {
      u8.set(tpl, off)
      w32[off >>> 2] = st.seq++
      return size
    }
    st.send = (n) => ring.fill(n, put)
  } else {
    const check = (_u8, off, len) => {
      if (w32[off >>> 2] !== st.expect || len !== size) st.bad++
      st.expect++
    }
    st.recv = (max) => ring.drain(max, check)
  }
  return st
}

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
  const cb = o.role.endsWith('-cb')
  if (o.role.startsWith('tx')) {
    const tx = nm.txRing(0)
    const send = cb ? callbacks(tx, true).send : sender(tx)
    let sent = 0
    while (sent < count) {
      const n = send(Math.min(batch, count - sent))
      sent += n
      tx.sync()
      if (n === 0) await tx.ready()
    }
    while (tx.space < tx.numSlots - 1) await tx.ready(tx.numSlots - 1)
  } else {
    const rx = nm.rxRing(0)
    const r = cb ? callbacks(rx, false) : receiver(rx)
    let t0 = 0
    let n0 = 0
    while (r.expect < count) {
      rx.sync()
      const n = r.recv(batch)
      if (n === 0) await rx.ready()
      else if (t0 === 0 && r.expect >= warm) {
        t0 = performance.now()
        n0 = r.expect
      }
    }
    rx.sync()
    report({ mpps: (count - n0) / ((performance.now() - t0) / 1000) / 1e6, mismatches: r.bad })
  }
  nm.close()
}
if (isMainThread) process.disconnect?.()
