// Tour step for @x/ring: a worker fills pool buffers and sends their tokens over a Channel; the main thread
// reads each payload in place (zero-copy) and releases it back into the shared free list.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { BufferPool, Channel, Pusher } from '@x/ring'

const COUNT = 100_000

if (!isMainThread) {
  const pool = BufferPool.attach(workerData.pool)
  const pusher = Pusher.attach(workerData.channel)
  const batch = []
  for (let i = 0; i < COUNT; i++) {
    let d = pool.tryAlloc()
    while (d < 0) {
      pool.allocWait(100)
      d = pool.tryAlloc()
    }
    pool.view(d).fill(i & 0xff, 0, 64)
    batch.push(pool.token(d, 64))
    if (batch.length === pusher.batchSize || i === COUNT - 1) {
      pusher.pushTokens(batch)
      batch.length = 0
    }
  }
  pusher.close()
  parentPort.postMessage('done')
} else {
  const pool = new BufferPool({ bufSize: 2048, count: 1024 })
  const channel = new Channel({ batchSize: 32, capacity: 16 })
  const t0 = performance.now()
  const worker = new Worker(new URL(import.meta.url), { workerData: { pool: pool.share(), channel: channel.share() } })
  let got = 0
  let bad = 0
  for await (const tokens of channel.popper.tokens()) {
    for (const t of tokens) {
      const p = pool.packet(t)
      if (p.bytes[63] !== (got & 0xff)) bad++
      p.release()
      got++
    }
  }
  const ms = performance.now() - t0
  await new Promise((r) => worker.once('exit', r))
  console.log(`  a worker sent ${got.toLocaleString()} 64-byte buffers as tokens over a Channel in ${ms.toFixed(0)} ms`)
  console.log(
    `  the main thread read each in place and released it: ${bad} mismatches, ${pool.available} of ${1024} buffers free`,
  )
}
