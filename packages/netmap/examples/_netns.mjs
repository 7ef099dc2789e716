// _netns.mjs: what the namespace-making examples share (not an example itself). runInNetns makes a network
// namespace with a unique name, runs the example again inside it and removes the namespace when the child exits,
// and also on SIGINT / SIGTERM (the wait is asynchronous, so the handlers run). assertInNetns is the child's guard:
// `--in-netns` is not taken on trust; the child attaches nothing unless its network namespace differs from init's.
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, readlinkSync, statSync } from 'node:fs'

/**
 * True when this process's network namespace is not the initial one (pid 1's). Where pid 1's namespace link is
 * unreadable (no CAP_SYS_PTRACE, as in some containers) only the namespace our parent made for us counts: one
 * named `<tag><ppid>x…` under /run/netns, whose inode is ours.
 */
export function insideOtherNetns(tag) {
  let self
  try {
    self = statSync('/proc/self/ns/net')
  } catch {
    return false
  }
  try {
    return readlinkSync('/proc/self/ns/net') !== readlinkSync('/proc/1/ns/net')
  } catch {}
  try {
    for (const n of readdirSync('/run/netns')) {
      if (!n.startsWith(`${tag}${process.ppid}x`)) continue
      const st = statSync(`/run/netns/${n}`)
      if (st.ino === self.ino && st.dev === self.dev) return true
    }
  } catch {}
  return false
}

export function assertInNetns(name, tag) {
  if (!insideOtherNetns(tag)) {
    console.error(
      `${name}: --in-netns was given, but this process is not in a network namespace other than the initial one (nor in the one its parent made); refusing to touch interfaces`,
    )
    process.exit(2)
  }
}

/**
 * Runs `node self --in-netns` inside a new namespace `<tag><pid>x<random>` after `setup(ip)` (ip(...args) runs
 * `ip -n NS args`); resolves with the child's exit code. The namespace is deleted in every case but SIGKILL.
 */
export async function runInNetns({ name, tag, self, setup }) {
  if (process.getuid?.() !== 0) {
    console.error(`${name}: run as root (it creates a network namespace)`)
    process.exit(1)
  }
  const ns = `${tag}${process.pid}x${Math.random().toString(36).slice(2, 7)}`
  const run = (...a) => {
    const r = spawnSync('ip', a, { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`)
    return r.stdout
  }
  let child = null
  const remove = () => spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
  const onSignal = (sig) => {
    child?.kill('SIGKILL')
    remove()
    process.exit(sig === 'SIGINT' ? 130 : 143)
  }
  // before the namespace exists: a signal at any point after it is made finds the handler
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    run('netns', 'add', ns)
    run('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1')
    run('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1')
    setup((...a) => run('-n', ns, ...a))
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, self, '--in-netns'], { stdio: 'inherit' })
    return await new Promise((resolve) => {
      child.once('error', () => resolve(1))
      child.once('exit', (code) => resolve(code ?? 1))
    })
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    remove()
  }
}
