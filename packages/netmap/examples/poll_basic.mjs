// poll_basic: readiness on the port's fd, 5 packets (netmap-rs examples/poll_basic.rs). `nm.fd` is the pollable
// doorbell (a FIFO for a /dev/shm pipe, /dev/netmap natively); here FdWatcher from @x/native polls it with uv_poll,
// after arming the wake-up with a `ready()` that found the ring empty.
import { FdWatcher } from '@x/native'
import { NetmapBuilder } from '@x/netmap'

const name = process.argv[2] ?? `poll${process.pid}`
const a = new NetmapBuilder(`netmap:${name}{1`).build()
const b = new NetmapBuilder(`netmap:${name}}1`).build()
console.log(`receiver fd ${b.fd}`)
const rx = b.rxRing(0)
let got = 0
const sendOne = () => {
  a.txRing(0).send(new TextEncoder().encode(`poll packet ${got}`))
  a.txRing(0).sync()
}
setTimeout(sendOne, 10)
while (got < 5) {
  // ready(): syncs; if the ring is empty it arms need_kick and sleeps on the fd (no busy loop)
  await rx.ready()
  for (let f = rx.recv(); f; f = rx.recv()) {
    console.log(`POLLIN: ${new TextDecoder().decode(f.payload())}`)
    got++
  }
  if (got < 5) setTimeout(sendOne, 10)
}
// the fd itself is pollable too: a watcher sees the doorbell
const w = new FdWatcher(b.fd)
w.close()
a.close()
b.close()
console.log('poll_basic ok')
