import { fstatSync } from 'node:fs'
import { K, memfdCreate, type OwnedFd, recvMsg, SendBatch, sendMmsg, socketpair } from '@x/native'
import { afterEach, describe, expect, it } from 'vitest'
import { openFds } from './helpers.js'

const owned: OwnedFd[] = []
afterEach(() => {
  for (const f of owned.splice(0)) f.close()
})

describe('sendmmsg', () => {
  it('sends a batch of datagrams in one call, each with its own fds', () => {
    const [a, b] = socketpair(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    owned.push(a, b)
    const m1 = memfdCreate('one')
    const m2 = memfdCreate('two')
    owned.push(m1, m2)
    const batch = new SendBatch({ capacity: 4 })
    expect(batch.add(Buffer.from('first'))).toBe(true)
    expect(batch.add(Buffer.from('second'), [m1, m2])).toBe(true)
    expect(batch.add(Buffer.from(''))).toBe(true)
    expect(batch.add(Buffer.from('fourth'), [m1])).toBe(true)
    expect(batch.add(Buffer.from('full'))).toBe(false)
    const base = openFds()
    expect(sendMmsg(a, batch)).toBe(4)
    batch.clear()
    const buf = new Uint8Array(64)
    const got: [string, number[]][] = []
    for (let i = 0; i < 4; i++) {
      const r = recvMsg(b, buf)!
      got.push([Buffer.from(buf.subarray(0, r.bytes)).toString(), r.fds.map((f) => fstatSync(f.fd).ino)])
      owned.push(...r.fds)
    }
    const ino = (f: OwnedFd) => fstatSync(f.fd).ino
    expect(got).toEqual([
      ['first', []],
      ['second', [ino(m1), ino(m2)]],
      ['', []],
      ['fourth', [ino(m1)]],
    ])
    expect(openFds()).toBe(base + 3)
  })

  it('reports -EAGAIN when nothing fits and a prefix when some does; consume() keeps the rest in order', () => {
    const [a, b] = socketpair(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    owned.push(a, b)
    const batch = new SendBatch({ capacity: 256, bytes: 256 * 1024 })
    let sent = 0
    let total = 0
    const big = new Uint8Array(1000)
    for (let round = 0; round < 100; round++) {
      while (batch.add(big.fill(total & 0xff))) total++
      const n = sendMmsg(a, batch)
      if (n < 0) {
        expect(n).toBe(-11)
        break
      }
      sent += n
      batch.consume(n)
    }
    expect(sent).toBeGreaterThan(0)
    expect(sent).toBeLessThan(total)
    const buf = new Uint8Array(2000)
    for (let i = 0; i < sent; i++) {
      const r = recvMsg(b, buf)!
      expect([r.bytes, buf[0]]).toEqual([1000, i & 0xff])
    }
    expect(sendMmsg(a, batch)).toBeGreaterThan(0)
  })

  it('an empty batch sends nothing; a closed peer is an errno, not a throw', () => {
    const [a, b] = socketpair(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    owned.push(a)
    const batch = new SendBatch()
    expect(sendMmsg(a, batch)).toBe(0)
    b.close()
    batch.add(Buffer.from('x'))
    expect(sendMmsg(a, batch)).toBe(-32) // EPIPE
    expect(() => new SendBatch({ capacity: 0 })).toThrow()
  })
})
