// The libvrtd++ layer: Session owns a Connection; Device and Bar are value views tied to it; BarFile owns a BAR
// mapping. Closing the Session invalidates every Device and Bar it handed out (their members throw BAD_LIB_CALL,
// reason SESSION_CLOSED) and closes its BarFiles.
import type { BarFile, BarFileOptions } from './bar-file.js'
import type { BarInfo, DeviceInfo, PciInfo, SensorEntry } from './bodies.js'
import * as api from './client.js'
import type { Connection, ConnectOptions, RequestOptions } from './connection.js'
import { misuse } from './errors.js'
import type { Protocol } from './protocol.js'

export type SessionOptions = ConnectOptions

export class Session implements Disposable {
  readonly #conn: Connection
  readonly #barFiles = new Set<BarFile>()
  #closed = false

  private constructor(conn: Connection) {
    this.#conn = conn
  }

  /** Connects (path: option, else $VRTD_SOCKET, else /run/vrtd.sock). Rejects with VrtdError BAD_CONN. */
  static async connect(options: SessionOptions = {}): Promise<Session> {
    return new Session(await api.connect(options.path, options))
  }

  /** Wraps an open Connection (the Session takes it over). */
  static from(conn: Connection): Session {
    return new Session(conn)
  }

  /** True after close() — or once the connection has failed (daemon gone, timeout). */
  get closed(): boolean {
    return this.#closed || this.#conn.closed
  }

  get protocol(): Protocol {
    return this.#conn.protocol
  }

  get path(): string {
    return this.#conn.path
  }

  /** The function-layer connection underneath (for rawRequest and the v1.0 functions). */
  get connection(): Connection {
    this.#check()
    return this.#conn
  }

  getNumDevices(options?: RequestOptions): Promise<number> {
    return this.#run(() => api.getNumDevices(this.#conn, options))
  }

  /** Device `num` (0-based) with its name; NOEXIST when out of range. */
  getDevice(num: number, options?: RequestOptions): Promise<Device> {
    return this.#run(async () => new Device(this, num, await api.getDeviceInfo(this.#conn, num, options)))
  }

  /** Every device, in index order. */
  async listDevices(options?: RequestOptions): Promise<Device[]> {
    const n = await this.getNumDevices(options)
    return Promise.all(Array.from({ length: n }, (_, i) => this.getDevice(i, options)))
  }

  /** The device at a board-level BDF (v1.0). */
  getDeviceByBdf(bdf: string, options?: RequestOptions): Promise<Device> {
    return this.#run(async () => this.getDevice(await api.getDeviceByBdf(this.#conn, bdf, options), options))
  }

  /** Closes the connection and every BarFile opened through this session. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const bf of [...this.#barFiles]) bf.close({ force: true })
    this.#barFiles.clear()
    this.#conn.close()
  }

  [Symbol.dispose](): void {
    this.close()
  }

  /** @internal */
  adopt(bf: BarFile): void {
    if (this.#closed) {
      bf.close({ force: true })
      this.#check()
    }
    this.#barFiles.add(bf)
  }

  /** @internal */
  release(bf: BarFile): void {
    this.#barFiles.delete(bf)
  }

  /** @internal */
  check(): Connection {
    this.#check()
    return this.#conn
  }

  #check(): void {
    if (this.#closed) throw misuse('SESSION_CLOSED', 'the session is closed')
  }

  #run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      this.#check()
      return fn()
    } catch (e) {
      return Promise.reject(e)
    }
  }
}

export class Device {
  readonly #session: Session
  readonly #num: number
  readonly #info: DeviceInfo

  /** @internal use Session.getDevice() */
  constructor(session: Session, num: number, info: DeviceInfo) {
    this.#session = session
    this.#num = num
    this.#info = info
  }

  get num(): number {
    this.#session.check()
    return this.#num
  }

  get name(): string {
    this.#session.check()
    return this.#info.name
  }

  /** PCI identity (v1.0), null from a v0 daemon. */
  get pci(): PciInfo | null {
    this.#session.check()
    return this.#info.pci
  }

  /** BAR `num` (0–5) with its metadata. */
  async getBar(num: number, options?: RequestOptions): Promise<Bar> {
    const conn = this.#session.check()
    return new Bar(this.#session, this, await api.getBarInfo(conn, this.#num, num, options))
  }

  /** Sensor readings (v1.0). */
  getSensors(options?: RequestOptions): Promise<SensorEntry[]> {
    return guard(() => api.getSensorInfo(this.#session.check(), this.#num, options))
  }

  /** Clock rate of a region in Hz (v1.0; region: ClockRegion.SERVICE or USER). */
  getClockRate(region: number, options?: RequestOptions): Promise<number> {
    return guard(() => api.clockGetRate(this.#session.check(), this.#num, region, options))
  }

  /** Sets a region's clock rate (v1.0); resolves with the rate achieved. */
  setClockRate(region: number, rateHz: number, options?: RequestOptions): Promise<number> {
    return guard(() => api.clockSetRate(this.#session.check(), this.#num, region, rateHz, options))
  }

  toString(): string {
    return `Device(${this.#num}, ${this.#info.name})`
  }
}

export class Bar {
  readonly #session: Session
  readonly #device: Device
  readonly #info: BarInfo

  /** @internal use Device.getBar() */
  constructor(session: Session, device: Device, info: BarInfo) {
    this.#session = session
    this.#device = device
    this.#info = info
  }

  get device(): Device {
    this.#session.check()
    return this.#device
  }

  get num(): number {
    this.#session.check()
    return this.#info.barNumber
  }

  get usable(): boolean {
    this.#session.check()
    return this.#info.usable
  }

  /** Always false on SLASH. */
  get inUse(): boolean {
    this.#session.check()
    return this.#info.inUse
  }

  /** Physical (bus) start address. */
  get startAddress(): bigint {
    this.#session.check()
    return this.#info.startAddress
  }

  /** Bytes. */
  get length(): bigint {
    this.#session.check()
    return this.#info.length
  }

  /** Maps the BAR (GET_BAR_FD + mmap). The BarFile closes with the session. */
  async openBarFile(options: BarFileOptions & RequestOptions = {}): Promise<BarFile> {
    const conn = this.#session.check()
    const { fd, length } = await api.getBarFd(conn, this.#device.num, this.#info.barNumber, options)
    const session = this.#session
    const bf = api.mapBarFd(fd, length, options, (closed) => session.release(closed))
    session.adopt(bf)
    return bf
  }
}

function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn()
  } catch (e) {
    return Promise.reject(e)
  }
}
