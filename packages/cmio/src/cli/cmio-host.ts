// `cmio-host --socket PATH [--tap IFNAME] [--forward LOCAL=REMOTE ...] [--inputs SPEC]` — the host side of an
// emulated CMIO device: serves one guest's yields (0x42 TAP, 0x43 sockets, rollup inputs) and exits when the guest
// detaches (0) or on SIGINT/SIGTERM (0); 1 when it cannot start, 2 on a usage error.
import { lstatSync, unlinkSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { TapPort } from '../bridge/port.js'
import { Domain } from '../constants.js'
import { type Endpoint, type Forwarder, formatEndpoint, forward, parseEndpoint } from '../host/forward.js'
import { CmioHost } from '../host/host.js'
import { SocketMuxHost } from '../host/mux.js'
import { rollupInputs } from '../host/rollup.js'
import { routeYields } from '../host/route.js'
import { TapHost } from '../host/tap.js'
import type { YieldHandler } from '../host/types.js'

export const USAGE = `Usage: cmio-host --socket PATH [options]

  --socket PATH            where the emulated device listens (the guest's --device / CMIO_DEVICE)
  --tap IFNAME             serve the TAP bridge (GIO 0x42) on host TAP interface IFNAME
  --forward LOCAL=REMOTE   listen at LOCAL and carry each connection to REMOTE inside the guest (GIO 0x43);
                           each a Unix path or host:port (REMOTE: IPv4:port); repeatable
  --inputs SPEC            rollup inputs, libcmt mock style: "<reason>:<file>,..." (outputs next to them)
  --hold-ms N              longest an idle poll is held (default 1)
  --packet-info            --tap: frames carry the 4-byte tun_pi header (must match the guest's)
  --vnet-hdr               --tap: frames carry a virtio_net_hdr, GSO super-frames (must match the guest's)
  --keep                   serve the next guest after one detaches instead of exiting
`

function log(s: string): void {
  process.stderr.write(`cmio-host: ${s}\n`)
}

function unlinkStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path)
  } catch {}
}

export async function main(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values']
  try {
    values = parse(argv).values
  } catch (e) {
    process.stderr.write(`cmio-host: ${(e as Error).message}\n${USAGE}`)
    return 2
  }
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (!values.socket) {
    process.stderr.write(`cmio-host: --socket is required\n${USAGE}`)
    return 2
  }
  const holdMs = values['hold-ms'] === undefined ? 1 : Number(values['hold-ms'])
  let forwards: { local: Endpoint; remote: Endpoint }[]
  try {
    forwards = (values.forward ?? []).map((f) => {
      const i = f.indexOf('=')
      if (i <= 0) throw new Error(`--forward wants LOCAL=REMOTE, got ${JSON.stringify(f)}`)
      return { local: parseEndpoint(f.slice(0, i)), remote: parseEndpoint(f.slice(i + 1)) }
    })
    if (!Number.isFinite(holdMs) || holdMs < 0) throw new Error('--hold-ms wants a number ≥ 0')
  } catch (e) {
    process.stderr.write(`cmio-host: ${(e as Error).message}\n${USAGE}`)
    return 2
  }

  const closers: (() => unknown)[] = []
  const finish = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c()
  }
  try {
    const routes: Record<number, YieldHandler> = {}
    let tapHost: TapHost | null = null
    let mux: SocketMuxHost | null = null
    if (values.tap) {
      const port = TapPort.open(values.tap, { packetInfo: values['packet-info'], vnetHdr: values['vnet-hdr'] })
      closers.push(() => port.close())
      tapHost = new TapHost(port, { holdMs })
      routes[Domain.TAP] = tapHost.handler
      log(`TAP bridge on ${port.name}`)
      const t = tapHost
      closers.push(() => {
        const s = t.stats
        log(
          `TAP: ${s.framesIn} frames (${s.bytesIn} bytes) from the guest, ${s.framesOut} (${s.bytesOut}) to it; ` +
            `largest ${s.largestIn}/${s.largestOut}; ${s.yields} yields, ${s.dropped} dropped, ${s.oversize} oversize`,
        )
      })
    }
    const fwds: Forwarder[] = []
    if (forwards.length > 0) {
      mux = new SocketMuxHost({ holdMs })
      mux.on('protocolError', (e) => log(`socket mux: ${e.message}`))
      routes[Domain.SOCKETS] = mux.handler
      for (const f of forwards) {
        if ('path' in f.local) unlinkStaleSocket(f.local.path)
        const fw = await forward(mux, f.local, f.remote)
        fwds.push(fw)
        closers.push(() => fw.close())
        log(`forwarding ${formatEndpoint(f.local)} → guest ${formatEndpoint(f.remote)}`)
      }
    }
    const fallback = values.inputs !== undefined ? rollupInputs({ inputs: values.inputs }) : undefined
    const host = CmioHost.listen(values.socket)
    closers.push(() => host.close())
    host.onYield(routeYields(routes, fallback))
    log(`listening on ${values.socket}`)

    return await new Promise<number>((resolve) => {
      const stop = (sig: string): void => {
        log(`${sig}: stopping`)
        resolve(0)
      }
      const onInt = (): void => stop('SIGINT')
      const onTerm = (): void => stop('SIGTERM')
      process.once('SIGINT', onInt)
      process.once('SIGTERM', onTerm)
      closers.push(() => {
        process.off('SIGINT', onInt)
        process.off('SIGTERM', onTerm)
      })
      host.on('session', (s) => log(`guest attached (session ${s.id})`))
      host.on('error', (e) => log(`handler error: ${e.message}`))
      host.on('end', (s, end) => {
        log(`guest detached (session ${s.id}): ${end.reason}${end.byGuest ? '' : ` [status ${end.errno}]`}`)
        mux?.reset(end.reason)
        if (!values.keep) resolve(0)
      })
    })
  } catch (e) {
    log((e as Error).message)
    return 1
  } finally {
    await finish()
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      socket: { type: 'string' },
      tap: { type: 'string' },
      forward: { type: 'string', multiple: true },
      inputs: { type: 'string' },
      'hold-ms': { type: 'string' },
      'packet-info': { type: 'boolean' },
      'vnet-hdr': { type: 'boolean' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}
