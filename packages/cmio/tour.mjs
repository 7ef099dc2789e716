// Tour step for @x/cmio: an in-process guest and host. The guest's device is the in-process backend; its host side
// serves the TAP bridge (GIO 0x42) on an in-memory frame link and the socket multiplexer (GIO 0x43). A frame crosses
// one way, a socket message goes to a Unix echo server beside the guest and comes back. No root needed.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  Cmio,
  Domain,
  formatYield,
  MemoryPort,
  packYield,
  routeYields,
  SocketBridge,
  SocketMuxHost,
  TapBridge,
  TapHost,
  unpackYield,
} from '@x/cmio'

const dir = mkdtempSync(join(tmpdir(), 'xcmio-tour-'))
const echoPath = join(dir, 'echo.sock')
const echo = createServer((c) => c.pipe(c))
await new Promise((r) => echo.listen(echoPath, r))

const [guestTap, guestKernel] = MemoryPort.pair()
const [hostTap, hostKernel] = MemoryPort.pair()
const tapHost = new TapHost(hostTap)
const mux = new SocketMuxHost()
const cmio = Cmio.open({
  backend: 'inprocess',
  handler: routeYields({ [Domain.TAP]: tapHost.handler, [Domain.SOCKETS]: mux.handler }),
})
const tap = new TapBridge(cmio, guestTap)
const sockets = new SocketBridge(cmio)

const w = packYield({ dev: 2, cmd: 1, reason: Domain.TAP, data: 16 })
console.log(
  `  ${cmio.backend} device, tx/rx ${cmio.getTxLength() >> 20} MiB; TAP request ${formatYield(unpackYield(w))} = 0x${w.toString(16).padStart(16, '0')}`,
)

const frame = new Uint8Array(1514).map((_, i) => i & 0xff)
guestKernel.write(frame)
await tap.step()
const got = new Uint8Array(2048)
const n = hostKernel.read(got)
const intact = n === 1514 && got.subarray(0, n).every((b, i) => b === (i & 0xff))
console.log(
  `  a ${n}-byte frame crossed guest → host over GIO 0x42 ${intact ? 'intact' : 'DAMAGED'} in ${tap.stats.yields} yield`,
)

const s = mux.connectUnix(echoPath)
const reply = new Promise((resolve) => s.once('data', (d) => resolve(d.toString())))
s.write('hello over GIO 0x43')
const ac = new AbortController()
const running = sockets.run(ac.signal).catch(() => {})
const text = await reply
ac.abort()
await running
console.log(`  host stream → guest Unix echo server → "${text}" back in ${sockets.stats.yields} yields`)

const auto = cmio.yield_({ dev: 0, cmd: 0, reason: 4, data: 0 })
const ignored = cmio.yieldWord(0x0202000000000000n)
console.log(`  automatic yield acknowledged as dev ${auto.dev}; a cmd-2 yield is ignored (the guest reads ${ignored})`)

s.destroy()
cmio.close()
echo.close()
rmSync(dir, { recursive: true, force: true })
const ok = intact && text === 'hello over GIO 0x43'
process.exit(ok ? 0 : 1)
