// Node receiver for the RX benchmark (run inside the namespace): counts 0x88B5 frames with @x/nethuns, the way
// the C reference does (reads two bytes of each frame), and prints one JSON line with the rate.
//   node node-rx.mjs '{"backend":"af_packet","iface":"a1","count":1000000,"idleMs":500,"api":"batch"}'
import { create, PacketBatch } from '@x/nethuns'

const cfg = JSON.parse(process.argv[2])
const s = create(cfg.backend, cfg.iface, cfg.queue ?? null, cfg.flags ?? {})
const pool = s.context().pool
const mem = pool.bytes
const size = pool.bufSize
process.stdout.write('{"event":"ready"}\n')
const cpu0 = process.cpuUsage()
let n = 0
let first = 0
let last = 0
const idle = () => AbortSignal.timeout(n === 0 ? 10_000 : (cfg.idleMs ?? 500))
if ((cfg.api ?? 'batch') === 'batch') {
  // 'readable' events (one per wake-up, no promise or timer per wait) and caller-owned batches.
  const b = new PacketBatch(s.batchSize)
  await new Promise((resolve) => {
    let lastSeen = 0
    const tick = setInterval(() => {
      if (n > 0 && performance.now() - last > (cfg.idleMs ?? 500)) done()
      else if (n === 0 && performance.now() - lastSeen > 10_000) done()
    }, 50)
    const done = () => {
      clearInterval(tick)
      s.off('readable', drain)
      resolve()
    }
    const drain = () => {
      for (let k = s.recvBatch(b); k > 0; k = s.recvBatch(b)) {
        for (let i = 0; i < k; i++) {
          const o = b.descs[i] * size
          if (mem[o + 12] === 0x88 && mem[o + 13] === 0xb5) {
            if (n === 0) first = performance.now()
            n++
          }
        }
        last = performance.now()
        b.release()
        if (n >= cfg.count) return done()
      }
    }
    lastSeen = performance.now()
    s.on('readable', drain)
  })
} else {
  // recv(): a Payload and a metadata object per packet.
  while (n < cfg.count) {
    const r = s.recv()
    if (r === null) {
      try {
        await s.readable(idle())
      } catch {
        break
      }
      continue
    }
    const p = r[0].bytes
    if (p[12] === 0x88 && p[13] === 0xb5) {
      if (n === 0) first = performance.now()
      n++
      last = performance.now()
    }
    r[0].release()
  }
}
const cpu = process.cpuUsage(cpu0)
const st = s.stats()
s.close()
const secs = (last - first) / 1000
const cpuNs = n > 0 ? ((cpu.user + cpu.system) * 1000) / n : 0
console.log(
  JSON.stringify({
    what: `node ${cfg.backend} rx`,
    packets: n,
    secs,
    pps: secs > 0 ? (n - 1) / secs : 0,
    drops: st.kernelDrops,
    cpuNs,
  }),
)
