// The devices a daemon serves and their BAR fds, opened once at startup and lent (the same fd) to every client, as
// upstream lends its long-lived dma-bufs:
//   sim  — each BAR a sealed memfd (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL: clients can map it, never resize it);
//   mock — libslash's @mock: BAR0 is 64 MiB backed by an O_EXCL temporary file in $XDG_RUNTIME_DIR (else the
//          system temp directory), removed on close; other BARs unusable;
//   file — BARs backed by files named in the config;
//   pci  — a real PCI function's memory BARs: sysfs resourceN files, start/length/flags from sysfs `resource`.
// A BAR that fails to open is logged and skipped (GET_BAR_FD → NOEXIST), as upstream does.
import { randomBytes } from 'node:crypto'
import { constants, fstatSync, ftruncateSync, openSync, readFileSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addSeals, memfdCreate, OwnedFd, Seal } from '@x/native'
import type { BarInfo, PciInfo, SensorEntry } from '../bodies.js'
import { BAR_COUNT } from '../protocol.js'
import type { DeviceSpec } from './config.js'
import type { Logger } from './log.js'

export interface BarSlot {
  info: BarInfo
  /** The fd lent in GET_BAR_FD replies; null when the BAR is unusable or failed to open. */
  fd: OwnedFd | null
  length: bigint
}

export interface Device {
  index: number
  spec: DeviceSpec
  name: string
  pci: PciInfo
  /** BAR 0..5; null when there is no info for it (GET_BAR_INFO → NOEXIST). */
  bars: (BarSlot | null)[]
  /** Simulated sensor table (sim devices), else null (no AMI). */
  sensors: SensorEntry[] | null
  /** Simulated clock rates (sim devices), else null (no clock driver). */
  clocks: { service: number; user: number } | null
  /** Simulated devices accept hotplug and design writes as no-ops. */
  simulated: boolean
  /** Files to remove on close (the @mock backing file). */
  cleanup: string[]
}

const IORESOURCE_MEM = 0x200

const SIM_SENSORS: readonly SensorEntry[] = [
  { name: 'fpga_temp', type: 1, status: 1, unitMod: 0, value: 42 },
  { name: 'vccint', type: 4, status: 1, unitMod: -3, value: 800 },
  { name: 'vccint', type: 2, status: 1, unitMod: -3, value: 12_500 },
  { name: 'board_power', type: 8, status: 1, unitMod: -3, value: 38_000 },
]

function absentBar(num: number): BarSlot {
  return {
    info: { size: 24, barNumber: num, usable: false, inUse: false, startAddress: 0n, length: 0n },
    fd: null,
    length: 0n,
  }
}

function usableBar(num: number, start: bigint, length: bigint, fd: OwnedFd | null): BarSlot {
  return { info: { size: 24, barNumber: num, usable: true, inUse: false, startAddress: start, length }, fd, length }
}

function openFileFd(path: string, flags: number, mode = 0o600): OwnedFd {
  return new OwnedFd(openSync(path, flags, mode), 'bar')
}

function readHex(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 16)
    return Number.isInteger(n) ? n : null
  } catch {
    return null
  }
}

/** Opens one device's BARs. Never throws for a single BAR: it is logged and left unusable. */
export function openDevice(spec: DeviceSpec, index: number, log: Logger, env: NodeJS.ProcessEnv = process.env): Device {
  const dev: Device = {
    index,
    spec,
    name: spec.name,
    pci: {
      bdf: spec.bdf,
      vendorId: spec.vendorId,
      deviceId: spec.deviceId,
      subsystemVendorId: spec.subsystemVendorId,
      subsystemDeviceId: spec.subsystemDeviceId,
    },
    bars: Array.from({ length: BAR_COUNT }, (_, n) => absentBar(n)),
    sensors: spec.type === 'sim' || spec.type === 'mock' ? [...SIM_SENSORS] : null,
    clocks: spec.type === 'sim' || spec.type === 'mock' ? { service: 100_000_000, user: 300_000_000 } : null,
    simulated: spec.type === 'sim' || spec.type === 'mock',
    cleanup: [],
  }
  const fail = (num: number, e: unknown): void => {
    log.warning(`Failed to open BAR ${num} of ${spec.name}`, {
      device: spec.name,
      bar: num,
      error: (e as Error).message,
    })
  }
  if (spec.type === 'pci') {
    openPci(dev, spec, log)
    return dev
  }
  for (const b of spec.bars) {
    try {
      if (spec.type === 'sim') {
        const fd = memfdCreate(`${spec.name}-bar${b.num}`, { size: b.length })
        try {
          addSeals(fd, Seal.SHRINK | Seal.GROW | Seal.SEAL)
        } catch (e) {
          fd.close()
          throw e
        }
        dev.bars[b.num] = usableBar(b.num, b.start, BigInt(b.length), fd)
      } else if (spec.type === 'mock') {
        const dir = env.XDG_RUNTIME_DIR || tmpdir()
        const path = join(dir, `slash-mock-${process.pid}-${randomBytes(4).toString('hex')}`)
        const fd = openFileFd(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL)
        dev.cleanup.push(path)
        ftruncateSync(fd.fd, b.length)
        dev.bars[b.num] = usableBar(b.num, b.start, BigInt(b.length), fd)
      } else {
        const fd = openFileFd(b.file!, constants.O_RDWR | constants.O_CREAT)
        try {
          const size = fstatSync(fd.fd).size
          if (b.length > size) ftruncateSync(fd.fd, b.length)
          const length = b.length > 0 ? b.length : size
          if (length <= 0) throw new Error(`${b.file} is empty; give bar${b.num} a size`)
          dev.bars[b.num] = usableBar(b.num, b.start, BigInt(length), fd)
        } catch (e) {
          fd.close()
          throw e
        }
      }
    } catch (e) {
      fail(b.num, e)
    }
  }
  return dev
}

function openPci(dev: Device, spec: DeviceSpec, log: Logger): void {
  const root = join(spec.sysfs ?? '/sys', 'bus/pci/devices', spec.pciAddress!)
  let lines: string[]
  try {
    lines = readFileSync(join(root, 'resource'), 'utf8').split('\n')
  } catch (e) {
    log.warning(`No sysfs resource table for ${spec.pciAddress}`, { device: spec.name, error: (e as Error).message })
    dev.bars = dev.bars.map(() => null)
    return
  }
  const ids = [
    ['vendor', 'vendorId'],
    ['device', 'deviceId'],
    ['subsystem_vendor', 'subsystemVendorId'],
    ['subsystem_device', 'subsystemDeviceId'],
  ] as const
  for (const [file, field] of ids) {
    const v = readHex(join(root, file))
    if (v !== null) dev.pci[field] = v
  }
  const wanted = spec.bars.length > 0 ? new Set(spec.bars.map((b) => b.num)) : null
  for (let n = 0; n < BAR_COUNT; n++) {
    const [s, e, f] = (lines[n] ?? '').trim().split(/\s+/)
    if (s === undefined || e === undefined || f === undefined) {
      dev.bars[n] = null
      continue
    }
    const start = BigInt(s)
    const end = BigInt(e)
    const flags = Number(BigInt(f) & 0xffffffffn)
    const length = end > start ? end - start + 1n : 0n
    if ((flags & IORESOURCE_MEM) === 0 || length === 0n) {
      dev.bars[n] = {
        info: { size: 24, barNumber: n, usable: false, inUse: false, startAddress: start, length },
        fd: null,
        length,
      }
      continue
    }
    let fd: OwnedFd | null = null
    if (wanted === null || wanted.has(n)) {
      try {
        fd = openFileFd(join(root, `resource${n}`), constants.O_RDWR | constants.O_SYNC)
      } catch (err) {
        log.warning(`Failed to open BAR ${n} of ${spec.name}`, {
          device: spec.name,
          bar: n,
          error: (err as Error).message,
        })
      }
    }
    dev.bars[n] = usableBar(n, start, length, fd)
  }
}

/** Opens every configured device (index = position). */
export function openDevices(specs: readonly DeviceSpec[], log: Logger, env?: NodeJS.ProcessEnv): Device[] {
  return specs.map((s, i) => {
    const d = openDevice(s, i, log, env)
    const usable = d.bars.filter((b) => b?.fd).map((b) => b!.info.barNumber)
    log.info(`Opened device ${d.name}`, { device: d.name, index: i, type: s.type, bdf: d.pci.bdf, bars: usable })
    return d
  })
}

export function closeDevices(devices: readonly Device[]): void {
  for (const d of devices) {
    for (const b of d.bars) b?.fd?.close()
    for (const p of d.cleanup.splice(0)) {
      try {
        unlinkSync(p)
      } catch {
        // already gone
      }
    }
  }
}
