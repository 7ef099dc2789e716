// `cmio network | unix | help` — the guest program (tapcmio's main.rs): bridges a TAP device (GIO 0x42) or the
// guest's Unix/TCP sockets (GIO 0x43) over the CMIO device. Exit status: 0 on SIGINT/SIGTERM, 1 when the device
// failed (the host went away, the session was ended), 2 on a usage error.
import { parseArgs } from 'node:util'
import { SocketBridge } from '../bridge/mux.js'
import { TapPort } from '../bridge/port.js'
import { TapBridge } from '../bridge/tap.js'
import { Cmio } from '../cmio.js'

export const USAGE = `Usage: cmio <network|unix|help> [options]

  network   bridge a TAP interface over the CMIO device (GIO domain 0x42)
  unix      serve the socket multiplexer over the CMIO device (GIO domain 0x43)
  help      show this text

Options:
  --device PATH   the CMIO device: a Cartesi kernel's /dev/cmio or an emulated device's socket
                  (default: $CMIO_DEVICE, else /dev/cmio)
  --tap NAME      network: the TAP interface to open (default tapcmio0)
  --packet-info   network: keep the 4-byte tun_pi header on every frame (tapcmio's bytes; the host must agree)
  --vnet-hdr      network: frames carry a virtio_net_hdr and may be 64 KiB GSO super-frames (the host must agree;
                  the TAP needs gso_max_size <= 65000)
`

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (e) {
    process.stderr.write(`cmio: ${(e as Error).message}\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  const mode = positionals[0] ?? 'help'
  if (mode === 'help' || values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (mode !== 'network' && mode !== 'unix') {
    process.stderr.write(`cmio: unknown mode ${JSON.stringify(mode)}\n${USAGE}`)
    return 2
  }
  const ac = new AbortController()
  const stop = (): void => ac.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  let cmio: Cmio | null = null
  let tap: TapPort | null = null
  try {
    // one handle per process, opened once (tapcmio's network mode opened the device twice: EBUSY)
    cmio = await Cmio.openAsync({ device: values.device })
    if (mode === 'network') {
      tap = TapPort.open(values.tap ?? 'tapcmio0', { packetInfo: values['packet-info'], vnetHdr: values['vnet-hdr'] })
      process.stderr.write(`cmio: bridging ${tap.name} over ${cmio.path} (${cmio.backend})\n`)
      const bridge = new TapBridge(cmio, tap)
      await bridge.run(ac.signal)
    } else {
      process.stderr.write(`cmio: serving sockets over ${cmio.path} (${cmio.backend})\n`)
      const bridge = new SocketBridge(cmio)
      await bridge.run(ac.signal)
    }
    return 0
  } catch (e) {
    if (ac.signal.aborted) return 0
    process.stderr.write(`cmio: ${(e as Error).message}\n`)
    return 1
  } finally {
    tap?.close()
    cmio?.close()
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      device: { type: 'string' },
      tap: { type: 'string' },
      'packet-info': { type: 'boolean' },
      'vnet-hdr': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}
