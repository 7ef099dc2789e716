import { execFile, execFileSync, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { shmLeftovers, uniq } from './helpers.js'
import { netnsProbe } from './netns.js'

const run = promisify(execFile)
const dir = fileURLToPath(new URL('../examples/', import.meta.url))
const bin = fileURLToPath(new URL('../bin/pkt-gen.mjs', import.meta.url))

describe('examples run with node', () => {
  for (const [file, ok] of [
    ['ping_pong.mjs', 'ping_pong ok'],
    ['pipe_threads.mjs', 'pipe_threads ok'],
    ['poll_basic.mjs', 'poll_basic ok'],
    ['tokio_pipe_async.mjs', 'tokio_pipe_async ok'],
    ['multi_thread_rings.mjs', 'multi_thread_rings ok'],
    ['fec.mjs', 'fec ok'],
    ['sliding_window_arq.mjs', 'sliding_window_arq ok'],
  ]) {
    it(file, async () => {
      const name = uniq('ex')
      const r = await run(process.execPath, [dir + file, name], { timeout: 20_000 })
      expect(r.stdout).toContain(ok)
      expect(shmLeftovers(name)).toEqual([])
    })
  }

  it('pipe_sender_process + pipe_receiver_process meet by name', async () => {
    const name = uniq('ipc')
    const [rx, tx] = await Promise.all([
      run(process.execPath, [`${dir}pipe_receiver_process.mjs`, name], { timeout: 20_000 }),
      run(process.execPath, [`${dir}pipe_sender_process.mjs`, name], { timeout: 20_000 }),
    ])
    expect(rx.stdout.match(/received: message \d/g)).toEqual([
      'received: message 0',
      'received: message 1',
      'received: message 2',
    ])
    expect(tx.stdout).toContain('sender done')
    expect(shmLeftovers(name)).toEqual([])
  })
})

const np = netnsProbe()
describe.skipIf(!np.ok)(`examples on interfaces in a namespace they make and remove (${np.reason})`, () => {
  const nsList = (): string[] =>
    execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter(Boolean)
  // an example killed by a timeout may leave its namespace behind: remove whatever carries its unique prefix
  const prefixes: string[] = []
  afterEach(() => {
    for (const pre of prefixes.splice(0))
      for (const ns of nsList().filter((n) => n.startsWith(pre)))
        try {
          execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
        } catch {}
  })

  for (const [file, tag, ok] of [
    ['thread_per_ring.mjs', 'tpr', 'thread_per_ring ok'],
    ['host_receive.mjs', 'hrx', 'host_receive ok'],
    ['host_transmit.mjs', 'htx', 'host_transmit ok'],
  ]) {
    it(file, async () => {
      const p = run(process.execPath, [dir + file], { timeout: 60_000 })
      const pid = p.child.pid
      prefixes.push(`${tag}${pid}x`)
      const r = await p
      expect(r.stdout).toContain(ok)
      if (file === 'thread_per_ring.mjs')
        expect(r.stdout.match(/^ring \d \(fd of netmap:a1-\d\): 1000 packets, 0 mismatches$/gm)).toHaveLength(4)
      // the namespace the example made is gone
      expect(nsList().filter((n) => n.startsWith(`${tag}${pid}x`))).toEqual([])
    }, 90_000)

    it(`${file} --in-netns in the initial namespace refuses to touch interfaces`, async () => {
      await expect(run(process.execPath, [dir + file, '--in-netns'], { timeout: 20_000 })).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining('refusing to touch interfaces'),
      })
    })
  }

  it('SIGTERM while the example runs inside its namespace: the namespace is removed', async () => {
    const c = spawn(process.execPath, [`${dir}thread_per_ring.mjs`], { stdio: ['ignore', 'ignore', 'inherit'] })
    const pre = `tpr${c.pid}x`
    prefixes.push(pre)
    const exit = new Promise<number | null>((r) => c.once('exit', (code) => r(code)))
    let exited = false
    void exit.then(() => {
      exited = true
    })
    // wait (sleeping between looks, bounded) until its namespace exists, then interrupt it
    for (let i = 0; i < 500 && !exited && !nsList().some((n) => n.startsWith(pre)); i++)
      await new Promise((r) => setTimeout(r, 20))
    c.kill('SIGTERM')
    const code = await exit
    expect([0, 143]).toContain(code) // killed (143), or it had just finished (0)
    expect(nsList().filter((n) => n.startsWith(pre))).toEqual([])
  }, 90_000)
})

describe('tour step', () => {
  it('two workers exchange packets over a pipe and print the rate', async () => {
    const r = await run(process.execPath, [fileURLToPath(new URL('../tour.mjs', import.meta.url))], { timeout: 20_000 })
    expect(r.stdout).toMatch(/20000000 packets of 60 B from worker to worker/)
    expect(r.stdout).toMatch(/[\d.]+ Mpps in [\d.]+ s \(batch 256[;)].*, 0 mismatches/)
  })
})

describe('pkt-gen CLI', () => {
  it('tx and rx in two processes: sequence numbers checked, final line', async () => {
    const name = uniq('pg')
    const [rx, tx] = await Promise.all([
      run(process.execPath, [bin, '-i', `netmap:${name}}1`, '-f', 'rx', '-n', '500000'], { timeout: 30_000 }),
      run(process.execPath, [bin, '-i', `netmap:${name}{1`, '-f', 'tx', '-n', '500000', '-l', '60', '-b', '256'], {
        timeout: 30_000,
      }),
    ])
    expect(rx.stdout).toMatch(/^500000 packets in [\d.]+ s, [\d.]+ Mpps$/m)
    expect(rx.stdout).toMatch(/^0 mismatches$/m)
    expect(tx.stdout).toMatch(/^500000 packets in [\d.]+ s, [\d.]+ Mpps$/m)
    expect(shmLeftovers(name)).toEqual([])
  })

  it('ping / pong, and 3000-byte packets (NS_MOREFRAG) tx → rx', async () => {
    const name = uniq('pp')
    const [ping] = await Promise.all([
      run(process.execPath, [bin, '-i', `netmap:${name}{1`, '-f', 'ping', '-n', '200', '-q'], { timeout: 30_000 }),
      run(process.execPath, [bin, '-i', `netmap:${name}}1`, '-f', 'pong', '-n', '200', '-q'], { timeout: 30_000 }),
    ])
    expect(ping.stdout).toMatch(/^200 packets in/m)
    expect(ping.stdout).toMatch(/^0 mismatches$/m)
    const big = uniq('pb')
    const [rx] = await Promise.all([
      run(process.execPath, [bin, '-i', `netmap:${big}}1`, '-f', 'rx', '-n', '2000', '-l', '3000', '-q']),
      run(process.execPath, [bin, '-i', `netmap:${big}{1`, '-f', 'tx', '-n', '2000', '-l', '3000', '-q']),
    ])
    expect(rx.stdout).toMatch(/^0 mismatches$/m)
    expect(shmLeftovers(name)).toEqual([])
    expect(shmLeftovers(big)).toEqual([])
  })

  it('rejects bad arguments with usage', async () => {
    await expect(run(process.execPath, [bin, '-f', 'tx'])).rejects.toMatchObject({ code: 2 })
    await expect(run(process.execPath, [bin, '-i', 'eth0', '-f', 'rx'])).rejects.toMatchObject({
      stderr: expect.stringContaining('prefix unknown or missing'),
    })
  })
})
