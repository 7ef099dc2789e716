// sliding_window_arq: reliable delivery over a lossy pipe (netmap-rs examples/sliding_window_arq.rs): window 4,
// timeout 100 ms, 3 retries per packet, done after 10 packets are ACKed. The pipe is the shm backend; the receiver
// drops every third data packet it sees once (injected loss), and ACKs cumulatively.
import { NetmapBuilder } from '@x/netmap'

const name = process.argv[2] ?? `arq${process.pid}`
const WINDOW = 4
const TIMEOUT = 100
const RETRIES = 3
const TOTAL = 10
const sender = new NetmapBuilder(`netmap:${name}{1`).build()
const receiver = new NetmapBuilder(`netmap:${name}}1`).build()

const u32 = (n) => new Uint8Array(new Uint32Array([n]).buffer)
const read32 = (p) => new DataView(p.buffer, p.byteOffset, 4).getUint32(0, true)

// receiver: delivers in order, drops some first transmissions, ACKs with the next expected sequence number
let expected = 0
let seen = 0
const dropped = new Set()
const delivered = []
async function receiverLoop(signal) {
  const rx = receiver.rxRing(0)
  const tx = receiver.txRing(0)
  while (!signal.aborted) {
    const f = await rx.next(signal).catch(() => null)
    if (!f) return
    const seq = read32(f.payload())
    if (++seen % 3 === 0 && !dropped.has(seq)) {
      dropped.add(seq)
      console.log(`  (lost packet ${seq})`)
      continue
    }
    if (seq === expected) {
      delivered.push(seq)
      expected++
    }
    tx.send(u32(expected)) // cumulative ACK
    tx.sync()
  }
}

const ac = new AbortController()
const rxDone = receiverLoop(ac.signal)
const tx = sender.txRing(0)
const acks = sender.rxRing(0)
let base = 0
let next = 0
const sentAt = new Map()
const tries = new Map()
const send = (seq) => {
  tries.set(seq, (tries.get(seq) ?? 0) + 1)
  if (tries.get(seq) > RETRIES + 1) throw new Error(`packet ${seq}: no ACK after ${RETRIES} retries`)
  tx.send(u32(seq))
  tx.sync()
  sentAt.set(seq, performance.now())
}
while (base < TOTAL) {
  while (next < TOTAL && next < base + WINDOW) send(next++)
  const t = AbortSignal.timeout(TIMEOUT)
  const f = await acks.next(t).catch(() => null)
  if (f) {
    const ack = read32(f.payload())
    if (ack > base) {
      console.log(`ACK ${ack}`)
      base = ack
    }
  } else {
    console.log(`timeout: resending from ${base}`)
    for (let s = base; s < next; s++) send(s) // go-back-N
  }
}
ac.abort()
await rxDone
sender.close()
receiver.close()
const ok = delivered.length === TOTAL && delivered.every((s, i) => s === i)
console.log(ok ? 'sliding_window_arq ok' : `sliding_window_arq FAILED ${delivered}`)
process.exitCode = ok ? 0 : 1
