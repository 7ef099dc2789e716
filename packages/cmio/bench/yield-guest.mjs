// The guest of bench/yields.mjs (a child process): N manual yields through the emulated device, blocking (yield_)
// or async (yieldAsync); prints {"perSecond": …}. argv: device, N, mode (sync | async).
import { Cmio } from '@x/cmio'

const [device, nArg, mode] = process.argv.slice(2)
const n = Number(nArg)
const c = Cmio.open({ device })
const y = { dev: 2, cmd: 1, reason: 0x43, data: 0 }
const run = async (count) => {
  for (let i = 0; i < count; i++) {
    y.data = 0
    if (mode === 'async') await c.yieldAsync(y)
    else c.yield_(y)
  }
}
await run(Math.min(n, 5000)) // warm up
const t = process.hrtime.bigint()
await run(n)
const s = Number(process.hrtime.bigint() - t) / 1e9
c.close()
console.log(JSON.stringify({ perSecond: n / s }))
