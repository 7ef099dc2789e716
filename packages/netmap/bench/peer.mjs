// Bench endpoint: a worker (workerData) or a child process (argv JSON). netmap tx/rx, every packet's bytes written
// into its slot's buffer and its sequence number checked; or a MessagePort sender/receiver. The receiver reports its
// rate from packet `warm` (a fifth of the run: the JIT tiers warm up before it) to the last one.
//
// Roles `tx`/`rx` use the rings' zero-allocation callback API (`fill`, `drain`: one call per packet); `tx-walk`/
// `rx-walk` walk the slots themselves, as the C reference does (ring.slots, ring.bufBase, ring.view: the README's
// "Walking a ring yourself"). Both write with the same compiled writer and check the same way.
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { NetmapBuilder } from '@x/netmap'

const o = isMainThread ? JSON.parse(process.argv[2]) : workerData
const report = (m) => (isMainThread ? process.send(m) : parentPort.postMessage(m))
const { count, size, batch } = o
const warm = Math.floor(count / 5)
const tpl = new Uint8Array(size).map((_, i) => i & 255)
const verify = process.env.NETMAP_BENCH_VERIFY === '1' // the receiver checks every byte too

/**
 * The per-packet writer, compiled once for the template: put(o, seq) writes the sequence number over the first 4
 * bytes (little-endian, as the receiver reads it), then every other byte of the template as constant stores, 8 bytes
 * at a time where the word's bits survive a double literal, else 4 (a fixed-size copy unrolled, as the C reference's
 * memcpy of a compile-time size is). `o` is the buffer's offset in 32-bit words. Packets over 256 B: `u8.set` (a
 * memcpy) and the sequence number. Checked on a scratch buffer before use.
 */
function compileWriter(u8, w32, f64) {
  let body = `u8.set(tpl, o * 4)\n  w32[o] = seq`
  if (size >= 8 && size <= 256) {
    const w = new Uint32Array(tpl.buffer, 0, size >>> 2)
    const d = new Float64Array(tpl.buffer, 0, size >>> 3)
    const lines = ['w32[o] = seq', `w32[o + 1] = ${w[1]}`]
    for (let i = 1; i < d.length; i++) {
      const x = d[i]
      if (Number.isNaN(x)) lines.push(`w32[o + ${2 * i}] = ${w[2 * i]}`, `w32[o + ${2 * i + 1}] = ${w[2 * i + 1]}`)
      else lines.push(`f64[(o >>> 1) + ${i}] = ${Object.is(x, -0) ? '-0' : String(x)}`)
    }
    for (let i = 2 * d.length; i < w.length; i++) lines.push(`w32[o + ${i}] = ${w[i]}`)
    for (let i = w.length * 4; i < size; i++) lines.push(`u8[o * 4 + ${i}] = ${tpl[i]}`)
    body = lines.join('\n  ')
  }
  const make = new Function('u8', 'w32', 'f64', 'tpl', `return function put(o, seq) {\n  ${body}\n}`)
  // two packets on a scratch buffer full of 0xa5: each byte of both, the sequence numbers, nothing past `size`
  const scratch = new Uint8Array(2 * 4096).fill(0xa5)
  const put = make(scratch, new Uint32Array(scratch.buffer), new Float64Array(scratch.buffer), tpl)
  put(0, 0x01020304)
  put(4096 / 4, 0xfffffffe)
  const dv = new DataView(scratch.buffer)
  const ok = (at, seq) =>
    dv.getUint32(at, true) === seq &&
    tpl.every((b, i) => i < 4 || scratch[at + i] === b) &&
    scratch.subarray(at + size, at + 4096).every((b) => b === 0xa5)
  if (!ok(0, 0x01020304) || !ok(4096, 0xfffffffe)) throw new Error('the compiled writer is wrong')
  return make(u8, w32, f64, tpl)
}

/** The packet writer for this ring's region; throws unless packets fit a buffer and buffers are 8-byte aligned. */
function writerFor(ring) {
  if (size > ring.bufSize) throw new Error(`${size}-byte packets do not fit ${ring.bufSize}-byte buffers`)
  if (ring.bufBase % 8 !== 0 || ring.bufSize % 8 !== 0) throw new Error('buffers are not 8-byte aligned')
  const u8 = ring.u8
  return compileWriter(
    u8,
    new Uint32Array(u8.buffer, 0, u8.byteLength >>> 2),
    new Float64Array(u8.buffer, 0, u8.byteLength >>> 3),
  )
}

/** send(n): writes up to n packets at head (fewer when the ring has less space), advances head/cur; the count. */
function sender(ring) {
  const put = writerFor(ring)
  const slots = ring.slots
  const base = ring.bufBase
  const bs = ring.bufSize
  const ns = ring.numSlots
  const v = ring.view
  let seq = 0
  return (n) => {
    const count = Math.min(n, v.space())
    let h = v.head
    for (let i = 0; i < count; i++) {
      put((base + slots[h * 4] * bs) >>> 2, seq++)
      slots[h * 4 + 1] = size // len, flags 0
      h = h + 1 === ns ? 0 : h + 1
    }
    v.head = h
    v.cur = h
    return count
  }
}

/** The receivers' check: mismatches in the packet at byte `off` (its sequence number and length; with verify, bytes). */
function checkerFor(ring) {
  const u8 = ring.u8
  const w32 = new Uint32Array(u8.buffer, 0, u8.byteLength >>> 2)
  return (off, len, expect) => {
    let bad = w32[off >>> 2] !== expect || len !== size ? 1 : 0
    if (verify) for (let j = 4; j < size; j++) if (u8[off + j] !== tpl[j]) bad++
    return bad
  }
}

/** recv(max): checks up to max packets from head, advances head/cur; the count. */
function receiver(ring) {
  const check = checkerFor(ring)
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
      bad += check(base + slots[h * 4] * bs, slots[h * 4 + 1] & 0xffff, expect++)
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

/** The callback API: tx.fill calling the same writer, rx.drain calling the same check, once per packet. */
function callbacks(ring, tx) {
  const st = { expect: 0, bad: 0, seq: 0 }
  if (tx) {
    const put = writerFor(ring)
    const fill = (_u8, off) => {
      put(off >>> 2, st.seq++)
      return size
    }
    st.send = (n) => ring.fill(n, fill)
  } else {
    const check = checkerFor(ring)
    const each = (_u8, off, len) => {
      st.bad += check(off, len, st.expect++)
    }
    st.recv = (max) => ring.drain(max, each)
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
  const walk = o.role.endsWith('-walk')
  if (o.role.startsWith('tx')) {
    const tx = nm.txRing(0)
    const send = walk ? sender(tx) : callbacks(tx, true).send
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
    const r = walk ? receiver(rx) : callbacks(rx, false)
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
