// fec: forward error correction over a pipe (netmap-rs examples/fec.rs): a message split into 2 data shards plus 1
// parity shard (Reed–Solomon over 2+1 shards is the XOR of the data shards), the shard index in byte 0; shard 0 is
// "lost" on the way, and the receiver reconstructs the message from shard 1 and the parity.
import { NetmapBuilder } from '@x/netmap'

const name = process.argv[2] ?? `fec${process.pid}`
const a = new NetmapBuilder(`netmap:${name}{1`).build()
const b = new NetmapBuilder(`netmap:${name}}1`).build()
try {
  const message = new TextEncoder().encode('forward error correction over a netmap pipe!')
  const half = Math.ceil(message.length / 2)
  const d0 = new Uint8Array(half)
  const d1 = new Uint8Array(half)
  d0.set(message.subarray(0, half))
  d1.set(message.subarray(half))
  const parity = d0.map((x, i) => x ^ d1[i])
  const tx = a.txRing(0)
  for (const [idx, shard] of [
    [0, d0],
    [1, d1],
    [2, parity],
  ]) {
    if (idx === 0) continue // injected loss: shard 0 never reaches the ring
    const r = tx.reserveBatch(1)
    const p = r.packet(0, 1 + shard.length)
    p[0] = idx
    p.set(shard, 1)
    r.commit()
  }
  tx.sync()
  const rx = b.rxRing(0)
  rx.sync()
  const shards = []
  for (let f = rx.recv(); f; f = rx.recv()) {
    const p = f.payload()
    shards[p[0]] = p.slice(1)
  }
  rx.sync()
  console.log(`received shards ${Object.keys(shards).join(', ')}`)
  const r0 = shards[0] ?? shards[2].map((x, i) => x ^ shards[1][i]) // reconstruct the lost data shard
  const out = new Uint8Array(message.length)
  out.set(r0.subarray(0, half))
  out.set(shards[1].subarray(0, message.length - half), half)
  const text = new TextDecoder().decode(out)
  console.log(`reconstructed: ${text}`)
  const ok = text === new TextDecoder().decode(message)
  console.log(ok ? 'fec ok' : 'fec FAILED')
  process.exitCode = ok ? 0 : 1
} finally {
  a.close()
  b.close()
}
