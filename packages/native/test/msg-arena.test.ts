import { binding, K, MsgArena, memfdCreate, SeqpacketSocket, sendMsg, socketpair } from '@x/native'
import { describe, expect, it } from 'vitest'
import { fdFlags, O_CLOEXEC, openFds } from './helpers.js'

const pair = () => socketpair(K('AF_UNIX'), K('SOCK_SEQPACKET'), 0, { nonBlocking: true })

describe('MsgArena (recvmsg/sendmsg over a buffer checked once)', () => {
  it('sends from sendBuffer and receives into recvBuffer, one message each, -EAGAIN when none', () => {
    const [a, b] = pair()
    try {
      const io = new MsgArena({ recvSize: 64, sendSize: 64 })
      expect(io.recv(b)).toBe(-11)
      io.sendBuffer.set([1, 2, 3, 4, 5])
      expect(io.send(a, 5)).toBe(5)
      io.sendView.setUint32(8, 0xdeadbeef, true)
      expect(io.sendAt(a, 8, 4)).toBe(4)
      expect(io.recv(b)).toBe(5)
      expect([...io.recvBuffer.subarray(0, 5)]).toEqual([1, 2, 3, 4, 5])
      expect(io.truncated).toBe(false)
      expect(io.fdCount).toBe(0)
      expect(io.takeFds()).toEqual([])
      expect(io.recv(b)).toBe(4)
      expect(io.recvView.getUint32(0, true)).toBe(0xdeadbeef)
      expect(io.recv(b)).toBe(-11)
      // sendFrom: a view of the send area goes by offset, any other view through sendMsg; both arrive the same
      io.sendBuffer.set([9, 8, 7], 20)
      expect(io.sendFrom(a, io.sendBuffer.subarray(20, 23))).toBe(3)
      expect(io.sendFrom(a, Uint8Array.of(6, 5))).toBe(2)
      expect(io.sendFrom(a, io.recvBuffer.subarray(0, 2))).toBe(2) // the same buffer, outside the send area
      expect(io.recv(b)).toBe(3)
      expect([...io.recvBuffer.subarray(0, 3)]).toEqual([9, 8, 7])
      expect(io.recv(b)).toBe(2)
      expect([...io.recvBuffer.subarray(0, 2)]).toEqual([6, 5])
      expect(io.recv(b)).toBe(2)
    } finally {
      a.close()
      b.close()
    }
  })

  it('reports a message longer than the receive area as truncated', () => {
    const [a, b] = pair()
    try {
      const io = new MsgArena({ recvSize: 4 })
      sendMsg(a, new Uint8Array(10).fill(7))
      expect(io.recv(b)).toBe(4)
      expect(io.truncated).toBe(true)
    } finally {
      a.close()
      b.close()
    }
  })

  it('hands received fds over (CLOEXEC, owned); fds not taken are closed by the next recv', () => {
    const [a, b] = pair()
    try {
      const io = new MsgArena({ maxFds: 2 })
      const mf = memfdCreate('arena')
      sendMsg(a, Uint8Array.of(1), { fds: [mf] })
      sendMsg(a, Uint8Array.of(2), { fds: [mf, mf] })
      sendMsg(a, Uint8Array.of(3))
      mf.close()
      const before = openFds()
      expect(io.recv(b)).toBe(1)
      expect(io.fdCount).toBe(1)
      const [got] = io.takeFds()
      expect(fdFlags(got!.fd) & O_CLOEXEC).toBe(O_CLOEXEC)
      expect(io.fdCount).toBe(0)
      got!.close()
      expect(io.recv(b)).toBe(1)
      expect(io.fdCount).toBe(2)
      expect(openFds()).toBe(before + 2)
      expect(io.recv(b)).toBe(1) // the two untaken fds are closed here
      expect(openFds()).toBe(before)
    } finally {
      a.close()
      b.close()
    }
  })

  it('more fds than maxFds: -EMSGSIZE and every fd that arrived is closed', () => {
    const [a, b] = pair()
    try {
      const io = new MsgArena({ maxFds: 1 })
      const fds = [memfdCreate('x'), memfdCreate('y'), memfdCreate('z')]
      sendMsg(a, Uint8Array.of(9), { fds })
      for (const f of fds) f.close()
      const before = openFds()
      expect(io.recv(b)).toBe(-90)
      expect(io.fdCount).toBe(0)
      expect(openFds()).toBe(before)
      const none = new MsgArena() // maxFds 0: any fd is too many
      sendMsg(a, Uint8Array.of(9), { fds: [a] })
      expect(none.recv(b)).toBe(-90)
      expect(openFds()).toBe(before)
    } finally {
      a.close()
      b.close()
    }
  })

  it('bad windows, a detached buffer and bad options are errors, never a crash', () => {
    const [a, b] = pair()
    try {
      const io = new MsgArena({ recvSize: 16, sendSize: 16 })
      expect(io.send(a, 17)).toBe(-22) // past the end of the send area (the end of the buffer)
      expect(io.sendAt(a, 10, 7)).toBe(-22)
      expect(io.sendAt(a, -1, 2)).toBe(-22)
      expect(io.send(-1, 1)).toBe(-9) // EBADF
      structuredClone(io.recvBuffer.buffer, { transfer: [io.recvBuffer.buffer as ArrayBuffer] })
      expect(io.send(a, 1)).toBe(-22)
      expect(io.recv(b)).toBe(-22)
      expect(io.send(a, 2 ** 32 + 1)).toBe(-22) // not silently cut to 1 byte
      expect(io.send(a, 1.5)).toBe(-22)
      expect(() => new MsgArena({ maxFds: 254 })).toThrow(/maxFds/)
      // the raw binding refuses a buffer that could shrink under it
      const growable = new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(64, {
        maxByteLength: 128,
      })
      expect(() => binding.msgarena(growable, 8, 0, 0)).toThrow(/resizable/)
      expect(() => new MsgArena({ recvSize: 0 })).toThrow(/recvSize/)
    } finally {
      a.close()
      b.close()
    }
  })
  it('untaken fds are closed by close() (Symbol.dispose) too', () => {
    const [a, b] = pair()
    try {
      const before = openFds()
      const mf = memfdCreate('arena-close')
      {
        using io = new MsgArena({ maxFds: 1 })
        sendMsg(a, Uint8Array.of(1), { fds: [mf] })
        mf.close()
        expect(io.recv(b)).toBe(1)
        expect(io.fdCount).toBe(1)
      }
      expect(openFds()).toBe(before)
    } finally {
      a.close()
      b.close()
    }
  })
})

describe('SeqpacketSocket options over the arena', () => {
  it('clamps maxFds to 0…253 and takes any message size ≥ 1, as before (no throw, no leaked fd)', async () => {
    const before = openFds()
    for (const o of [{ maxFds: 300 }, { maxFds: -1 }, { maxMessageSize: 0 }, { maxMessageSize: 1500.5 }]) {
      const [x, y] = SeqpacketSocket.pair(o)
      x.send(Uint8Array.of(7))
      const m = await y.recv()
      expect(m?.data[0]).toBe(7)
      x.close()
      y.close()
    }
    expect(openFds()).toBe(before)
  })
})
