// Tour step for @x/thunderbolt: one transport on the loopback interface (its default ports 5000/5001, or
// ephemeral ones if those are taken or THUNDERBOLT_TOUR_PORTS=0), talking to itself at ::1%lo — a control message, a ping, a data stream.
// No namespaces, no root. Run after a build: `node tour.mjs`.
import { isTransportError, ThunderboltTransportBuilder } from '@x/thunderbolt'

let onMessage
let onStream
const messageIn = new Promise((r) => {
  onMessage = r
})
const streamDone = new Promise((r) => {
  onStream = r
})
const handler = (type, data, from) => {
  if (type === 'ControlMessage') {
    onMessage({ data, from })
    return
  }
  let n = 0
  data.on('data', (c) => {
    n += c.length
  })
  data.on('end', () => {
    data.end()
    onStream(n)
  })
}

function build(ports) {
  const b = new ThunderboltTransportBuilder().interface('lo').messageHandler(handler)
  if (ports) b.controlPort(0).dataPort(0)
  return b.build()
}

let t
try {
  t = build(process.env.THUNDERBOLT_TOUR_PORTS === '0') // the tests ask for ephemeral ports
} catch (e) {
  if (!isTransportError(e, 'Io')) throw e
  t = build(true) // 5000/5001 busy on this machine
}
const peer = '::1%lo'
const timeout = setTimeout(() => {
  console.error('tour: timed out')
  process.exit(1)
}, 5000)
console.log(`transport on lo (index ${t.interfaceIndex}): control ${t.controlPort}/udp, data ${t.dataPort}/tcp`)

const sent = await t.sendMessage(Buffer.from('hello, thunderbolt'), peer)
const msg = await messageIn
console.log(`control message: sent ${sent} bytes, received "${msg.data}" from ${msg.from.peer}`)

const rtt = await t.measureRtt(peer, 1000)
console.log(`ping: ${rtt === null ? 'timed out' : `RTT ${(rtt * 1e6).toFixed(1)} µs`} (16-byte RTTPT/RTTPS ping/pong)`)

const s = await t.openDataStream(peer)
const bytes = 8 * 1024 * 1024
const t0 = process.hrtime.bigint()
s.resume()
s.end(Buffer.alloc(bytes, 7))
const received = await streamDone
const secs = Number(process.hrtime.bigint() - t0) / 1e9
console.log(
  `data stream: ${received} bytes in ${(secs * 1000).toFixed(1)} ms (${((received * 8) / secs / 1e9).toFixed(2)} Gbit/s)`,
)
const st = t.getStats()
console.log(
  `stats: ${st.messagesSent} sent / ${st.messagesReceived} received messages, ${st.connectionsInitiated} initiated / ${st.connectionsAccepted} accepted streams`,
)
await t.close()
clearTimeout(timeout)
