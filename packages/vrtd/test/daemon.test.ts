// End to end on the TypeScript daemon: real sockets, real SCM_RIGHTS, real mmap of sealed memfds, file and sysfs
// BARs. Wire bytes are checked against the reference's golden vectors.
import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { memfdCreate, pipe } from '@x/native'
import {
  type BarFile,
  ClockRegion,
  clockGetRate,
  clockSetRate,
  connect,
  designWrite,
  detectProtocol,
  deviceHotplug,
  dmaBufSync,
  getBarFd,
  getBarInfo,
  getDeviceByBdf,
  getDeviceInfo,
  getNumDevices,
  getSensorInfo,
  HotplugOp,
  Opcode,
  openBarFile,
  qdmaGetInfo,
  qdmaQpairOp,
  rawRequest,
  Session,
  simulatorConfig,
  UPSTREAM_CONFIG_V0,
  VrtdError,
} from '@x/vrtd'
import { afterEach, describe, expect, it } from 'vitest'
import {
  fakeResolver,
  fixtures,
  header,
  hex,
  killChildren,
  openFds,
  RawClient,
  request,
  runNode,
  startDaemon,
  type TestDaemon,
  tempDir,
  toHex,
} from './helpers.js'

const running: { close: () => void }[] = []
function daemon(...args: Parameters<typeof startDaemon>): TestDaemon {
  const d = startDaemon(...args)
  running.push(d)
  return d
}
function track<T extends { close: () => void }>(x: T): T {
  running.push(x)
  return x
}
afterEach(() => {
  for (const r of running.splice(0).reverse()) {
    try {
      r.close()
    } catch {}
  }
  killChildren()
})

/** Two devices like the golden vectors: device 0 BAR0 64 MiB at 0x1000, device 1 BAR2 64 MiB. */
const GOLDEN = `${simulatorConfig({ devices: [] })}
[device:slash_ctl0]
bdf = 0000:65:00
bar0 = 64M
bar0-start = 0x1000
[device:slash_ctl1]
bdf = 0000:66:00
bar2 = 64M
`

async function rejection(p: Promise<unknown>): Promise<VrtdError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(VrtdError)
    return e as VrtdError
  }
  throw new Error('expected a rejection')
}

describe('wire bytes (golden vectors §2.7)', () => {
  async function exchange(path: string, req: string): Promise<{ reply: string; fds: number }> {
    const c = track(await RawClient.connect(path))
    c.send(hex(req))
    const r = await c.recv()
    if (typeof r === 'string') throw new Error(r)
    for (const f of r.fds) f.close()
    return { reply: toHex(r.data), fds: r.fds.length }
  }

  it('answers byte for byte', async () => {
    const d = daemon({ configText: GOLDEN })
    expect(await exchange(d.path, '01 00 00 00 01 00 00 00 | 00')).toEqual({
      reply: '04 00 00 00 01 00 00 00 02 00 00 00',
      fds: 0,
    })
    expect(await exchange(d.path, '00 00 00 00 01 00 00 00')).toEqual({ reply: '00 00 03 00 01 00 00 00', fds: 0 })
    expect(await exchange(d.path, '05 00 02 00 03 00 00 00 | 00 00 00 00 00')).toEqual({
      reply: toHex(
        hex('18 00 00 00 03 00 00 00 | 18 00 00 00 00 01 00 00 00 10 00 00 00 00 00 00 00 00 00 04 00 00 00 00'),
      ),
      fds: 0,
    })
    expect(await exchange(d.path, '05 00 03 00 07 00 00 00 | 01 00 00 00 02')).toEqual({
      reply: toHex(hex('08 00 00 00 07 00 00 00 | 00 00 00 04 00 00 00 00')),
      fds: 1,
    })
    expect(await exchange(d.path, '00 00 14 00 09 00 00 00')).toEqual({ reply: '00 00 03 00 09 00 00 00', fds: 0 })
    const info = await exchange(d.path, '04 00 01 00 02 00 00 00 | 00 00 00 00')
    expect(info.reply.startsWith('a8 00 00 00 02 00 00 00')).toBe(true)
  })

  it('denied GET_BAR_FD: AUTH_ERROR, size 0, no fd', async () => {
    // uid 0 resolves to a user with only [user:*] info
    const d = daemon({
      configText: GOLDEN.replace('[user:root]\nrole = fullaccess\n', ''),
      resolver: fakeResolver({ carol: { uid: 0, gid: 0 } }),
    })
    expect(await exchange(d.path, '05 00 03 00 07 00 00 00 | 01 00 00 00 02')).toEqual({
      reply: '00 00 07 00 07 00 00 00',
      fds: 0,
    })
  })

  it('v0 device info is 128 zero-padded bytes', async () => {
    const d = daemon({
      protocol: 'v0',
      configText: `${UPSTREAM_CONFIG_V0.replace(/^include-glob.*\n/, '').replace('[group:vrtadmin]\nrole = fullaccess\n', '')}[device:slash_ctl0]\n`,
    })
    const c = track(await RawClient.connect(d.path))
    c.send(hex('04 00 01 00 02 00 00 00 | 00 00 00 00'))
    const r = await c.recv()
    if (typeof r === 'string') throw new Error(r)
    expect(header(r.data)).toEqual({ size: 128, ret: 0, seqno: 2 })
    expect(Buffer.from(r.data.subarray(8, 18)).toString()).toBe('slash_ctl0')
    expect(r.data.subarray(18).every((b) => b === 0)).toBe(true)
    // opcodes beyond 3 are unknown to v0
    c.send(request(Opcode.GET_DEVICE_BY_BDF, 3, new Uint8Array(32)))
    const r2 = await c.recv()
    if (typeof r2 === 'string') throw new Error(r2)
    expect(header(r2.data)).toEqual({ size: 0, ret: 3, seqno: 3 })
  })

  it('a client that does not read its replies stalls only itself; its replies come in order later', async () => {
    const d = daemon()
    const greedy = track(await RawClient.connect(d.path))
    // keep sending without reading until even the daemon stops taking requests: its replies to this client have
    // filled the socket, so it holds the next one back and stops reading this client
    let sent = 0
    for (let round = 0, stuck = 0; round < 400 && stuck < 3; round++) {
      const before = sent
      while (greedy.send(request(0, sent + 1, new Uint8Array(1))) > 0) sent++
      stuck = sent === before ? stuck + 1 : 0
      await new Promise((r) => setTimeout(r, 2))
    }
    const other = track(await connect(d.path))
    expect(await getNumDevices(other)).toBe(1)
    for (let i = 1; i <= sent; i++) {
      const r = await greedy.recv()
      if (typeof r === 'string') throw new Error(`${r} at ${i}`)
      expect(header(r.data).seqno).toBe(i)
    }
    expect(sent).toBeGreaterThan(500)
  })

  it('a burst of GET_BAR_FD requests: every reply carries the BAR fd; none leak', async () => {
    const d = daemon()
    const base = openFds()
    const c = track(await connect(d.path))
    const all = await Promise.all(Array.from({ length: 300 }, () => getBarFd(c, 0, 0)))
    expect(all.every((r) => r.length === 64n << 20n)).toBe(true)
    expect(new Set(all.map((r) => fstatSync(r.fd.fd).ino)).size).toBe(1)
    for (const r of all) r.fd.close()
    c.close()
    await new Promise((r) => setTimeout(r, 20))
    expect(openFds()).toBe(base)
  })

  it('answers pipelined requests in order, each with its seqno', async () => {
    const d = daemon()
    const c = track(await RawClient.connect(d.path))
    c.send(request(0, 11, new Uint8Array(1)))
    c.send(request(1, 12, new Uint8Array(4)))
    c.send(request(2, 13, new Uint8Array(5)))
    const got = []
    for (let i = 0; i < 3; i++) {
      const r = await c.recv()
      if (typeof r === 'string') throw new Error(r)
      got.push(header(r.data))
    }
    expect(got).toEqual([
      { size: 4, ret: 0, seqno: 11 },
      { size: 168, ret: 0, seqno: 12 },
      { size: 24, ret: 0, seqno: 13 },
    ])
  })
})

describe('client ↔ daemon', () => {
  for (const protocol of ['v0', 'v1.0'] as const) {
    it(`the whole flow (${protocol}): connect, devices, BAR info, BAR fd, mmap, register write and read`, async () => {
      const config =
        protocol === 'v0'
          ? `${UPSTREAM_CONFIG_V0.replace(/^include-glob.*\n/, '').replace('[group:vrtadmin]\nrole = fullaccess\n', '')}[device:slash_ctl0]\nbar0 = 64M\n`
          : undefined
      const d = daemon({ protocol, configText: config })
      const c = track(await connect(d.path, { protocol }))
      expect(await getNumDevices(c)).toBe(1)
      const info = await getDeviceInfo(c, 0)
      expect(info.name).toBe('slash_ctl0')
      expect(info.pci === null).toBe(protocol === 'v0')
      const bar = await getBarInfo(c, 0, 0)
      expect(bar).toMatchObject({ barNumber: 0, usable: true, inUse: false, length: 64n << 20n })
      const { fd, length } = await getBarFd(c, 0, 0)
      expect(length).toBe(64n << 20n)
      fd.close()
      const bf = track(await openBarFile(c, 0, 0))
      bf.writeRegister(0x40, 0xdeadbeef)
      expect(bf.readRegister(0x40)).toBe(0xdeadbeef)
      bf.close()
      // the class layer
      using s = await Session.connect({ path: d.path, protocol })
      const dev = await s.getDevice(0)
      expect([dev.num, dev.name]).toEqual([0, 'slash_ctl0'])
      const b = await dev.getBar(0)
      expect([b.usable, b.inUse, b.length]).toEqual([true, false, 64n << 20n])
      const file = await b.openBarFile()
      expect(file.read((a) => a.read32(0x40))).toBe(0xdeadbeef)
    })
  }

  it('out-of-range devices and BARs (reference §7.4.5)', async () => {
    const d = daemon()
    const c = track(await connect(d.path))
    expect((await rejection(getBarInfo(c, 0, 6))).code).toBe('BAD_REQUEST')
    expect((await rejection(getBarFd(c, 0, 255))).code).toBe('BAD_REQUEST')
    expect((await rejection(getBarInfo(c, 99, 0))).code).toBe('NOEXIST')
    expect((await rejection(getDeviceInfo(c, 99))).code).toBe('NOEXIST')
    expect((await rejection(getBarFd(c, 99, 0))).code).toBe('AUTH_ERROR')
    expect((await rejection(getBarFd(c, 0, 1))).code).toBe('NOEXIST') // absent BAR: info says unusable
    expect(await getBarInfo(c, 0, 1)).toMatchObject({ usable: false, startAddress: 0n, length: 0n })
    expect((await rawRequest(c, 0)).ret).toBe(3) // empty GET_NUM_DEVICES
    expect((await rawRequest(c, 20)).ret).toBe(3)
    expect((await rawRequest(c, 0xffff)).ret).toBe(3)
    // v0: GET_BAR_FD out of range is NOEXIST
    const v0 = daemon({
      protocol: 'v0',
      configText: `${UPSTREAM_CONFIG_V0.replace(/^include-glob.*\n/, '').replace('[group:vrtadmin]\nrole = fullaccess\n', '')}[device:slash_ctl0]\n`,
    })
    const c0 = track(await connect(v0.path, { protocol: 'v0' }))
    expect((await rejection(getBarFd(c0, 99, 0))).code).toBe('NOEXIST')
    // a client asking for a v1.0 opcode on a v0 connection is stopped locally
    expect(await rejection(getDeviceByBdf(c0, '0000:65:00'))).toMatchObject({
      code: 'BAD_LIB_CALL',
      reason: 'UNSUPPORTED_OPCODE',
    })
  })

  it('detects the daemon’s revision without changing anything', async () => {
    const v1 = daemon()
    expect(await detectProtocol(v1.path)).toBe('v1.0')
    const empty = daemon({ configText: simulatorConfig({ devices: [] }) })
    expect(await detectProtocol(empty.path)).toBe('v1.0')
    const v0 = daemon({
      protocol: 'v0',
      configText: `${UPSTREAM_CONFIG_V0.replace(/^include-glob.*\n/, '').replace('[group:vrtadmin]\nrole = fullaccess\n', '')}[device:slash_ctl0]\n`,
    })
    expect(await detectProtocol(v0.path)).toBe('v0')
    const v0empty = daemon({
      protocol: 'v0',
      configText: UPSTREAM_CONFIG_V0.replace(/^include-glob.*\n/, '').replace(
        '[group:vrtadmin]\nrole = fullaccess\n',
        '',
      ),
    })
    expect(await detectProtocol(v0empty.path)).toBe('v0')
  })

  it('many concurrent requests on one connection, matched by seqno', async () => {
    const d = daemon()
    const c = track(await connect(d.path))
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? getNumDevices(c) : getDeviceInfo(c, 0).then((x) => x.name))),
    )
    expect(results.filter((r) => r === 1).length).toBe(100)
    expect(results.filter((r) => r === 'slash_ctl0').length).toBe(100)
    expect(c.pending).toBe(0)
  })

  it('a value written through one client’s mapping is read by a client in another process', async () => {
    const d = daemon()
    using s = await Session.connect({ path: d.path })
    const bf = await (await (await s.getDevice(0)).getBar(0)).openBarFile()
    bf.writeRegister(0x100, 0x1234_5678)
    const steps = [
      { op: 'read32', dev: 0, bar: 0, off: 0x100 },
      { op: 'write32', dev: 0, bar: 0, off: 0x104, value: 0xabcd_ef01 },
    ]
    const r = await runNode([join(fixtures, 'client.mjs'), JSON.stringify(steps)], { env: { VRTD_SOCKET: d.path } })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual([{ ok: 0x1234_5678 }, { ok: 0xabcd_ef01 }])
    expect(bf.readRegister(0x104)).toBe(0xabcd_ef01)
  })

  it('lends the same sealed memfd to every client: mappable, never resizable; sync is a no-op (ENOTTY)', async () => {
    const d = daemon()
    const c = track(await connect(d.path))
    const a = await getBarFd(c, 0, 0)
    const b = await getBarFd(c, 0, 0)
    try {
      const ino = (fd: number) => fstatSync(fd).ino
      expect(ino(a.fd.fd)).toBe(ino(b.fd.fd))
      expect(() => ftruncateSync(a.fd.fd, 4096)).toThrow(/EPERM/)
      expect(dmaBufSync(a.fd, 1)).toBe(false)
    } finally {
      a.fd.close()
      b.fd.close()
    }
  })

  it('no fd leaks in client or daemon', async () => {
    const d = daemon()
    const base = openFds()
    for (let i = 0; i < 5; i++) {
      const s = await Session.connect({ path: d.path })
      const bf = await (await (await s.getDevice(0)).getBar(2)).openBarFile()
      bf.writeRegister(0, i)
      await getBarFd(s.connection, 0, 0).then(({ fd }) => fd.close())
      s.close()
      expect(bf.closed).toBe(true)
    }
    await new Promise((r) => setTimeout(r, 20))
    expect(openFds()).toBe(base)
    expect(d.daemon.clients).toEqual([])
  })

  it('v1.0 operations on a simulated device', async () => {
    const d = daemon({ configText: GOLDEN })
    const c = track(await connect(d.path))
    expect(await getDeviceByBdf(c, '0000:66:00')).toBe(1)
    expect(await getDeviceByBdf(c, '65:00.1')).toBe(0)
    expect((await rejection(getDeviceByBdf(c, ''))).code).toBe('INVALID_ARGUMENT')
    expect((await rejection(getDeviceByBdf(c, '0000:99:00'))).code).toBe('NOEXIST')
    const sensors = await getSensorInfo(c, 0)
    expect(sensors.map((x) => x.name)).toContain('fpga_temp')
    expect(await clockGetRate(c, 0, ClockRegion.USER)).toBe(300_000_000)
    expect(await clockSetRate(c, 0, ClockRegion.USER, 250_000_000)).toBe(250_000_000)
    expect(await clockGetRate(c, 0, ClockRegion.USER)).toBe(250_000_000)
    expect((await rejection(clockSetRate(c, 0, ClockRegion.USER, 0))).code).toBe('INVALID_ARGUMENT')
    expect((await rejection(clockGetRate(c, 0, 7))).code).toBe('INVALID_ARGUMENT')
    await deviceHotplug(c, 0, HotplugOp.RESCAN)
    expect((await rejection(deviceHotplug(c, 0, HotplugOp.REMOVE, 8))).code).toBe('INVALID_ARGUMENT')
    expect((await rejection(deviceHotplug(c, 0, 9))).code).toBe('INVALID_ARGUMENT')
    expect((await rejection(qdmaGetInfo(c, 0))).code).toBe('NOEXIST')
    expect((await rejection(qdmaQpairOp(c, 0, 1, 0))).code).toBe('NOEXIST')
    expect((await rejection(qdmaQpairOp(c, 5, 1, 0))).code).toBe('AUTH_ERROR')
    const pdi = memfdCreate('pdi', { size: 4096 })
    try {
      await designWrite(c, 0, pdi)
    } finally {
      pdi.close()
    }
    // DESIGN_WRITE without its fd, GET_NUM_DEVICES with one: BAD_REQUEST; the fds are closed by the daemon
    expect((await rawRequest(c, Opcode.DESIGN_WRITE, new Uint8Array(4))).ret).toBe(3)
    const extra = memfdCreate('extra')
    try {
      expect((await rawRequest(c, Opcode.GET_NUM_DEVICES, new Uint8Array(1), { fds: [extra] })).ret).toBe(3)
    } finally {
      extra.close()
    }
    expect(d.logs.text()).toMatch(/1 fds with the request, expected 0/)
  })

  it('a uid without a passwd entry is disconnected without a reply', async () => {
    const d = daemon({ resolver: fakeResolver({ root: { uid: 12345, gid: 0 } }) })
    const c = track(await connect(d.path, { timeout: 5000 }))
    const e = await rejection(getNumDevices(c))
    expect(e.code).toBe('BAD_CONN')
    expect(e.reason).toBe('PEER_CLOSED')
    expect(d.logs.text()).toMatch(/No passwd entry for uid 0/)
  })

  it('reload: a broken file keeps the old config, a good one applies', async () => {
    const t = tempDir()
    track({ close: t.cleanup })
    const file = join(t.dir, 'vrtd.conf')
    writeFileSync(file, simulatorConfig())
    const d = daemon({ config: file })
    const c = track(await connect(d.path))
    expect(await getBarFd(c, 0, 0).then(({ fd }) => fd.close())).toBeUndefined()
    writeFileSync(file, '[role:x]\nbogus = 1\n')
    expect(d.daemon.reload()).toBe(false)
    expect(d.logs.text()).toMatch(/keeping the previous one/)
    expect(await getBarFd(c, 0, 0).then(({ fd }) => fd.close())).toBeUndefined()
    writeFileSync(file, simulatorConfig().replace('[user:root]\nrole = fullaccess\n', ''))
    expect(d.daemon.reload()).toBe(true)
    expect((await rejection(getBarFd(c, 0, 0))).code).toBe('AUTH_ERROR')
    expect(d.logs.text()).toMatch(
      /Permission denied for uid 0\(root\): 'get_bar_fd' requires 'bar-access \(device 0000:65:00\)'/,
    )
  })

  it('optional client limit and idle timeout', async () => {
    const d = daemon({ maxClients: 1, idleTimeout: 50 })
    const a = track(await connect(d.path))
    expect(await getNumDevices(a)).toBe(1)
    const b = track(await connect(d.path))
    expect((await rejection(getNumDevices(b))).code).toBe('BAD_CONN')
    // a stays idle: the daemon drops it
    for (let i = 0; i < 100 && d.daemon.clients.length > 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(d.daemon.clients).toEqual([])
    expect((await rejection(getNumDevices(a))).code).toBe('BAD_CONN')
  })
})

describe('device backends', () => {
  it('file-backed BARs: writes land in the file', async () => {
    const t = tempDir()
    track({ close: t.cleanup })
    const path = join(t.dir, 'bar0.bin')
    const d = daemon({
      configText: `${simulatorConfig({ devices: [] })}[device:filedev]\ntype = file\nbar0-file = ${path}\nbar0 = 8K\n`,
    })
    const c = track(await connect(d.path))
    expect((await getBarInfo(c, 0, 0)).length).toBe(8192n)
    const bf = track(await openBarFile(c, 0, 0))
    bf.writeRegister(0x10, 0x4142_4344)
    bf.close()
    const fd = openSync(path, 'r')
    const buf = Buffer.alloc(4)
    readSync(fd, buf, 0, 4, 0x10)
    closeSync(fd)
    expect(buf.readUInt32LE(0)).toBe(0x4142_4344)
  })

  it('libslash mock mode: BAR0 64 MiB in an O_EXCL file under $XDG_RUNTIME_DIR, removed on close', async () => {
    const t = tempDir()
    track({ close: t.cleanup })
    const d = startDaemon({
      configText: `enable-mock-device = yes\n${simulatorConfig({ devices: [] })}`,
      env: { ...process.env, XDG_RUNTIME_DIR: t.dir },
    })
    try {
      const c = track(await connect(d.path))
      expect((await getDeviceInfo(c, 0)).name).toBe('@mock')
      expect((await getBarInfo(c, 0, 0)).length).toBe(64n << 20n)
      expect((await getBarInfo(c, 0, 2)).usable).toBe(false)
      expect(readdirSync(t.dir).filter((f) => f.startsWith('slash-mock-')).length).toBe(1)
    } finally {
      d.close()
    }
    expect(readdirSync(t.dir).filter((f) => f.startsWith('slash-mock-'))).toEqual([])
  })

  it('PCI BARs from sysfs resource files (a fake sysfs tree)', async () => {
    const t = tempDir()
    track({ close: t.cleanup })
    const dev = join(t.dir, 'bus/pci/devices/0000:65:00.1')
    mkdirSync(dev, { recursive: true })
    const flagsMem = '0x0000000000140204'
    writeFileSync(
      join(dev, 'resource'),
      [
        `0x000000e000000000 0x000000e000007fff ${flagsMem}`,
        '0x0000000000000000 0x0000000000000000 0x0000000000000000',
        `0x000000e100000000 0x000000e10000ffff ${flagsMem}`,
        '0x000000000000e000 0x000000000000e07f 0x0000000000040101',
        '0x0000000000000000 0x0000000000000000 0x0000000000000000',
        '0x0000000000000000 0x0000000000000000 0x0000000000000000',
        '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      ].join('\n'),
    )
    for (const [n, size] of [
      [0, 0x8000],
      [2, 0x10000],
    ] as const) {
      writeFileSync(join(dev, `resource${n}`), '')
      ftruncateSync(openSync(join(dev, `resource${n}`), 'r+'), size)
    }
    writeFileSync(join(dev, 'vendor'), '0x10ee\n')
    writeFileSync(join(dev, 'device'), '0x50b5\n')
    const d = daemon({
      configText: `${simulatorConfig({ devices: [] })}[device:slash_ctl0]\ntype = pci\npci = 0000:65:00.1\nsysfs = ${t.dir}\n`,
    })
    const c = track(await connect(d.path))
    const info = await getDeviceInfo(c, 0)
    expect(info.pci).toMatchObject({ bdf: '0000:65:00', vendorId: 0x10ee, deviceId: 0x50b5 })
    expect(await getBarInfo(c, 0, 0)).toMatchObject({ usable: true, startAddress: 0xe000000000n, length: 0x8000n })
    expect(await getBarInfo(c, 0, 3)).toMatchObject({ usable: false }) // an I/O port BAR
    expect((await rejection(getBarFd(c, 0, 3))).code).toBe('NOEXIST')
    const bf = track(await openBarFile(c, 0, 2))
    expect(bf.length).toBe(0x10000)
    bf.writeRegister(0xfffc, 7)
    expect(bf.readRegister(0xfffc)).toBe(7)
    expect((await rejection(clockGetRate(c, 0, 0))).code).toBe('NOEXIST')
    expect((await rejection(getSensorInfo(c, 0))).code).toBe('INTERNAL_ERROR')
  })
})

describe('the class layer and BarFile rules', () => {
  it('objects from a closed session are invalid (BAD_LIB_CALL, SESSION_CLOSED); its BarFiles close', async () => {
    const d = daemon()
    const s = await Session.connect({ path: d.path })
    const dev = await s.getDevice(0)
    const bar = await dev.getBar(0)
    const bf = await bar.openBarFile()
    const a = bf.access('read')
    s.close()
    expect(s.closed).toBe(true)
    expect(bf.closed).toBe(true)
    expect(() => dev.name).toThrow(expect.objectContaining({ code: 'BAD_LIB_CALL', reason: 'SESSION_CLOSED' }))
    expect(() => bar.length).toThrow(expect.objectContaining({ reason: 'SESSION_CLOSED' }))
    expect((await rejection(dev.getBar(0))).reason).toBe('SESSION_CLOSED')
    expect((await rejection(s.getNumDevices())).reason).toBe('SESSION_CLOSED')
    expect(() => a.read32(0)).toThrow(expect.objectContaining({ reason: 'BAR_FILE_CLOSED' }))
    expect(() => bf.access('read')).toThrow(expect.objectContaining({ reason: 'BAR_FILE_CLOSED' }))
    s.close()
  })

  it('one access at a time; direction, bounds and alignment are checked', async () => {
    const d = daemon({ configText: simulatorConfig({ devices: [{ name: 'slash_ctl0', bars: { 0: 4096 } }] }) })
    using s = await Session.connect({ path: d.path })
    const bf: BarFile = await (await (await s.getDevice(0)).getBar(0)).openBarFile()
    expect(bf.length).toBe(4096)
    {
      using w = bf.access('write')
      expect(() => bf.access('read')).toThrow(expect.objectContaining({ reason: 'ACCESS_ACTIVE' }))
      expect(() => bf.close()).toThrow(expect.objectContaining({ reason: 'ACCESS_ACTIVE' }))
      w.write8(0, 0xff)
      w.write16(2, 0xbeef)
      w.write32(4, 0xcafebabe)
      w.write64(8, 0x0123_4567_89ab_cdefn)
      expect(() => w.read32(0)).toThrow(expect.objectContaining({ reason: 'WRONG_DIRECTION' }))
      expect(() => w.write32(2, 1)).toThrow(expect.objectContaining({ reason: 'MISALIGNED' }))
      expect(() => w.write32(4096, 1)).toThrow(expect.objectContaining({ reason: 'OUT_OF_RANGE' }))
      expect(() => w.write64(4092, 1n)).toThrow(expect.objectContaining({ reason: 'OUT_OF_RANGE' }))
      expect(() => w.write8(0, 256)).toThrow(expect.objectContaining({ reason: 'INVALID_VALUE' }))
      expect(() => w.write32(-4, 1)).toThrow(expect.objectContaining({ reason: 'OUT_OF_RANGE' }))
      expect(() => w.write32(4.5, 1)).toThrow(expect.objectContaining({ reason: 'MISALIGNED' }))
    }
    const r = bf.access('read')
    expect([r.read8(0), r.read16(2), r.read32(4), r.read64(8)]).toEqual([
      0xff,
      0xbeef,
      0xcafebabe,
      0x0123_4567_89ab_cdefn,
    ])
    expect(r.read(8, 64)).toBe(0x0123_4567_89ab_cdefn)
    expect(toHex(r.bytes(0, 4))).toBe('ff 00 ef be')
    expect(r.view(4, 4).getUint32(0, true)).toBe(0xcafebabe)
    expect(() => r.write32(0, 1)).toThrow(expect.objectContaining({ reason: 'WRONG_DIRECTION' }))
    r.end()
    r.end()
    expect(() => r.read8(0)).toThrow(expect.objectContaining({ reason: 'ACCESS_ENDED' }))
    expect(bf.update((rw) => rw.read32(4) + 1)).toBe(0xcafebabf)
    expect(await bf.write(async (w) => w.write32(0, 5))).toBeUndefined()
    expect(bf.activeAccess).toBeNull()
    bf.close()
    bf.close()
    expect(bf.closed).toBe(true)
  })

  it('a BAR fd that cannot be mapped is closed; the connection stays usable', async () => {
    const d = daemon()
    const c = track(await connect(d.path))
    const base = openFds()
    const [r, w] = pipe()
    const { mapBarFd } = await import('@x/vrtd')
    w.close()
    const e = (() => {
      try {
        mapBarFd(r, 4096n)
      } catch (err) {
        return err as VrtdError
      }
      throw new Error('mapped a pipe')
    })()
    expect(e).toMatchObject({ code: 'INTERNAL_ERROR', reason: 'MAP_FAILED' })
    expect(r.closed).toBe(true)
    expect(openFds()).toBe(base)
    expect(await getNumDevices(c)).toBe(1)
  })
})

describe('cleanup sanity', () => {
  it('the daemon removes its socket file when it stops', () => {
    const d = daemon()
    expect(existsSync(d.path)).toBe(true)
    d.daemon.close()
    expect(existsSync(d.path)).toBe(false)
  })
})
