// thread_per_ring: one worker per RX ring of a multi-queue NIC port, each worker opening its own fd on its own ring
// (`netmap:a1-K`, NR_REG_ONE_NIC), never a shared Netmap (netmap-rs's example shared one Arc<Netmap> between
// threads, so every sync touched every ring). Without the netmap module each ring is an AF_PACKET socket whose
// eBPF filter passes the frames of RX queue K only.
//
// Run as root: `node examples/thread_per_ring.mjs`. It makes a network namespace with a 4-queue veth pair a0 ↔ a1,
// runs itself inside it, and removes the namespace at the end. To put frames on known queues it attaches a tcx
// egress program to a0 (inside that namespace only) that sets skb->queue_mapping from byte 14 of the frame: the
// kernel then transmits frame q on TX queue q, and the veth peer delivers it to RX queue q.
import { fileURLToPath } from 'node:url'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { bpfInsns, bpfLinkCreate, bpfProgLoad, ifNameToIndex } from '@x/native'
import { NetmapBuilder } from '@x/netmap'
import { assertInNetns, runInNetns } from './_netns.mjs'

const QUEUES = 4
const N = 1000
const PRIME = 0xffffffff
const self = fileURLToPath(import.meta.url)

if (isMainThread && process.argv[2] !== '--in-netns') {
  const code = await runInNetns({
    name: 'thread_per_ring',
    tag: 'tpr',
    self,
    setup: (ip) => {
      const q = ['numtxqueues', `${QUEUES}`, 'numrxqueues', `${QUEUES}`]
      ip('link', 'add', 'a0', ...q, 'type', 'veth', 'peer', 'name', 'a1', ...q)
      ip('link', 'set', 'a0', 'up')
      ip('link', 'set', 'a1', 'up')
      for (let i = 0; i < 500 && !/a1@a0:.*LOWER_UP.*state UP/.test(ip('-o', 'link', 'show')); i++)
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10) // carrier: frames sent before it are lost
    },
  })
  process.exit(code)
} else if (isMainThread) {
  assertInNetns('thread_per_ring', 'tpr') // --in-netns is checked, not taken on trust
  // inside the namespace: steering on a0, one worker per ring of a1, the sender here
  const link = steer('a0')
  const tx = new NetmapBuilder('netmap:a0/T').build()
  const workers = []
  const results = []
  const primed = new Set()
  try {
    await Promise.all(
      Array.from({ length: QUEUES }, (_, k) => {
        const w = new Worker(self, { workerData: { k } })
        workers.push(w)
        const done = new Promise((resolve, reject) => {
          w.on('message', (m) => {
            if (m === 'primed') primed.add(k)
            else if (typeof m === 'object') results[k] = m
          })
          w.once('error', reject)
          w.once('exit', resolve)
        })
        workers[k].done = done
        return new Promise((resolve, reject) => {
          w.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`worker ${k}: ${m}`))))
          w.once('error', reject)
        })
      }),
    )
    const ring = tx.txRing(0)
    const frame = new Uint8Array(60)
    frame.fill(0xff, 0, 6)
    frame.set([0x02, 0, 0, 0, 0, 0x01], 6)
    frame.set([0x88, 0xb5], 12) // local experimental EtherType
    const dv = new DataView(frame.buffer)
    const send = async (q, seq) => {
      frame[14] = q // the queue (the steering program reads it)
      dv.setUint32(15, seq, true)
      while (!ring.send(frame)) {
        ring.sync()
        await ring.ready()
      }
    }
    // prime each ring until its worker has seen a frame (bounded), then the counted run
    for (let i = 0; i < 100 && primed.size < QUEUES; i++) {
      for (let q = 0; q < QUEUES; q++) if (!primed.has(q)) await send(q, PRIME)
      ring.sync()
      await new Promise((r) => setTimeout(r, 50))
    }
    for (let seq = 0; seq < N; seq++) for (let q = 0; q < QUEUES; q++) await send(q, seq)
    ring.sync()
    await Promise.all(workers.map((w) => w.done))
  } finally {
    for (const w of workers) await w.terminate()
    tx.close()
    link.close()
  }
  let ok = results.length === QUEUES
  for (let k = 0; k < QUEUES; k++) {
    const r = results[k] ?? { received: 0, mismatches: -1 }
    console.log(`ring ${k} (fd of netmap:a1-${k}): ${r.received} packets, ${r.mismatches} mismatches`)
    ok &&= r.received === N && r.mismatches === 0
  }
  console.log(ok ? 'thread_per_ring ok' : 'thread_per_ring FAILED')
  process.exitCode = ok ? 0 : 1
} else {
  // a worker: its own port, its own fd, its own ring
  const { k } = workerData
  const nm = new NetmapBuilder(`netmap:a1-${k}/R`).build()
  const rx = nm.rxRing(k)
  parentPort.postMessage('ready')
  let received = 0
  let mismatches = 0
  let expected = 0
  let primed = false
  const signal = AbortSignal.timeout(30_000)
  try {
    while (received < N) {
      const p = (await rx.next(signal)).payload()
      if (p[12] !== 0x88 || p[13] !== 0xb5) continue
      const seq = new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(15, true)
      if (seq === PRIME) {
        if (!primed) parentPort.postMessage('primed')
        primed = true
        continue
      }
      received++
      if (p[14] !== k || seq !== expected) mismatches++
      expected = seq + 1
    }
  } catch (e) {
    if (!signal.aborted) throw e
  } finally {
    nm.close()
  }
  parentPort.postMessage({ received, mismatches })
}

/** tcx egress on `ifname`: skb->queue_mapping = byte 14 + 1 for EtherType 0x88b5 (netdev_pick_tx reads q + 1 as "queue q"). */
function steer(ifname) {
  const insns = [
    [0x61, 2, 1, 76, 0], // r2 = skb->data
    [0x61, 3, 1, 80, 0], // r3 = skb->data_end
    [0xbf, 4, 2, 0, 0], // r4 = r2
    [0x07, 4, 0, 0, 15], // r4 += 15
    [0x2d, 4, 3, 5, 0], // if r4 > r3 goto out
    [0x69, 5, 2, 12, 0], // r5 = EtherType (little-endian load)
    [0x55, 5, 0, 3, 0xb588], // if r5 != htons(0x88b5) goto out
    [0x71, 5, 2, 14, 0], // r5 = byte 14
    [0x07, 5, 0, 0, 1], // r5 += 1
    [0x63, 1, 5, 12, 0], // skb->queue_mapping = r5
    [0xb7, 0, 0, 0, 0], // out: r0 = TCX_PASS
    [0x95, 0, 0, 0, 0], // exit
  ]
  const prog = bpfProgLoad({ type: 3 /* BPF_PROG_TYPE_SCHED_CLS */, insns: bpfInsns(insns), name: 'tpr_steer' })
  try {
    return bpfLinkCreate(prog, ifNameToIndex(ifname), 47 /* BPF_TCX_EGRESS */)
  } finally {
    prog.close()
  }
}
