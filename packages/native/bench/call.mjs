// Cost of one call into @x/native, side by side in one run:
//   1. an empty native call vs an empty JS call;
//   2. eventfd write+read through the addon vs the same two syscalls in a C loop (bench/ref/syscall_loop.c)
//      and vs node:fs writeSync/readSync on the same eventfd.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readSync, writeSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { binding, EventFd } from '@x/native'

const here = fileURLToPath(new URL('.', import.meta.url))
const out = fileURLToPath(new URL('../../../.cache/bench/', import.meta.url))
mkdirSync(out, { recursive: true })

function time(n, fn) {
  fn(Math.min(n, 10000)) // warm up
  const t = process.hrtime.bigint()
  fn(n)
  return Number(process.hrtime.bigint() - t) / n
}

const N = 2_000_000
const jsNoop = () => {}
const empty = time(N * 5, (n) => {
  for (let i = 0; i < n; i++) binding.noop()
})
const jsEmpty = time(N * 5, (n) => {
  for (let i = 0; i < n; i++) jsNoop()
})

const e = new EventFd()
const fd = e.fd
const addon = time(N / 2, (n) => {
  for (let i = 0; i < n; i++) {
    binding.eventfd_write(fd, 1)
    binding.eventfd_read(fd)
  }
})
const b8 = Buffer.alloc(8)
b8.writeBigUInt64LE(1n)
const fsPair = time(N / 4, (n) => {
  for (let i = 0; i < n; i++) {
    writeSync(fd, b8)
    readSync(fd, b8)
  }
})
e.close()

let cRef = Number.NaN
try {
  execFileSync('cc', ['-O2', '-o', `${out}syscall_loop`, `${here}ref/syscall_loop.c`])
  cRef = Number(
    execFileSync(`${out}syscall_loop`, [String(N / 2)])
      .toString()
      .trim(),
  )
} catch (err) {
  console.log(`native: C reference unavailable (${err.message.split('\n')[0]})`)
}

const f = (x) => `${x.toFixed(1)} ns`
console.log(`native empty call: ${f(empty)} | ref JS call: ${f(jsEmpty)} | overhead ${f(empty - jsEmpty)}`)
console.log(
  `native eventfd write+read: ${f(addon)} | ref C loop: ${f(cRef)} | ratio ${(addon / cRef).toFixed(2)}x | boundary cost ${f(addon - cRef)} per 2 calls`,
)
console.log(
  `native eventfd write+read: ${f(addon)} | ref node:fs writeSync+readSync: ${f(fsPair)} | ratio ${(fsPair / addon).toFixed(2)}x faster`,
)
