// pipe_receiver_process: opens the slave end `netmap:NAME}ID` and prints 3 packets, waiting on the doorbell.
import { NetmapBuilder } from '@x/netmap'

const name = process.argv[2] ?? 'ipcdemo'
const nm = new NetmapBuilder(`netmap:${name}}1`).build()
const rx = nm.rxRing(0)
for (let i = 0; i < 3; i++) {
  const f = await rx.next()
  console.log(`received: ${new TextDecoder().decode(f.payload())}`)
}
rx.sync() // give the slots back
nm.close()
console.log('receiver done')
