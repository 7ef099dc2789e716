import { spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  accept,
  bind,
  bindToDevice,
  boundDevice,
  connect,
  FdWatcher,
  getsockname,
  ifIndexToName,
  ifNameToIndex,
  K,
  listen,
  memfdCreate,
  mmap,
  type OwnedFd,
  packetSocket,
  parseSockaddr,
  peerCred,
  recv,
  recvMsg,
  send,
  sendMsg,
  sockaddrIn6,
  sockaddrLl,
  sockaddrUn,
  socket,
  socketpair,
  xdpSocket,
} from '@x/native'
import { afterEach, describe, expect, it } from 'vitest'
import { fdFlags, isRoot, O_CLOEXEC, openFds } from './helpers.js'

const owned: OwnedFd[] = []
function keep<T extends OwnedFd | OwnedFd[]>(x: T): T {
  if (Array.isArray(x)) owned.push(...x)
  else owned.push(x)
  return x
}
afterEach(() => {
  for (const f of owned.splice(0)) f.close()
})

function readable(fd: OwnedFd, ms = 5000): Promise<void> {
  const w = new FdWatcher(fd)
  return Promise.race([
    w.wait('readable'),
    new Promise<void>((_, rej) => setTimeout(() => rej(new Error('timed out waiting for readable')), ms).unref()),
  ]).finally(() => w.close())
}

describe('AF_UNIX SOCK_SEQPACKET with SCM_RIGHTS', () => {
  it('passes a memfd; both ends map the same bytes; received fds are CLOEXEC and owned', () => {
    const [a, b] = keep(socketpair(K('AF_UNIX'), K('SOCK_SEQPACKET')))
    using mf = memfdCreate('bar', { size: 4096 })
    expect(sendMsg(a, Buffer.from('bar0'), { fds: [mf] })).toBe(4)
    const buf = new Uint8Array(64)
    const r = recvMsg(b, buf)!
    expect(r.bytes).toBe(4)
    expect(Buffer.from(buf.subarray(0, 4)).toString()).toBe('bar0')
    expect(r.fds).toHaveLength(1)
    expect(r.truncated).toBe(false)
    const got = r.fds[0]!
    expect(fdFlags(got.fd) & O_CLOEXEC).toBe(O_CLOEXEC)
    using m1 = mmap(mf, 4096)
    using m2 = mmap(got, 4096)
    m1.view().setUint32(0, 0xdeadbeef, true)
    expect(m2.view().getUint32(0, true)).toBe(0xdeadbeef)
    got.close()
  })

  it('returns null on EAGAIN and 0 bytes when the peer shut down', () => {
    const [a, b] = keep(socketpair(K('AF_UNIX'), K('SOCK_SEQPACKET')))
    expect(recvMsg(b, new Uint8Array(8))).toBeNull()
    a.close()
    expect(recvMsg(b, new Uint8Array(8))).toMatchObject({ bytes: 0, fds: [] })
  })

  it('keeps message boundaries and reports MSG_TRUNC', () => {
    const [a, b] = keep(socketpair(K('AF_UNIX'), K('SOCK_SEQPACKET')))
    sendMsg(a, new Uint8Array(100).fill(7))
    sendMsg(a, new Uint8Array(3).fill(8))
    const r1 = recvMsg(b, new Uint8Array(10))!
    expect(r1).toMatchObject({ bytes: 10, truncated: true })
    const buf = new Uint8Array(10)
    const r2 = recvMsg(b, buf)!
    expect(r2).toMatchObject({ bytes: 3, truncated: false })
    expect([...buf.subarray(0, 3)]).toEqual([8, 8, 8])
  })

  it('MSG_CTRUNC is an error and leaks no fd', () => {
    const [a, b] = keep(socketpair(K('AF_UNIX'), K('SOCK_SEQPACKET')))
    const fds = [memfdCreate('x'), memfdCreate('y'), memfdCreate('z')]
    sendMsg(a, Uint8Array.of(1), { fds })
    for (const f of fds) f.close()
    const before = openFds()
    expect(() => recvMsg(b, new Uint8Array(8), { maxFds: 1 })).toThrow(
      expect.objectContaining({ code: 'EMSGSIZE', syscall: 'recvmsg', message: expect.stringContaining('MSG_CTRUNC') }),
    )
    expect(openFds()).toBe(before)
  })

  it('passes an fd to a child process that writes through its own mapping', async () => {
    const [a, b] = keep(socketpair(K('AF_UNIX'), K('SOCK_SEQPACKET')))
    using mf = memfdCreate('child', { size: 4096 })
    using m = mmap(mf, 4096)
    const child = spawn(process.execPath, [new URL('./fixtures/seqpacket-child.mjs', import.meta.url).pathname], {
      stdio: ['ignore', 'pipe', 'inherit', b.fd],
    })
    b.close()
    sendMsg(a, Buffer.from('map'), { fds: [mf] })
    await readable(a, 15000)
    const reply = new Uint8Array(16)
    const r = recvMsg(a, reply)!
    expect(Buffer.from(reply.subarray(0, r.bytes)).toString()).toBe('done')
    expect(m.view().getUint32(64, true)).toBe(0x12345678)
    await new Promise((res) => child.on('exit', res))
    expect(child.exitCode).toBe(0)
  })
})

describe('SO_PEERCRED', () => {
  it('names this process for a socketpair', () => {
    const [a] = keep(socketpair(K('AF_UNIX'), K('SOCK_SEQPACKET')))
    expect(peerCred(a)).toEqual({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() })
  })

  it.skipIf(!isRoot)('names a child running under another uid and gid (needs root)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xnative-'))
    chmodSync(dir, 0o777)
    const path = join(dir, 's')
    const srv = keep(socket(K('AF_UNIX'), K('SOCK_STREAM')))
    bind(srv, sockaddrUn(path))
    chmodSync(path, 0o777)
    listen(srv)
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const s=require('net').connect(${JSON.stringify(path)});s.on('connect',()=>setTimeout(()=>s.end(),2000))`,
      ],
      { uid: 65534, gid: 65534, stdio: 'inherit' },
    )
    try {
      await readable(srv, 15000)
      const c = keep(accept(srv)!)
      const cred = peerCred(c)
      expect(cred.uid).toBe(65534)
      expect(cred.gid).toBe(65534)
      expect(cred.pid).toBe(child.pid)
    } finally {
      child.kill()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('AF_UNIX stream sockets', () => {
  it('listen/connect/accept on an abstract name; accept gives null when none is pending', async () => {
    const name = { abstract: `xnative-${process.pid}-${Date.now()}` }
    const srv = keep(socket(K('AF_UNIX'), K('SOCK_STREAM')))
    bind(srv, sockaddrUn(name))
    listen(srv)
    expect(accept(srv)).toBeNull()
    const cli = keep(socket(K('AF_UNIX'), K('SOCK_STREAM')))
    expect(connect(cli, sockaddrUn(name))).toBe(0)
    await readable(srv)
    const c = keep(accept(srv)!)
    expect(fdFlags(c.fd) & O_CLOEXEC).toBe(O_CLOEXEC)
    expect(send(cli, Buffer.from('ping'))).toBe(4)
    await readable(c)
    const buf = new Uint8Array(8)
    expect(recv(c, buf)).toBe(4)
    expect(parseSockaddr(sockaddrUn(name))).toEqual({ family: 'unix', path: name.abstract, abstract: true })
    expect(getsockname(srv)).toEqual({ family: 'unix', path: name.abstract, abstract: true })
  })

  it('rejects bad paths with typed errors', () => {
    expect(() => sockaddrUn('a'.repeat(200))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ADDRESS' }))
    expect(() => sockaddrUn('a\0b')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ADDRESS' }))
    const s = keep(socket(K('AF_UNIX'), K('SOCK_SEQPACKET')))
    expect(() => connect(s, sockaddrUn('/nonexistent/x.sock'))).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'connect' }),
    )
  })
})

describe('AF_INET6, interfaces and SO_BINDTODEVICE', () => {
  it('sockaddr_in6 carries the port and scope id', () => {
    const a = sockaddrIn6({ address: 'fe80::1', port: 5000, scopeId: 7 })
    expect(parseSockaddr(a)).toEqual({ family: 'inet6', address: 'fe80::1', port: 5000, flowinfo: 0, scopeId: 7 })
    expect(Buffer.from(a).toString('hex')).toBe(`0a00${'1388'}00000000fe800000000000000000000000000001${'07000000'}`)
    expect(() => sockaddrIn6({ address: 'fe80::1%eth0' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ADDRESS' }),
    )
    expect(() => sockaddrIn6({ address: '1::2::3' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ADDRESS' }))
  })

  it('binds a UDP socket to [::1] and reads its name back', () => {
    const s = keep(socket(K('AF_INET6'), K('SOCK_DGRAM')))
    bind(s, sockaddrIn6({ address: '::1', port: 0 }))
    const n = getsockname(s)
    expect(n).toMatchObject({ family: 'inet6', address: '::1' })
    expect((n as { port: number }).port).toBeGreaterThan(0)
  })

  it('if_nametoindex / if_indextoname on lo', () => {
    const lo = ifNameToIndex('lo')
    expect(lo).toBeGreaterThan(0)
    expect(ifIndexToName(lo)).toBe('lo')
    expect(() => ifIndexToName(0x7fffffff)).toThrow(
      expect.objectContaining({ code: 'ENXIO', syscall: 'if_indextoname' }),
    )
  })

  it.skipIf(!isRoot)('SO_BINDTODEVICE takes a name and reads it back (needs CAP_NET_RAW)', () => {
    const s = keep(socket(K('AF_INET6'), K('SOCK_DGRAM')))
    expect(boundDevice(s)).toBe('')
    bindToDevice(s, 'lo')
    expect(boundDevice(s)).toBe('lo')
    expect(() => bindToDevice(s, 'nosuchif0')).toThrow(
      expect.objectContaining({ code: 'ENODEV', syscall: 'setsockopt' }),
    )
  })
})

describe.skipIf(!isRoot)('AF_PACKET and AF_XDP (need CAP_NET_RAW)', () => {
  it('an AF_PACKET socket bound to lo sees a UDP datagram sent on loopback', async () => {
    const lo = ifNameToIndex('lo')
    const ps = keep(packetSocket())
    bind(ps, sockaddrLl({ ifindex: lo, protocol: K('ETH_P_ALL') }))
    const marker = Buffer.from(`xnative-packet-${process.pid}-${Math.random()}`)
    const udp = createSocket('udp4')
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()))
    const port = udp.address().port
    udp.send(marker, port, '127.0.0.1')
    const buf = new Uint8Array(65536)
    let found = false
    const deadline = Date.now() + 5000
    while (!found && Date.now() < deadline) {
      await readable(ps)
      for (;;) {
        const n = recv(ps, buf)
        if (n < 0) break
        if (Buffer.from(buf.subarray(0, n)).includes(marker)) found = true
      }
    }
    udp.close()
    expect(found).toBe(true)
  })

  it('creates an AF_XDP socket', () => {
    const x = keep(xdpSocket())
    expect(fdFlags(x.fd) & O_CLOEXEC).toBe(O_CLOEXEC)
  })
})
