// bench/spsc.mjs: SpscRing between two worker threads, batched, against references in the same run:
//   - the same transfer as batches posted through a MessagePort (structured clone of each batch),
//   - the same ring driven one item per call (tryPush/tryPop),
//   - the batch Channel carrying 3-word tokens (32 per batch), against arrays of 32 Token objects posted.
// Each case runs for a fixed time (DURATION_MS, default 600) and checks every item's sequence number.
// Usage: npx tsc -p tsconfig.build.json && node bench/spsc.mjs   (env DURATION_MS, BATCH)

import { isMainThread, MessageChannel, parentPort, Worker, workerData } from 'node:worker_threads'
import { Channel, Popper, Pusher, SpscRing } from '@x/ring'

const DURATION_MS = Number(process.env.DURATION_MS ?? 600)
const BATCH = Number(process.env.BATCH ?? 256)
const GOAL = 20e6

const now = () => performance.timeOrigin + performance.now()

function produce({ kind, ring, port, channel, go }) {
  const g = new Int32Array(go)
  Atomics.wait(g, 0, 0)
  const t0 = now()
  const end = t0 + DURATION_MS
  let seq = 0
  if (kind === 'batched') {
    const r = SpscRing.attach(ring)
    const src = new Uint32Array(BATCH)
    while (now() < end) {
      for (let i = 0; i < BATCH; i++) src[i] = seq + i
      r.pushBatchWait(src, BATCH)
      seq += BATCH
    }
    r.close()
  } else if (kind === 'unbatched') {
    const r = SpscRing.attach(ring)
    for (;;) {
      for (let i = 0; i < 1024; i++) {
        while (!r.tryPush(seq)) r.waitWritable()
        seq++
      }
      if (now() >= end) break
    }
    r.close()
  } else if (kind === 'postMessage') {
    // Bounded in flight like the ring (capacity items), so the reference has backpressure too.
    const credits = new Int32Array(go, 4, 1)
    while (now() < end) {
      while (Atomics.load(credits, 0) <= 0) Atomics.wait(credits, 0, Atomics.load(credits, 0), 1)
      Atomics.sub(credits, 0, 1)
      const src = new Uint32Array(BATCH)
      for (let i = 0; i < BATCH; i++) src[i] = seq + i
      port.postMessage(src)
      seq += BATCH
    }
    port.postMessage(null)
  } else if (kind === 'postMessageTokens') {
    // What one would do without the channel: post arrays of 32 Token objects.
    const credits = new Int32Array(go, 4, 1)
    while (now() < end) {
      while (Atomics.load(credits, 0) <= 0) Atomics.wait(credits, 0, Atomics.load(credits, 0), 1)
      Atomics.sub(credits, 0, 1)
      const batch = []
      for (let i = 0; i < 32; i++) batch.push({ desc: seq + i, len: 60, poolId: 7 })
      port.postMessage(batch)
      seq += 32
    }
    port.postMessage(null)
  } else if (kind === 'channel') {
    const p = Pusher.attach(channel)
    const words = p.recordWords
    const n = p.batchSize
    const src = new Uint32Array(n * words)
    while (now() < end) {
      for (let i = 0; i < n; i++) {
        src[i * words] = seq + i // desc
        src[i * words + 1] = 60 // len
        src[i * words + 2] = 7 // poolId
      }
      p.push(src, n)
      seq += n
    }
    p.close()
  }
  return { t0, items: seq }
}

async function consume({ kind, ring, port, channel, go }) {
  let expected = 0
  let bad = 0
  if (kind === 'batched') {
    const r = SpscRing.attach(ring)
    const dst = new Uint32Array(BATCH)
    for (;;) {
      const n = r.popBatchWait(dst, BATCH)
      if (n < 0) break
      for (let i = 0; i < n; i++) if (dst[i] !== (expected + i) >>> 0) bad++
      expected += n
    }
  } else if (kind === 'unbatched') {
    const r = SpscRing.attach(ring)
    for (;;) {
      const v = r.tryPop()
      if (v < 0) {
        if (r.done) break
        r.waitReadable()
        continue
      }
      if (v !== expected >>> 0) bad++
      expected++
    }
  } else if (kind === 'postMessage' || kind === 'postMessageTokens') {
    const credits = new Int32Array(go, 4, 1)
    const tokens = kind === 'postMessageTokens'
    await new Promise((resolve) => {
      port.on('message', (m) => {
        if (m === null) return resolve()
        for (let i = 0; i < m.length; i++) if ((tokens ? m[i].desc : m[i]) !== expected + i) bad++
        expected += m.length
        Atomics.add(credits, 0, 1)
        Atomics.notify(credits, 0)
      })
    })
    port.close()
  } else if (kind === 'channel') {
    const p = Popper.attach(channel)
    const words = p.recordWords
    const dst = new Uint32Array(p.batchSize * words)
    for (;;) {
      const n = p.pop(dst)
      if (n < 0) break
      for (let i = 0; i < n; i++) if (dst[i * words] !== (expected + i) >>> 0) bad++
      expected += n
    }
  }
  return { t1: now(), items: expected, bad }
}

if (!isMainThread) {
  const { role } = workerData
  const result = role === 'producer' ? produce(workerData) : await consume(workerData)
  parentPort.postMessage(result)
} else {
  const run = async (kind) => {
    const go = new SharedArrayBuffer(8)
    const credits = new Int32Array(go, 4, 1)
    const capacity = 1 << 14
    credits[0] = kind === 'postMessageTokens' ? 256 : capacity / BATCH // same bound as the ring / channel
    const ring = kind === 'batched' || kind === 'unbatched' ? new SpscRing({ capacity }).share() : undefined
    const channel = kind === 'channel' ? new Channel({ batchSize: 32, capacity: 256 }).share() : undefined
    const mc = kind.startsWith('postMessage') ? new MessageChannel() : undefined
    const mk = (role, port) =>
      new Worker(new URL(import.meta.url), {
        workerData: { role, kind, ring, channel, go, port },
        transferList: port ? [port] : [],
      })
    const prod = mk('producer', mc?.port1)
    const cons = mk('consumer', mc?.port2)
    const results = Promise.all(
      [prod, cons].map((w) => new Promise((res, rej) => w.once('message', res).once('error', rej))),
    )
    await new Promise((r) => setTimeout(r, 100)) // let both workers load and park
    Atomics.store(new Int32Array(go), 0, 1)
    Atomics.notify(new Int32Array(go), 0)
    const [p, c] = await results
    await Promise.all([prod.terminate(), cons.terminate()])
    if (c.items !== p.items || c.bad !== 0)
      throw new Error(`${kind}: pushed ${p.items}, popped ${c.items}, ${c.bad} out of order`)
    return { rate: c.items / ((c.t1 - p.t0) / 1000), items: c.items }
  }

  const fmt = (r) => `${(r / 1e6).toFixed(1)} M items/s`
  const batched = await run('batched')
  const post = await run('postMessage')
  const unbatched = await run('unbatched')
  const channel = await run('channel')
  const postTokens = await run('postMessageTokens')
  const ok = batched.rate >= GOAL ? 'ok' : 'MISSED'
  console.log(
    `ring spsc batched (${BATCH}/batch): ${fmt(batched.rate)} | ref postMessage (${BATCH}/message): ${fmt(post.rate)} | ratio ${(batched.rate / post.rate).toFixed(1)}x | goal >= ${GOAL / 1e6} M items/s: ${ok}`,
  )
  console.log(
    `ring spsc batched (${BATCH}/batch): ${fmt(batched.rate)} | ref same ring unbatched (tryPush/tryPop): ${fmt(unbatched.rate)} | ratio ${(batched.rate / unbatched.rate).toFixed(1)}x`,
  )
  console.log(
    `ring channel (32 tokens/batch): ${fmt(channel.rate)} | ref postMessage (32 Token objects/message): ${fmt(postTokens.rate)} | ratio ${(channel.rate / postTokens.rate).toFixed(1)}x`,
  )
  console.log(
    `items checked in order: batched ${batched.items}, postMessage ${post.items}, unbatched ${unbatched.items}, channel ${channel.items}, postMessage tokens ${postTokens.items}; ${DURATION_MS} ms each, node ${process.version}`,
  )
}
