// Node sender for the TX benchmark: `count` 64-byte 0x88B5 frames through @x/nethuns as fast as the ring takes
// them (send + flush every 64, or reserveTx/commitTx), rate = frames the kernel completed / time.
//   node node-tx.mjs '{"backend":"af_packet","iface":"a0","count":1000000,"size":64,"api":"send"}'
import { create } from '@x/nethuns'

const cfg = JSON.parse(process.argv[2])
const s = create(cfg.backend, cfg.iface, cfg.queue ?? null, { mode: 'tx_only', ...(cfg.flags ?? {}) })
const size = cfg.size ?? 64
const frame = new Uint8Array(size)
frame.fill(0xff, 0, 6)
frame.set([2, 0, 0, 0, 0, 1], 6)
frame[12] = 0x88
frame[13] = 0xb5
process.stdout.write('{"event":"ready"}\n')
const zc = cfg.api === 'zerocopy'
const t0 = performance.now()
const cpu0 = process.cpuUsage()
let queued = 0
while (queued < cfg.count) {
  let ok
  if (zc) {
    const v = s.reserveTx()
    ok = v !== null
    if (ok) {
      v.set(frame)
      s.commitTx(size)
    }
  } else {
    ok = s.send(frame)
  }
  if (ok) {
    queued++
    if ((queued & 63) === 0) {
      s.flush()
      if (performance.now() - t0 > 30_000) break
    }
  } else {
    s.flush()
    if (!s.send(frame)) await s.writable()
    else queued++
  }
}
s.flush()
while (s.stats().sent < queued && performance.now() - t0 < 35_000) {
  s.flush()
  await new Promise((r) => setImmediate(r))
}
const secs = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
const sent = s.stats().sent
s.close()
const cpuNs = sent > 0 ? ((cpu.user + cpu.system) * 1000) / sent : 0
console.log(
  JSON.stringify({
    what: `node ${cfg.backend} tx${zc ? ' (reserveTx)' : ''}`,
    packets: sent,
    secs,
    pps: sent / secs,
    drops: 0,
    cpuNs,
  }),
)
