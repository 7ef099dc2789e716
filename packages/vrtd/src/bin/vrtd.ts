#!/usr/bin/env node
import { userInfo } from 'node:os'
// vrtd — the V80 Runtime Daemon in TypeScript. `vrtd --config F [--socket P]`; see --help.
import { parseArgs } from 'node:util'
import { ConfigError } from '../daemon/config.js'
import { Daemon } from '../daemon/daemon.js'
import { simulatorConfig } from '../daemon/default-config.js'
import { LEVELS, type LogLevel } from '../daemon/log.js'
import { sdNotify } from '../daemon/systemd.js'
import { isProtocol } from '../protocol.js'

const USAGE = `usage: vrtd [--config FILE | --sim] [--socket PATH] [--protocol v0|v1.0]
            [--log FILE|stderr] [--log-level debug|info|notice|warning|error]
            [--max-clients N] [--idle-timeout MS] [--check]

  --config FILE     configuration (default $VRTD_CONFIG, else /etc/vrt/vrtd.conf)
  --sim             the embedded simulator configuration: one simulated device, fullaccess for root and you
  --socket PATH     listen here (default $VRTD_SOCKET, else /run/vrtd.sock); a systemd-activated socket wins
  --protocol REV    protocol revision served (default v1.0)
  --log DEST        JSON-lines log destination (default $VRTD_LOG, else stderr)
  --check           load and validate the configuration, print a summary, exit
signals: SIGHUP reloads the configuration; SIGINT, SIGTERM and SIGQUIT stop the daemon.`

function main(): number {
  let args: ReturnType<typeof parse>
  try {
    args = parse()
  } catch (e) {
    process.stderr.write(`vrtd: ${(e as Error).message}\n${USAGE}\n`)
    return 2
  }
  const v = args.values
  if (v.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const protocol = v.protocol ?? 'v1.0'
  const level = (v['log-level'] ?? 'info') as LogLevel
  if (!isProtocol(protocol) || !(level in LEVELS) || (v.config && v.sim)) {
    process.stderr.write(`vrtd: bad arguments\n${USAGE}\n`)
    return 2
  }
  const num = (s: string | undefined, what: string): number => {
    const n = s === undefined ? 0 : Number(s)
    if (!Number.isInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer`)
    return n
  }
  let daemon: Daemon
  try {
    daemon = Daemon.start({
      config: v.config,
      configText: v.sim ? simulatorConfig({ users: [userInfo().username] }) : undefined,
      socket: v.socket,
      protocol,
      log: { level: v.check ? 'warning' : level, sink: v.log ?? (process.env.VRTD_LOG || 'stderr') },
      maxClients: num(v['max-clients'], '--max-clients'),
      idleTimeout: num(v['idle-timeout'], '--idle-timeout'),
      ...(v.check
        ? { socket: `${process.env.TMPDIR ?? '/tmp'}/vrtd-check-${process.pid}.sock`, socketActivation: false }
        : {}),
    })
  } catch (e) {
    process.stderr.write(`vrtd: ${e instanceof ConfigError ? e.message : (e as Error).message}\n`)
    return 1
  }
  if (v.check) {
    const c = daemon.config
    process.stdout.write(
      `ok: ${c.roles.size} roles, ${c.users.length} users, ${c.groups.length} groups, ${c.devices.length} devices (${c.devices.map((d) => d.name).join(', ')})\n`,
    )
    daemon.close()
    return 0
  }
  const stop = (sig: string): void => {
    daemon.log.info(`Received ${sig}, exiting`)
    sdNotify('STOPPING=1')
    daemon.close()
    process.exit(0)
  }
  for (const s of ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const) process.on(s, () => stop(s))
  process.on('SIGHUP', () => {
    sdNotify('RELOADING=1')
    daemon.reload()
    sdNotify('READY=1')
  })
  const wd = Number(process.env.WATCHDOG_USEC ?? 0)
  if (wd > 0 && (process.env.WATCHDOG_PID === undefined || Number(process.env.WATCHDOG_PID) === process.pid)) {
    setInterval(() => sdNotify('WATCHDOG=1'), Math.max(1, Math.floor(wd / 2000)))
  }
  sdNotify('READY=1')
  return -1
}

function parse() {
  return parseArgs({
    options: {
      config: { type: 'string', short: 'c' },
      sim: { type: 'boolean' },
      socket: { type: 'string', short: 's' },
      protocol: { type: 'string' },
      log: { type: 'string' },
      'log-level': { type: 'string' },
      'max-clients': { type: 'string' },
      'idle-timeout': { type: 'string' },
      check: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  })
}

const code = main()
if (code >= 0) process.exitCode = code
