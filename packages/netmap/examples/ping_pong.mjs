// ping_pong: "hello world" over a pipe, master → slave and back (netmap-rs examples/ping_pong.rs, on a pipe
// rather than a NIC: `netmap:NAME{ID` one end, `netmap:NAME}ID` the other).
import { NetmapBuilder } from '@x/netmap'

const name = process.argv[2] ?? `pingpong${process.pid}`
const a = new NetmapBuilder(`netmap:${name}{1`).build()
const b = new NetmapBuilder(`netmap:${name}}1`).build()
try {
  const ping = new TextEncoder().encode('hello world')
  a.txRing(0).send(ping)
  a.txRing(0).sync()
  b.rxRing(0).sync()
  const got = b.rxRing(0).recv()
  console.log('pong side received:', new TextDecoder().decode(got.payload()))
  b.txRing(0).send(got.payload()) // echo it back, zero-copy view into the slot buffer
  b.txRing(0).sync()
  b.rxRing(0).sync() // releases the received slot
  a.rxRing(0).sync()
  const back = a.rxRing(0).recv()
  const ok = back !== null && new TextDecoder().decode(back.payload()) === 'hello world'
  console.log(ok ? 'ping_pong ok' : 'ping_pong FAILED')
  process.exitCode = ok ? 0 : 1
} finally {
  a.close()
  b.close()
}
