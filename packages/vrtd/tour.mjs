// Tour step for @x/vrtd: the daemon in-process on a temp socket with one simulated device (the embedded config),
// a client listing it, a register written and read back through a BarFile mapping the BAR the daemon lent.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { Daemon, Session, simulatorConfig } from '@x/vrtd'

const dir = mkdtempSync(join(tmpdir(), 'vrtd-tour-'))
const daemon = Daemon.start({
  configText: simulatorConfig({ users: [userInfo().username] }),
  socket: join(dir, 'vrtd.sock'),
  log: { level: 'error' },
})
let session
try {
  session = await Session.connect({ path: daemon.path })
  console.log(`  vrtd (TypeScript, protocol ${daemon.protocol}) listening on ${daemon.path}`)
  for (const d of await session.listDevices()) {
    console.log(
      `  device ${d.num}: ${d.name} at ${d.pci.bdf} (${d.pci.vendorId.toString(16)}:${d.pci.deviceId.toString(16)})`,
    )
  }
  const bar = await (await session.getDevice(0)).getBar(0)
  const bf = await bar.openBarFile()
  console.log(`  BAR0: ${Number(bar.length) >> 20} MiB sealed memfd, lent over SCM_RIGHTS as fd ${bf.fd} and mmap'd`)
  bf.writeRegister(0x10, 0xc0ffee)
  console.log(`  wrote 0xc0ffee to register 0x10, read back 0x${bf.readRegister(0x10).toString(16)}`)
} finally {
  session?.close()
  daemon.close()
  rmSync(dir, { recursive: true, force: true })
}
