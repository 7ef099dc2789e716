// tokio_pipe_async: the async API over a pipe, 5 × 60-byte packets (netmap-rs examples/tokio_pipe_async.rs; fixed:
// the two ends are `{` and `}`, and the syncs are real). Promises and the RX async iterator; no polling loop.
import { NetmapBuilder } from '@x/netmap'

const name = process.argv[2] ?? `async${process.pid}`
const a = new NetmapBuilder(`netmap:${name}{1`).build()
const b = new NetmapBuilder(`netmap:${name}}1`).build()
const sender = (async () => {
  const tx = a.txRing(0)
  for (let i = 0; i < 5; i++) {
    await tx.ready(1)
    tx.send(new Uint8Array(60).fill(i))
    tx.sync()
    await new Promise((r) => setTimeout(r, 5))
  }
})()
let n = 0
for await (const frame of b.rxRing(0)) {
  const p = frame.payload()
  console.log(`received ${p.length} bytes of ${p[0]}`)
  if (p.length !== 60 || p[0] !== n) process.exitCode = 1
  if (++n === 5) break
}
await sender
a.close()
b.close()
console.log(process.exitCode ? 'tokio_pipe_async FAILED' : 'tokio_pipe_async ok')
