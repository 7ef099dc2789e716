// Tour step for @x/native: a sealed memfd mapped twice, passed over SEQPACKET with SCM_RIGHTS, an eventfd doorbell.
import { addSeals, EventFd, memfdCreate, mmap, Seal, SeqpacketSocket, waitReadable } from '@x/native'

const bar = memfdCreate('tour-bar', { size: 4096 })
addSeals(bar, Seal.SHRINK | Seal.GROW)
const [a, b] = SeqpacketSocket.pair()
a.send(Buffer.from('here is a BAR'), [bar])
const msg = await b.recv()
const theirs = msg.fds[0]
const mine = mmap(bar, 4096)
const other = mmap(theirs, 4096)
mine.view().setUint32(0x40, 0xc0ffee, true)
console.log(`  memfd passed over SEQPACKET ("${Buffer.from(msg.data)}"): fd ${bar.fd} arrived as fd ${theirs.fd}`)
console.log(
  `  wrote 0xc0ffee through one mapping, read 0x${other.view().getUint32(0x40, true).toString(16)} through the other`,
)
console.log(`  peer credentials over SO_PEERCRED: ${JSON.stringify(b.peerCred())}`)
const bell = new EventFd()
const rung = waitReadable(bell)
setTimeout(() => bell.write(3), 5)
await rung
console.log(`  eventfd doorbell rang with count ${bell.read()} (an FdWatcher event, no polling)`)
for (const x of [mine, other]) x.unmap()
for (const x of [theirs, bar, bell, a, b]) x.close()
