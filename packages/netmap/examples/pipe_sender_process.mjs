// pipe_sender_process: opens the master end by name and sends 3 packets (netmap-rs examples/pipe_sender_process.rs;
// fixed: a valid pipe name `netmap:NAME{ID`, and the receiver opens `}`). Run pipe_receiver_process.mjs with the same
// NAME in another terminal; either may start first.
import { NetmapBuilder } from '@x/netmap'

const name = process.argv[2] ?? 'ipcdemo'
const nm = new NetmapBuilder(`netmap:${name}{1`).build()
const tx = nm.txRing(0)
for (let i = 0; i < 3; i++) {
  while (!tx.send(new TextEncoder().encode(`message ${i} from ${process.pid}`))) await tx.ready()
  tx.sync()
  console.log(`sent message ${i}`)
}
// wait until the receiver has taken them, then close (the last closer removes the region)
await tx.ready(tx.numSlots - 1)
nm.close()
console.log('sender done')
