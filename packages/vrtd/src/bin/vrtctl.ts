#!/usr/bin/env node
// vrtctl — talk to vrtd from the shell. Plain, scriptable output: one record per line, hex values 0x-prefixed;
// errors on stderr as "vrtctl: CODE: message" with exit status 1 (2 for usage errors).
import { parseArgs } from 'node:util'
import type { BarFile, Width } from '../bar-file.js'
import { BlockingConnection } from '../blocking.js'
import { getBarInfo, getDeviceInfo, getNumDevices, openBarFile } from '../client.js'
import { VrtdError } from '../errors.js'
import { isProtocol } from '../protocol.js'

const USAGE = `usage: vrtctl [--socket PATH] [--protocol v0|v1.0] [--timeout MS] COMMAND
  devices                                   index, name, BDF and vendor:device of every device
  bar-info DEV BAR                          usable, in_use, start, length of a BAR
  read DEV BAR OFFSET [--width 8|16|32|64]  one register (default 32-bit), printed as 0x…
  write DEV BAR OFFSET VALUE [--width …]    one register write
  dump DEV BAR OFFSET LEN                   hexdump of LEN bytes
socket: --socket, else $VRTD_SOCKET, else /run/vrtd.sock. Numbers may be decimal or 0x-hex.`

class UsageError extends Error {}

function int(s: string | undefined, what: string): number {
  if (s === undefined) throw new UsageError(`missing ${what}`)
  const n = /^(0x[0-9a-f]+|\d+)$/i.test(s) ? Number(s) : Number.NaN
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what} must be a non-negative integer, got ${s}`)
  return n
}

function bigValue(s: string | undefined): bigint {
  if (s === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(s))
    throw new UsageError(`VALUE must be a non-negative integer, got ${s}`)
  return BigInt(s)
}

function hex(v: number | bigint, width: Width): string {
  return `0x${v.toString(16).padStart(width / 4, '0')}`
}

function dump(bytes: Uint8Array, base: number): string {
  const lines: string[] = []
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, Math.min(i + 16, bytes.length))
    const hexs = [...row].map((b) => b.toString(16).padStart(2, '0'))
    const left = hexs.slice(0, 8).join(' ')
    const right = hexs.slice(8).join(' ')
    const text = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')
    lines.push(`${(base + i).toString(16).padStart(8, '0')}  ${`${left}  ${right}`.padEnd(49)} |${text}|`)
  }
  return lines.join('\n')
}

function run(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      socket: { type: 'string', short: 's' },
      protocol: { type: 'string' },
      timeout: { type: 'string' },
      width: { type: 'string', short: 'w' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const [cmd, ...rest] = positionals
  const protocol = values.protocol ?? 'v1.0'
  if (!isProtocol(protocol)) throw new UsageError(`unknown protocol ${protocol}`)
  const width = (values.width === undefined ? 32 : Number(values.width)) as Width
  if (![8, 16, 32, 64].includes(width)) throw new UsageError('--width must be 8, 16, 32 or 64')
  const expect = (n: number): void => {
    if (rest.length !== n) throw new UsageError(`${cmd} takes ${n} argument${n === 1 ? '' : 's'}`)
  }
  switch (cmd) {
    case 'devices':
      expect(0)
      break
    case 'bar-info':
      expect(2)
      break
    case 'read':
      expect(3)
      break
    case 'write':
      expect(4)
      break
    case 'dump':
      expect(4)
      break
    default:
      throw new UsageError(cmd === undefined ? 'missing COMMAND' : `unknown command ${cmd}`)
  }
  const timeout = values.timeout === undefined ? undefined : int(values.timeout, '--timeout')
  const c = BlockingConnection.open({ path: values.socket, protocol, timeout })
  let bf: BarFile | null = null
  try {
    const out: string[] = []
    if (cmd === 'devices') {
      const n = getNumDevices(c)
      for (let i = 0; i < n; i++) {
        const d = getDeviceInfo(c, i)
        const p = d.pci
        out.push(
          p
            ? `${i} ${d.name} ${p.bdf} ${p.vendorId.toString(16).padStart(4, '0')}:${p.deviceId.toString(16).padStart(4, '0')}`
            : `${i} ${d.name}`,
        )
      }
    } else if (cmd === 'bar-info') {
      const b = getBarInfo(c, int(rest[0], 'DEV'), int(rest[1], 'BAR'))
      out.push(
        `usable=${b.usable ? 1 : 0} in_use=${b.inUse ? 1 : 0} start=0x${b.startAddress.toString(16)} length=${b.length}`,
      )
    } else {
      const dev = int(rest[0], 'DEV')
      const bar = int(rest[1], 'BAR')
      const offset = int(rest[2], 'OFFSET')
      bf = openBarFile(c, dev, bar)
      if (cmd === 'read') {
        out.push(hex(bf.readRegister(offset, width), width))
      } else if (cmd === 'write') {
        const v = bigValue(rest[3])
        if (v >= 1n << BigInt(width)) throw new UsageError(`VALUE does not fit ${width} bits`)
        bf.writeRegister(offset, width === 64 ? v : Number(v), width)
      } else {
        const len = int(rest[3], 'LEN')
        const file = bf
        const bytes = file.read((a) => a.bytes(offset, len).slice())
        if (bytes.length > 0) out.push(dump(bytes, offset))
      }
    }
    if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`)
    return 0
  } finally {
    bf?.close({ force: true })
    c.close()
  }
}

try {
  process.exitCode = run(process.argv.slice(2))
} catch (e) {
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`vrtctl: ${(e as Error).message}\n${USAGE}\n`)
    process.exitCode = 2
  } else if (e instanceof VrtdError) {
    process.stderr.write(`vrtctl: ${e.code}: ${e.message}\n`)
    process.exitCode = 1
  } else {
    process.stderr.write(`vrtctl: ${(e as Error).message}\n`)
    process.exitCode = 1
  }
}
