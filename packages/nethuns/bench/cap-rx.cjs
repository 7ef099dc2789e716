// The npm `cap` package (libpcap, one JS callback per packet into one reused Buffer) as an RX peer.
//   node cap-rx.cjs CAP_DIR IFACE COUNT IDLE_MS
const [capDir, iface, countS, idleS] = process.argv.slice(2)
const { Cap } = require(require.resolve('cap', { paths: [capDir] }))
const count = Number(countS)
const idleMs = Number(idleS ?? 500)
const c = new Cap()
const buffer = Buffer.alloc(65535)
c.open(iface, '', 16 * 1024 * 1024, buffer)
if (c.setMinBytes) c.setMinBytes(0)
let n = 0
let first = 0
let last = 0
let timer = null
let cpu0 = process.cpuUsage()
const finish = () => {
  const cpu = process.cpuUsage(cpu0)
  c.close()
  const secs = (last - first) / 1000
  const cpuNs = n > 0 ? ((cpu.user + cpu.system) * 1000) / n : 0
  console.log(
    JSON.stringify({ what: 'npm cap rx', packets: n, secs, pps: secs > 0 ? (n - 1) / secs : 0, drops: 0, cpuNs }),
  )
  process.exit(0)
}
const arm = (ms) => {
  if (timer) clearTimeout(timer)
  timer = setTimeout(finish, ms)
}
c.on('packet', () => {
  if (buffer[12] === 0x88 && buffer[13] === 0xb5) {
    const t = performance.now()
    if (n === 0) first = t
    n++
    last = t
    if (n >= count) finish()
    if ((n & 1023) === 1) arm(idleMs)
  }
})
arm(10_000)
cpu0 = process.cpuUsage()
process.stdout.write('{"event":"ready"}\n')
