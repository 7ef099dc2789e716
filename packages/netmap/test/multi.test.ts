import { existsSync } from 'node:fs'
import { createSharedPipe, NetmapBuilder, PipeMemfd, regionPath } from '@x/netmap'
import { afterEach, describe, expect, it } from 'vitest'
import { child, cleanupAll, exited, shmLeftovers, uniq, until, worker } from './helpers.js'

afterEach(async () => {
  await cleanupAll()
})

type Rx = { received: number; mismatches: number }

describe('pipes between worker threads', () => {
  for (const [label, count, size, batch] of [
    ['60 B, batch 256', 200_000, 60, 256],
    ['1500 B, batch 32', 20_000, 1500, 32],
    ['60 B, batch 1', 5_000, 60, 1],
  ] as const) {
    it(`SharedArrayBuffer: sequence numbers, ${label}, zero mismatches`, async () => {
      const p = uniq('th')
      const sab = createSharedPipe({ parent: p, id: '1', slots: 1024 })
      const rx = worker('peer.mjs', { role: 'rx', spec: `netmap:${p}}1`, sab, count, size, batch })
      const tx = worker('peer.mjs', { role: 'tx', spec: `netmap:${p}{1`, sab, count, size, batch })
      const [r, s] = await Promise.all([until<Rx>(rx, 'received'), until<{ sent: number }>(tx, 'sent')])
      expect(s.sent).toBe(count)
      expect(r).toEqual({ received: count, mismatches: 0 })
      await Promise.all([exited(rx), exited(tx)])
    })
  }

  it('/dev/shm file between threads (meeting by name), zero mismatches', async () => {
    const p = uniq('tf')
    const count = 100_000
    const rx = worker('peer.mjs', { role: 'rx', spec: `netmap:${p}}1`, count })
    await until(rx, 'ready')
    const tx = worker('peer.mjs', { role: 'tx', spec: `netmap:${p}{1`, count })
    const r = await until<Rx>(rx, 'received')
    expect(r).toEqual({ received: count, mismatches: 0 })
    await Promise.all([exited(rx), exited(tx)])
    expect(shmLeftovers(p)).toEqual([])
  })

  it('multi-ring pipe: one worker pair per ring (-K), all rings', async () => {
    const p = uniq('tm')
    const sab = createSharedPipe({ parent: p, id: 'm', rings: 3, slots: 256 })
    const count = 20_000
    const ws = [0, 1, 2].flatMap((k) => [
      worker('peer.mjs', { role: 'rx', spec: `netmap:${p}}m-${k}`, sab, count, ring: k }),
      worker('peer.mjs', { role: 'tx', spec: `netmap:${p}{m-${k}`, sab, count, ring: k }),
    ])
    const rs = await Promise.all([0, 2, 4].map((i) => until<Rx>(ws[i]!, 'received')))
    for (const r of rs) expect(r).toEqual({ received: count, mismatches: 0 })
    await Promise.all(ws.map(exited))
  })
})

describe('pipes between processes (a /dev/shm region, FIFO doorbells)', () => {
  it('two unrelated processes meet by name: sequence numbers, zero mismatches, nothing left', async () => {
    const p = uniq('pr')
    const count = 300_000
    const rx = child('peer.mjs', { role: 'rx', spec: `netmap:${p}}1`, count })
    const tx = child('peer.mjs', { role: 'tx', spec: `netmap:${p}{1`, count })
    const [r] = await Promise.all([until<Rx>(rx, 'received'), until(tx, 'sent')])
    expect(r).toEqual({ received: count, mismatches: 0 })
    expect(await exited(rx)).toBe(0)
    expect(await exited(tx)).toBe(0)
    expect(shmLeftovers(p)).toEqual([])
  })

  it('an inherited memfd region with eventfd doorbells: parent ↔ child, nothing named', async () => {
    const pm = new PipeMemfd({ parent: 'mfd', id: '1', slots: 256 })
    const count = 100_000
    try {
      // fds 4, 5, 6 in the child (3 is the IPC channel)
      const rx = child(
        'peer.mjs',
        { role: 'rx', spec: 'netmap:mfd}1', count, inherited: { region: 4, bells: [5, 6] } },
        pm.stdio,
      )
      await until(rx, 'ready')
      const tx = new NetmapBuilder('netmap:mfd{1').inherited(pm.fds).build()
      try {
        let seq = 0
        const ring = tx.txRing(0)
        while (seq < count) {
          const n = ring.fill(Math.min(256, count - seq), (u8, off) => {
            const s = seq++
            u8[off] = s & 255
            u8[off + 1] = (s >>> 8) & 255
            u8[off + 2] = (s >>> 16) & 255
            u8[off + 3] = s >>> 24
            u8[off + 59] = (s * 7) & 255
            return 60
          })
          ring.sync()
          if (n === 0) await ring.ready()
        }
        const r = await until<Rx>(rx, 'received')
        expect(r).toEqual({ received: count, mismatches: 0 })
        expect(await exited(rx)).toBe(0)
      } finally {
        tx.close()
      }
    } finally {
      pm.close()
    }
  })

  it('1500-byte packets across processes', async () => {
    const p = uniq('pb')
    const count = 30_000
    const rx = child('peer.mjs', { role: 'rx', spec: `netmap:${p}}1`, count, size: 1500, batch: 64 })
    const tx = child('peer.mjs', { role: 'tx', spec: `netmap:${p}{1`, count, size: 1500, batch: 64 })
    const [r] = await Promise.all([until<Rx>(rx, 'received'), until(tx, 'sent')])
    expect(r).toEqual({ received: count, mismatches: 0 })
    await Promise.all([exited(rx), exited(tx)])
    expect(shmLeftovers(p)).toEqual([])
  })

  it('a killed peer is detected: peerState() dead, a waiting recv rejects PeerGone', async () => {
    const p = uniq('pk')
    const nm = new NetmapBuilder(`netmap:${p}}1`).build()
    try {
      const c = child('holder.mjs', { spec: `netmap:${p}{1`, send: 2 })
      await until(c, 'ready')
      expect(nm.peerState()).toBe('open')
      const rx = nm.rxRing(0)
      rx.sync()
      expect(rx.space).toBe(2) // packets sent before the kill survive it
      rx.recvBatch(2)
      const waiting = rx.ready()
      c.kill('SIGKILL')
      await exited(c)
      await expect(waiting).rejects.toMatchObject({ kind: 'PeerGone' })
      expect(nm.peerState()).toBe('dead')
    } finally {
      nm.close()
    }
    expect(shmLeftovers(p)).toEqual([]) // the survivor was the last live closer
  })

  it('a stale region left by kill -9 of every user is replaced on the next open', async () => {
    const p = uniq('ps')
    const c = child('holder.mjs', { spec: `netmap:${p}{1`, send: 3 })
    await until(c, 'ready')
    c.kill('SIGKILL')
    await exited(c)
    expect(existsSync(regionPath(p, '1'))).toBe(true) // left behind by the killed process
    const nm = new NetmapBuilder(`netmap:${p}}1`).build()
    try {
      nm.rxRing(0).sync()
      expect(nm.rxRing(0).space).toBe(0) // a fresh region, not the dead one's packets
      expect(nm.peerState()).toBe('closed')
    } finally {
      nm.close()
    }
    expect(shmLeftovers(p)).toEqual([])
  })
})
