#!/usr/bin/env node
// tbt — the Thunderbolt transport from the shell.
//   tbt [--interface IF] [--control-port P] [--data-port P] listen
//   tbt … send PEER HEX
//   tbt … ping PEER [--count N] [--timeout MS]
//   tbt … stream PEER [--bytes N]
import { parseArgs } from 'node:util'
import { ThunderboltTransportBuilder } from '../builder.js'
import { isTransportError } from '../errors.js'
import type { ThunderboltTransport } from '../transport.js'

const USAGE = `usage: tbt [--interface IF] [--control-port P] [--data-port P] <command>
  listen                          print each control message as a line of hex, and each accepted
                                  stream's byte count when it ends (Ctrl-C to stop)
  send PEER HEX                   send the bytes HEX (e.g. 0102ff) as one control message
  ping PEER [--count N] [--timeout MS]
                                  measure RTT N times (default 5); print each, then min/p50/p99
  stream PEER [--bytes N]         send N bytes (default 256M; suffixes K, M, G) on a data stream, print Gbit/s
options: --interface (default thunderbolt0), --control-port (5000), --data-port (5001), --buffer-size BYTES
PEER: fe80::1%thunderbolt0, fe80::1%2, fe80::1 (on --interface), ::1%lo`

class UsageError extends Error {}

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer, got ${v}`)
  return Number(v)
}

function size(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt
  const m = /^(\d+)([kmg]?)(i?b)?$/i.exec(v)
  if (!m) throw new UsageError(`--bytes must be a number with an optional K/M/G suffix, got ${v}`)
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g']
  return Number(m[1]) * mult
}

function hexBytes(v: string): Buffer {
  const h = v.replace(/^0x/i, '').replace(/[\s:]/g, '')
  if (!/^([0-9a-f]{2})*$/i.test(h)) throw new UsageError(`HEX must be pairs of hex digits, got ${v}`)
  return Buffer.from(h, 'hex')
}

const pctl = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
const us = (s: number): string => `${(s * 1e6).toFixed(1)} µs`

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      interface: { type: 'string', short: 'i' },
      'control-port': { type: 'string' },
      'data-port': { type: 'string' },
      'buffer-size': { type: 'string' },
      count: { type: 'string', short: 'c' },
      timeout: { type: 'string' },
      bytes: { type: 'string', short: 'n' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [cmd, peer, arg] = positionals
  if (values.help || cmd === undefined) {
    console.log(USAGE)
    return values.help ? 0 : 2
  }
  const builder = new ThunderboltTransportBuilder()
    .interface(values.interface ?? 'thunderbolt0')
    .controlPort(int('control-port', values['control-port'], 5000))
    .dataPort(int('data-port', values['data-port'], 5001))
  if (values['buffer-size'] !== undefined) builder.bufferSize(size(values['buffer-size'], 0))
  const needPeer = (): string => {
    if (peer === undefined) throw new UsageError(`${cmd} needs a PEER`)
    return peer
  }

  if (cmd === 'listen') {
    const t = builder
      .messageHandler((_type, data, from) => {
        if (Buffer.isBuffer(data)) {
          process.stdout.write(`${data.toString('hex')}\n`)
          return
        }
        let n = 0
        data.on('data', (c: Buffer) => {
          n += c.length
        })
        data.on('end', () => {
          process.stdout.write(`stream ${n} bytes from ${from.peer}\n`)
          data.end()
        })
        data.on('error', () => {})
      })
      .build()
    process.stderr.write(
      `tbt: listening on ${t.interface} (index ${t.interfaceIndex}), control ${t.controlPort}/udp, data ${t.dataPort}/tcp\n`,
    )
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await t.close()
    return 0
  }

  // One-shot commands: no listener, and an ephemeral local control port, so they run next to a `tbt listen`.
  const client = (): ThunderboltTransport => builder.options({ listen: false, localControlPort: 0 }).build()

  if (cmd === 'send') {
    const p = needPeer()
    if (arg === undefined) throw new UsageError('send needs HEX bytes')
    const bytes = hexBytes(arg)
    const t = client()
    try {
      const n = await t.sendMessage(bytes, p)
      console.log(`sent ${n} bytes to ${p}`)
    } finally {
      await t.close()
    }
    return 0
  }

  if (cmd === 'ping') {
    const p = needPeer()
    const count = int('count', values.count, 5)
    const timeout = int('timeout', values.timeout, 1000)
    const t = client()
    const rtts: number[] = []
    try {
      for (let i = 0; i < count; i++) {
        const r = await t.measureRtt(p, timeout)
        if (r === null) console.log(`ping ${i + 1}: timeout`)
        else {
          rtts.push(r)
          console.log(`ping ${i + 1}: rtt ${us(r)}`)
        }
      }
    } finally {
      await t.close()
    }
    if (rtts.length === 0) {
      console.log(`no answer from ${p} (${count} sent)`)
      return 1
    }
    const s = [...rtts].sort((a, b) => a - b)
    console.log(`${rtts.length}/${count} answered: min ${us(s[0]!)} p50 ${us(pctl(s, 0.5))} p99 ${us(pctl(s, 0.99))}`)
    return 0
  }

  if (cmd === 'stream') {
    const p = needPeer()
    const total = size(values.bytes, 256 * 1024 * 1024)
    const t = client()
    try {
      const s = await t.openDataStream(p)
      const chunk = Buffer.alloc(Math.min(1 << 20, Math.max(total, 1)), 0x5a)
      const t0 = process.hrtime.bigint()
      await new Promise<void>((resolve, reject) => {
        let sent = 0
        s.on('error', reject)
        s.on('close', () => resolve())
        s.resume()
        const pump = (): void => {
          while (sent < total) {
            const n = Math.min(chunk.length, total - sent)
            sent += n
            if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
              s.once('drain', pump)
              return
            }
          }
          s.end()
        }
        pump()
      })
      const secs = Number(process.hrtime.bigint() - t0) / 1e9
      console.log(`sent ${total} bytes in ${secs.toFixed(3)} s: ${((total * 8) / secs / 1e9).toFixed(2)} Gbit/s`)
    } finally {
      await t.close()
    }
    return 0
  }

  throw new UsageError(`unknown command ${cmd}`)
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`tbt: ${(e as Error).message}\n${USAGE}`)
      process.exitCode = 2
    } else {
      console.error(`tbt: ${isTransportError(e) ? e.message : String((e as Error)?.message ?? e)}`)
      process.exitCode = 1
    }
  },
)
