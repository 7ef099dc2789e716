// pktgen.ts: netmap's pkt-gen, the parts that make sense over this package: -i SPEC -f tx|rx|ping|pong
// [-n COUNT] [-l SIZE] [-b BURST]. tx writes a u32 sequence number at offset 0; rx checks it and counts mismatches.
import { NetmapBuilder } from './netmap.js'
import type { RxRing } from './ring.js'

export interface PktGenOptions {
  spec: string
  func: 'tx' | 'rx' | 'ping' | 'pong'
  count: number
  size: number
  burst: number
  /** Transmit rate limit, packets per second (0: none). */
  rate: number
  /** Progress line interval (ms); 0 disables. */
  report: number
  log: (line: string) => void
  signal?: AbortSignal
}

export interface PktGenResult {
  packets: number
  seconds: number
  mpps: number
  mismatches: number
}

export function parsePktGenArgs(argv: readonly string[]): PktGenOptions {
  const o: PktGenOptions = {
    spec: '',
    func: 'rx',
    count: 0,
    size: 60,
    burst: 512,
    rate: 0,
    report: 1000,
    log: console.log,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const v = (): string => {
      const x = argv[++i]
      if (x === undefined) throw new Error(`pkt-gen: ${a} needs a value`)
      return x
    }
    const int = (min: number, max: number): number => {
      const s = v()
      const n = Number(s)
      if (!Number.isInteger(n) || n < min || n > max) throw new Error(`pkt-gen: bad ${a} '${s}' (${min}..${max})`)
      return n
    }
    if (a === '-i') o.spec = v()
    else if (a === '-f') {
      const f = v()
      if (f !== 'tx' && f !== 'rx' && f !== 'ping' && f !== 'pong') throw new Error(`pkt-gen: bad -f '${f}'`)
      o.func = f
    } else if (a === '-n') o.count = int(0, Number.MAX_SAFE_INTEGER)
    else if (a === '-l') o.size = int(16, 2048 * 64)
    else if (a === '-b') o.burst = int(1, 4096)
    else if (a === '-R') o.rate = int(1, 1e9)
    else if (a === '-q') o.report = 0
    else throw new Error(`pkt-gen: unknown option ${a}`)
  }
  if (!o.spec) throw new Error('pkt-gen: -i SPEC is required')
  return o
}

export async function pktGen(o: PktGenOptions): Promise<PktGenResult> {
  const nm = new NetmapBuilder(o.spec).build()
  o.log(`ready ${o.spec}`) // the port is open: a peer may start (rx before tx, without a fixed sleep)
  const ring = nm.firstRing
  const tx = nm.txRing(ring)
  const rx0 = nm.rxRing(ring)
  const rx = rx0
  const start = performance.now()
  let packets = 0
  let mismatches = 0
  let lastT = start
  let lastN = 0
  const progress = (): void => {
    const now = performance.now()
    const dt = (now - lastT) / 1000
    const n = packets - lastN
    o.log(`${(n / dt / 1e6).toFixed(3)} Mpps ${((n * o.size * 8) / dt / 1e9).toFixed(3)} Gbit/s (${packets} total)`)
    lastT = now
    lastN = packets
  }
  const timer = o.report > 0 ? setInterval(progress, o.report) : null
  const big = o.size > tx.bufSize
  const pkt = new Uint8Array(o.size)
  const more = (): boolean => (o.count === 0 || packets < o.count) && !o.signal?.aborted
  try {
    if (o.func === 'tx') {
      while (more()) {
        const want = o.count === 0 ? o.burst : Math.min(o.burst, o.count - packets)
        let n: number
        if (big) {
          n = 0
          while (n < want) {
            new DataView(pkt.buffer).setUint32(0, packets + n, true)
            if (!tx.send(pkt)) break
            n++
          }
        } else {
          const base = packets
          n = tx.fill(want, (u8, off, i) => {
            const s = base + i
            u8[off] = s & 255
            u8[off + 1] = (s >>> 8) & 255
            u8[off + 2] = (s >>> 16) & 255
            u8[off + 3] = (s >>> 24) & 255
            return o.size
          })
        }
        packets += n
        tx.sync()
        if (n === 0) await tx.ready(1, o.signal)
        if (o.rate > 0) {
          const ahead = (packets / o.rate) * 1000 - (performance.now() - start)
          if (ahead > 1) await new Promise((r) => setTimeout(r, ahead))
        }
      }
      while (tx.space < tx.numSlots - 1 && !o.signal?.aborted) await tx.ready(tx.numSlots - 1, o.signal)
    } else if (o.func === 'rx') {
      // every RX ring the fd bound (a multi-queue NIC port spreads flows over its rings), as pkt-gen walks them
      const rxs: RxRing[] = [rx0]
      for (let i = ring + 1; i <= nm.lastRing; i++) rxs.push(nm.rxRing(i))
      let rx = rx0
      while (more()) {
        rx.sync()
        let n = 0
        if (!big) {
          n = rx.drain(o.burst, (u8, off, len) => {
            const s = (u8[off]! | (u8[off + 1]! << 8) | (u8[off + 2]! << 16) | (u8[off + 3]! << 24)) >>> 0
            if (s !== packets >>> 0 || len !== o.size) mismatches++
            packets++
          })
          if (n === 0) rx = await nextReady(rx, rxs, o.signal)
          continue
        }
        for (let f = rx.recv(); f !== null; f = n < o.burst ? rx.recv() : null) {
          const p = f.payload()
          const s = (p[0]! | (p[1]! << 8) | (p[2]! << 16) | (p[3]! << 24)) >>> 0
          if (s !== packets >>> 0 || f.length !== o.size) mismatches++
          packets++
          n++
        }
        if (n === 0) rx = await nextReady(rx, rxs, o.signal)
      }
      for (const r of rxs) r.sync()
    } else {
      // ping: send one, wait for the echo; pong: echo what arrives
      const rtts: number[] = []
      while (more()) {
        if (o.func === 'ping') {
          new DataView(pkt.buffer).setUint32(0, packets, true)
          const t0 = performance.now()
          while (!tx.send(pkt)) await tx.ready(1, o.signal)
          tx.sync()
          const f = await rx.next(o.signal)
          rtts.push(performance.now() - t0)
          if (new DataView(f.payload().slice(0, 4).buffer).getUint32(0, true) !== packets) mismatches++
          packets++
        } else {
          const f = await rx.next(o.signal)
          while (!tx.send(f.payload())) await tx.ready(1, o.signal)
          tx.sync()
          rx.sync()
          packets++
        }
      }
      if (rtts.length) o.log(`rtt avg ${((rtts.reduce((a, b) => a + b, 0) / rtts.length) * 1000).toFixed(1)} us`)
    }
  } catch (err) {
    if (!o.signal?.aborted) throw err
  } finally {
    if (timer) clearInterval(timer)
    nm.close()
  }
  const seconds = (performance.now() - start) / 1000
  const mpps = packets / seconds / 1e6
  o.log(`${packets} packets in ${seconds.toFixed(3)} s, ${mpps.toFixed(3)} Mpps`)
  if (o.func === 'rx' || o.func === 'ping') o.log(`${mismatches} mismatches`)
  return { packets, seconds, mpps, mismatches }
}

/** Waits for `rx` (one ring) or for whichever of `rings` first holds packets. */
async function nextReady(rx: RxRing, rings: readonly RxRing[], signal?: AbortSignal): Promise<RxRing> {
  if (rings.length === 1) {
    await rx.ready(signal)
    return rx
  }
  return anyReady(rings, signal)
}

/** The first of `rings` to hold packets (each ready() syncs; the waits left over are cancelled). */
async function anyReady(rings: readonly RxRing[], signal?: AbortSignal): Promise<RxRing> {
  const ac = new AbortController()
  const onAbort = (): void => ac.abort(signal!.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    return await Promise.any(rings.map((r) => r.ready(ac.signal).then(() => r)))
  } catch (e) {
    throw signal?.aborted ? signal.reason : e
  } finally {
    ac.abort()
    signal?.removeEventListener('abort', onAbort)
  }
}
