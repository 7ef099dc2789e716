// Benchmark: @x/framing length-prefixed decoding against the usual Node approaches, side by side, in one run.
// Build first (`npx tsc -p tsconfig.build.json`); '@x/framing' resolves to dist/ by package self-reference.
// Bounded to a few seconds. Figures are machine-specific; read the ratios.
import { encodeFrames, LengthPrefixedDecoder } from '@x/framing'

const BUDGET_MS = Number(process.env.BENCH_MS ?? 400) // per measurement

/** Runs fn(iteration) repeatedly for about BUDGET_MS after a warm-up; returns units per second, where each call
 * handles `unitsPerCall` units. */
function measure(fn, unitsPerCall) {
  for (let i = 0; i < 3; i++) fn()
  let calls = 0
  const t0 = process.hrtime.bigint()
  let t = t0
  const end = t0 + BigInt(BUDGET_MS) * 1_000_000n
  while (t < end) {
    fn()
    calls++
    t = process.hrtime.bigint()
  }
  return (calls * unitsPerCall) / (Number(t - t0) / 1e9)
}

/** The stream as a socket would deliver it: `chunkSize`-byte Buffers, split regardless of frame boundaries. */
function chunked(stream, chunkSize) {
  const out = []
  for (let p = 0; p < stream.length; p += chunkSize) out.push(Buffer.from(stream.subarray(p, p + chunkSize)))
  return out
}

// Reference 1: what most Node code does: Buffer.concat the pending bytes with each chunk, readUInt32BE, slice.
function refConcat(chunks, onFrame) {
  let pending = Buffer.alloc(0)
  for (const c of chunks) {
    pending = pending.length === 0 ? c : Buffer.concat([pending, c])
    let p = 0
    while (pending.length - p >= 4) {
      const n = pending.readUInt32BE(p)
      if (pending.length - p - 4 < n) break
      onFrame(pending.subarray(p + 4, p + 4 + n))
      p += 4 + n
    }
    pending = pending.subarray(p)
  }
}

// Reference 2: a plain loop over one Buffer that holds whole frames (no chunking at all): the ceiling for views.
function refLoop(buf, onFrame) {
  let p = 0
  while (p + 4 <= buf.length) {
    const n = buf.readUInt32BE(p)
    onFrame(buf.subarray(p + 4, p + 4 + n))
    p += 4 + n
  }
}

let sink = 0
let count = 0
const onFrame = (f) => {
  sink += f.length
  count++
}
const onSpan = (_b, s, e) => {
  sink += e - s
  count++
}

/** Runs one pass of fn and checks it saw `frames` frames of `bytes` payload bytes in total. */
function validate(label, fn, frames, bytes) {
  sink = 0
  count = 0
  fn()
  if (count !== frames || sink !== bytes)
    throw new Error(`${label}: saw ${count} frames / ${sink} B, want ${frames} / ${bytes}`)
}

function fmtRate(x, unit) {
  if (unit === 'GB/s') return `${(x / 1e9).toFixed(2)} GB/s`
  return `${(x / 1e6).toFixed(2)} M msgs/s`
}

function line(label, ours, refLabel, ref, unit, goal) {
  const ratio = ours / ref
  const ok = ours >= goal ? 'ok' : 'MISSED'
  const g = unit === 'GB/s' ? `${goal / 1e9} GB/s` : `${goal / 1e6} M msgs/s`
  console.log(
    `${label}: ${fmtRate(ours, unit)} | ref ${refLabel}: ${fmtRate(ref, unit)} | ratio ${ratio.toFixed(1)}x | goal >= ${g}: ${ok}`,
  )
}

// (1) 64 KiB frames.
{
  const frame = new Uint8Array(64 * 1024).fill(7)
  const frames = Array.from({ length: 256 }, () => frame) // 16 MiB of payload per pass
  const stream = encodeFrames(frames, { width: 4, endian: 'big' })
  const bytes = frames.length * frame.length
  for (const chunkSize of [1 << 20, 64 * 1024]) {
    const chunks = chunked(stream, chunkSize)
    const d = new LengthPrefixedDecoder({ width: 4, endian: 'big', maxFrame: 1 << 20 })
    const oursFn = () => {
      for (const c of chunks) d.push(c, onFrame)
    }
    const refFn = () => refConcat(chunks, onFrame)
    validate('framing', oursFn, frames.length, bytes)
    validate('ref', refFn, frames.length, bytes)
    const ours = measure(oursFn, bytes)
    const ref = measure(refFn, bytes)
    // 1 MiB chunks: most frames lie inside a chunk and are handed out as views (no byte is copied);
    // 64 KiB chunks (a net.Socket read): every 64 KiB + 4 frame straddles two chunks and is copied once.
    const how = chunkSize > 64 * 1024 ? 'mostly views' : 'every frame straddles, copied once'
    const label = `framing lp u32 64KiB (${chunkSize >> 10} KiB chunks, ${how})`
    line(label, ours, 'Buffer.concat', ref, 'GB/s', 2e9)
  }
}

// (2) 64-byte frames.
{
  const frame = new Uint8Array(64).fill(3)
  const n = 100_000
  const frames = Array.from({ length: n }, () => frame)
  const stream = encodeFrames(frames, { width: 4, endian: 'big' })
  const chunks = chunked(stream, 64 * 1024)
  const whole = Buffer.from(stream)
  const d1 = new LengthPrefixedDecoder({ width: 4, endian: 'big' })
  const spansFn = () => {
    for (const c of chunks) d1.pushSpans(c, onSpan)
  }
  const d2 = new LengthPrefixedDecoder({ width: 4, endian: 'big' })
  const viewsFn = () => {
    for (const c of chunks) d2.push(c, onFrame)
  }
  const d3 = new LengthPrefixedDecoder({ width: 4, endian: 'big' })
  const arraysFn = () => {
    for (const c of chunks) {
      const fs = d3.push(c)
      for (let i = 0; i < fs.length; i++) onFrame(fs[i])
    }
  }
  const refCFn = () => refConcat(chunks, onFrame)
  const refLFn = () => refLoop(whole, onFrame)
  for (const [label, fn] of [
    ['spans', spansFn],
    ['views', viewsFn],
    ['arrays', arraysFn],
    ['concat', refCFn],
    ['loop', refLFn],
  ]) {
    validate(label, fn, n, n * 64)
  }
  const spans = measure(spansFn, n)
  const views = measure(viewsFn, n)
  const arrays = measure(arraysFn, n)
  const refC = measure(refCFn, n)
  const refL = measure(refLFn, n)
  line('framing lp u32 64B pushSpans (64 KiB chunks)', spans, 'Buffer.concat', refC, 'msgs/s', 10e6)
  line('framing lp u32 64B push+callback views (64 KiB chunks)', views, 'Buffer.concat', refC, 'msgs/s', 10e6)
  line(
    'framing lp u32 64B push -> array (64 KiB chunks)',
    arrays,
    'readUInt32BE loop, one Buffer',
    refL,
    'msgs/s',
    10e6,
  )
}

if (sink === 42) console.log('') // keep the work observable
