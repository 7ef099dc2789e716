// The nethuns command: rx, tx, fwd, capture. Progress lines (pps, bps) go to stderr once a second, the final line
// to stdout. SIGINT/SIGTERM stop cleanly (sockets closed, so an XDP program is detached).
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { openPcapFileSync } from '@x/framing'
import { PacketBatch } from './batch.js'
import { type AnySocket, type Backend, create } from './create.js'
import { isNethunsError } from './errors.js'

const USAGE = `usage:
  nethuns rx IFACE --backend af_packet|af_xdp|pcap|netmap [--queue Q] [--count N] [--duration S] [--filter EXPR]
  nethuns tx IFACE --backend B --count N [--size 64] [--ethertype 0x88b5] [--queue Q]
  nethuns fwd IN OUT --backend B [--count N] [--duration S] [--filter EXPR]
  nethuns capture IFACE -w FILE.pcap [--backend B] [--count N] [--duration S] [--filter EXPR] [--snaplen N]
IFACE may be a netmap port (netmap:eth0, netmap:NAME{ID, netmap:NAME}ID): the backend is then netmap unless given.
options: --xdp-mode skb|drv (af_xdp), --extra-buf N (netmap), --quiet (no progress lines)`

export interface CliIo {
  out(line: string): void
  err(line: string): void
}

const stdio: CliIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
}

class Meter {
  packets = 0
  bytes = 0
  readonly #t0 = performance.now()
  #lastT = this.#t0
  #lastP = 0
  #lastB = 0

  progress(label: string, io: CliIo): void {
    const t = performance.now()
    const dt = (t - this.#lastT) / 1000
    if (dt <= 0) return
    const pps = (this.packets - this.#lastP) / dt
    const bps = ((this.bytes - this.#lastB) * 8) / dt
    io.err(`${label}: ${this.packets} pkts  ${fmt(pps)}pps  ${fmt(bps)}bps`)
    this.#lastT = t
    this.#lastP = this.packets
    this.#lastB = this.bytes
  }

  summary(): { secs: number; pps: number; bps: number } {
    const secs = (performance.now() - this.#t0) / 1000
    return { secs, pps: this.packets / secs, bps: (this.bytes * 8) / secs }
  }
}

function fmt(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)} G`
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M`
  if (v >= 1e3) return `${(v / 1e3).toFixed(2)} k`
  return `${v.toFixed(0)} `
}

interface Common {
  backend: Backend
  queue: number | null
  count: number
  duration: number
  filter: string | null
  quiet: boolean
  flags: Record<string, unknown>
}

function num(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got '${v}'`)
  return n
}

function socketFlags(backend: Backend, o: Record<string, string | boolean | undefined>, filter: string | null) {
  const flags: Record<string, unknown> = {}
  if (filter !== null) flags.filter = filter
  if (backend === 'af_xdp' && typeof o['xdp-mode'] === 'string') flags.xdpMode = o['xdp-mode']
  if (backend === 'pcap' && typeof o.snaplen === 'string') flags.snaplen = num(o.snaplen, 'snaplen', 65535)
  if (backend === 'netmap' && typeof o['extra-buf'] === 'string') flags.extraBuf = num(o['extra-buf'], 'extra-buf', 0)
  return flags
}

/** Runs until `stop` resolves, `count` packets, or `duration` seconds. */
function stopper(c: Common): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController()
  const onSig = (): void => ac.abort()
  process.once('SIGINT', onSig)
  process.once('SIGTERM', onSig)
  const timer = c.duration > 0 ? setTimeout(() => ac.abort(), c.duration * 1000) : null
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', onSig)
      process.off('SIGTERM', onSig)
      if (timer) clearTimeout(timer)
    },
  }
}

async function drain(
  s: AnySocket,
  c: Common,
  io: CliIo,
  label: string,
  each: (batch: PacketBatch) => void,
): Promise<Meter> {
  const m = new Meter()
  const stop = stopper(c)
  io.err(`${label}: open`)
  const tick = c.quiet ? null : setInterval(() => m.progress(label, io), 1000)
  const batch = new PacketBatch(s.batchSize)
  try {
    while (!stop.signal.aborted && (c.count === 0 || m.packets < c.count)) {
      const room = c.count === 0 ? batch.capacity : Math.min(batch.capacity, c.count - m.packets)
      const n = s.recvBatch(batch, room)
      if (n === 0) {
        if (s.eof) break
        try {
          await s.readable(stop.signal)
        } catch {
          break
        }
        continue
      }
      for (let i = 0; i < batch.count; i++) m.bytes += batch.wireLen(i)
      m.packets += n
      each(batch)
      batch.release()
    }
  } finally {
    batch.release()
    if (tick) clearInterval(tick)
    stop.dispose()
  }
  return m
}

const isNetmapSpec = (spec: string | undefined): boolean =>
  spec !== undefined && (spec.startsWith('netmap:') || /^vale[^:]*:/.test(spec))

function common(o: Record<string, string | boolean | undefined>, iface?: string): Common {
  const backend = (o.backend ?? (isNetmapSpec(iface) ? 'netmap' : 'af_packet')) as Backend
  const filter = typeof o.filter === 'string' ? o.filter : null
  return {
    backend,
    queue: typeof o.queue === 'string' ? num(o.queue, 'queue', 0) : null,
    count: num(o.count as string | undefined, 'count', 0),
    duration: num(o.duration as string | undefined, 'duration', 0),
    filter,
    quiet: o.quiet === true,
    flags: socketFlags(backend, o, filter),
  }
}

function macOf(spec: string): Uint8Array {
  // netmap:eth0-1/T → eth0
  const iface = isNetmapSpec(spec) ? spec.slice(spec.indexOf(':') + 1).split(/[-^*/@{}]/)[0]! : spec
  try {
    const hex = readFileSync(`/sys/class/net/${iface}/address`, 'utf8').trim().split(':')
    if (hex.length === 6) return Uint8Array.from(hex.map((h) => Number.parseInt(h, 16)))
  } catch {
    // fall through
  }
  return Uint8Array.from([0x02, 0, 0, 0, 0, 1])
}

async function rx(pos: string[], o: Record<string, string | boolean | undefined>, io: CliIo): Promise<number> {
  const [iface] = pos
  if (!iface) throw new Error('rx needs an interface')
  const c = common(o, iface)
  const s = create(c.backend, iface, c.queue, c.flags)
  try {
    const m = await drain(s, c, io, `rx ${iface} ${c.backend}`, () => {})
    const st = s.stats()
    const { secs, pps, bps } = m.summary()
    io.out(
      `received ${m.packets} packets (${m.bytes} bytes) in ${secs.toFixed(2)} s: ${fmt(pps)}pps ${fmt(bps)}bps; kernel drops ${st.kernelDrops}`,
    )
  } finally {
    s.close()
  }
  return 0
}

async function tx(pos: string[], o: Record<string, string | boolean | undefined>, io: CliIo): Promise<number> {
  const [iface] = pos
  if (!iface) throw new Error('tx needs an interface')
  const c = common(o, iface)
  if (c.count === 0) throw new Error('tx needs --count N')
  const size = num(o.size as string | undefined, 'size', 64)
  if (size < 14) throw new Error('--size must be at least 14 (an Ethernet header)')
  const ethertype = Number(o.ethertype ?? 0x88b5)
  const s = create(c.backend, iface, c.queue, { ...c.flags, mode: 'tx_only' })
  const m = new Meter()
  const stop = stopper(c)
  const tick = c.quiet ? null : setInterval(() => m.progress(`tx ${iface} ${c.backend}`, io), 1000)
  const frame = new Uint8Array(size)
  frame.fill(0xff, 0, 6)
  frame.set(macOf(iface), 6)
  frame[12] = (ethertype >> 8) & 0xff
  frame[13] = ethertype & 0xff
  const dv = new DataView(frame.buffer)
  try {
    while (m.packets < c.count && !stop.signal.aborted) {
      if (size >= 18) dv.setUint32(14, m.packets)
      if (s.send(frame)) {
        m.packets++
        m.bytes += size
        if (m.packets % 64 === 0) s.flush()
        continue
      }
      s.flush()
      if (!s.send(frame)) await s.writable(stop.signal).catch(() => {})
      else {
        m.packets++
        m.bytes += size
      }
    }
    s.flush()
    const end = performance.now() + 2000
    while (s.stats().sent < m.packets && performance.now() < end) {
      s.flush()
      await new Promise((r) => setTimeout(r, 2))
    }
    const st = s.stats()
    const { secs, pps, bps } = m.summary()
    io.out(`sent ${st.sent} packets (${m.packets} queued) in ${secs.toFixed(2)} s: ${fmt(pps)}pps ${fmt(bps)}bps`)
  } finally {
    if (tick) clearInterval(tick)
    stop.dispose()
    s.close()
  }
  return 0
}

async function fwd(pos: string[], o: Record<string, string | boolean | undefined>, io: CliIo): Promise<number> {
  const [from, to] = pos
  if (!from || !to) throw new Error('fwd needs IN and OUT interfaces')
  const c = common(o, from)
  const a = create(c.backend, from, c.queue, { ...c.flags, mode: 'rx_only' })
  let b: AnySocket
  try {
    const { filter: _f, ...txFlags } = c.flags
    b = create(c.backend, to, c.queue, { ...txFlags, mode: 'tx_only' })
  } catch (e) {
    a.close()
    throw e
  }
  let dropped = 0
  try {
    const m = await drain(a, c, io, `fwd ${from} → ${to} ${c.backend}`, (batch) => {
      for (let i = 0; i < batch.count; i++) {
        const bytes = batch.bytes(i)
        if (!b.send(bytes)) {
          b.flush()
          if (!b.send(bytes)) dropped++
        }
      }
      b.flush()
    })
    b.flush()
    const { secs, pps } = m.summary()
    io.out(
      `forwarded ${m.packets - dropped} packets (${dropped} dropped, TX ring full) in ${secs.toFixed(2)} s: ${fmt(pps)}pps`,
    )
  } finally {
    a.close()
    b.close()
  }
  return 0
}

async function capture(pos: string[], o: Record<string, string | boolean | undefined>, io: CliIo): Promise<number> {
  const [iface] = pos
  const file = o.write
  if (!iface) throw new Error('capture needs an interface')
  if (typeof file !== 'string') throw new Error('capture needs -w FILE.pcap')
  const c = common(o, iface)
  const s = create(c.backend, iface, c.queue, { ...c.flags, mode: 'rx_only' })
  const w = openPcapFileSync(file, { resolution: 'ns' })
  try {
    const m = await drain(s, c, io, `capture ${iface} → ${file}`, (batch) => {
      for (let i = 0; i < batch.count; i++) {
        w.writePacket(batch.bytes(i), { sec: batch.sec(i), frac: batch.nsec(i) }, batch.wireLen(i))
      }
    })
    io.out(`captured ${m.packets} packets to ${file}`)
  } finally {
    w.close()
    s.close()
  }
  return 0
}

const COMMANDS: Record<
  string,
  (pos: string[], o: Record<string, string | boolean | undefined>, io: CliIo) => Promise<number>
> = { rx, tx, fwd, capture }

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = stdio): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        backend: { type: 'string', short: 'b' },
        queue: { type: 'string', short: 'q' },
        count: { type: 'string', short: 'c' },
        duration: { type: 'string', short: 'd' },
        filter: { type: 'string', short: 'f' },
        size: { type: 'string', short: 's' },
        ethertype: { type: 'string' },
        write: { type: 'string', short: 'w' },
        snaplen: { type: 'string' },
        'xdp-mode': { type: 'string' },
        'extra-buf': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (e) {
    io.err(`nethuns: ${(e as Error).message}\n${USAGE}`)
    return 2
  }
  const [cmd, ...pos] = parsed.positionals
  if (parsed.values.help || cmd === undefined) {
    io.out(USAGE)
    return cmd === undefined && !parsed.values.help ? 2 : 0
  }
  const run = COMMANDS[cmd]
  if (run === undefined) {
    io.err(`nethuns: unknown command '${cmd}'\n${USAGE}`)
    return 2
  }
  try {
    return await run(pos, parsed.values as Record<string, string | boolean | undefined>, io)
  } catch (e) {
    const code = isNethunsError(e) ? ` [${e.code}]` : ''
    io.err(`nethuns ${cmd}: ${(e as Error).message}${code}`)
    return 1
  }
}
