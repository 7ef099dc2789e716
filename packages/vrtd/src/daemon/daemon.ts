// The daemon: one event loop serving every client over SOCK_SEQPACKET, as upstream's sd_event loop does. Each
// connection's identity is fixed at accept (SO_PEERCRED → getpwuid → getgrouplist; a uid without a passwd entry is
// disconnected at once). Requests are handled synchronously in arrival order, one reply each; while a reply cannot
// be sent the connection is not read. Malformed framing (shorter than 8 bytes, length ≠ 8 + size, size > 4088, a
// truncated datagram or control message, more than 3 fds) disconnects that client; every received fd is closed
// after its request; no exception escapes into the loop.

import { EventEmitter } from 'node:events'
import { chmodSync } from 'node:fs'
import type { OwnedFd } from '@x/native'
import { Ret } from '../errors.js'
import { BODY_MAX, DEFAULT_PROTOCOL, HEADER_SIZE, isProtocol, opcodeName, type Protocol } from '../protocol.js'
import { resolveSocketPath } from '../socket-path.js'
import { type EffectiveRole, effectiveRole } from './auth.js'
import { type Config, ConfigError, loadConfig } from './config.js'
import { closeDevices, type Device, openDevices } from './devices.js'
import { handleRequest, type RequestContext } from './handlers.js'
import { type IdentityResolver, nssResolver } from './identity.js'
import { Logger, type LoggerOptions } from './log.js'
import { activationSocket } from './systemd.js'
import { Listener, type Peer, replyBuffer, replyView } from './transport.js'

export interface DaemonOptions {
  /** Config file (default $VRTD_CONFIG, else /etc/vrt/vrtd.conf). */
  config?: string
  /** Inline config text instead of a file (e.g. simulatorConfig()). */
  configText?: string
  /** Directory relative paths in configText resolve against (default: the current directory). */
  configBaseDir?: string
  /** Socket path to listen on (default $VRTD_SOCKET, else /run/vrtd.sock); ignored with an inherited socket. */
  socket?: string
  /** An inherited listening socket to serve instead of binding one. */
  listenFd?: OwnedFd
  /** Take the socket from systemd socket activation when LISTEN_FDS says so (default true). */
  socketActivation?: boolean
  /** Mode of a socket file this daemon binds (default 0o666: access control is the daemon's job). */
  socketMode?: number
  /** Protocol revision served (default 'v1.0'). */
  protocol?: Protocol
  /** A Logger, or options for one (default: info and above, JSON lines to stderr or $VRTD_LOG). */
  log?: Logger | LoggerOptions
  /** Identity lookups (default: NSS through @x/native). */
  resolver?: IdentityResolver
  /** Refuse connections beyond this many clients (default 0: no limit, as upstream). */
  maxClients?: number
  /** Disconnect clients idle this many ms (default 0: never, as upstream). */
  idleTimeout?: number
  env?: NodeJS.ProcessEnv
}

export interface ClientInfo {
  connId: number
  pid: number
  uid: number
  gid: number
  user: string
  gids: readonly number[]
}

interface Client extends ClientInfo {
  peer: Peer
  role: EffectiveRole | null
  ctx: RequestContext
  lastActive: number
}

interface DaemonEvents {
  connection: [ClientInfo]
  disconnect: [ClientInfo, string]
  reload: [Config]
  close: []
}

export class Daemon extends EventEmitter<DaemonEvents> implements Disposable {
  readonly protocol: Protocol
  /** The socket path (null when serving an inherited socket). */
  readonly path: string | null
  readonly log: Logger
  readonly #options: DaemonOptions
  readonly #server: Listener
  readonly #devices: Device[]
  readonly #bdfs: string[]
  readonly #clients = new Map<number, Client>()
  readonly #resolver: IdentityResolver
  readonly #ownsLog: boolean
  readonly #out = replyBuffer
  readonly #outView = replyView
  #config: Config
  #nextConn = 0
  #idleTimer: NodeJS.Timeout | null = null
  #closed = false

  private constructor(options: DaemonOptions, config: Config, log: Logger, ownsLog: boolean) {
    super()
    this.#options = options
    this.protocol = config.protocol
    this.#config = config
    this.log = log
    this.#ownsLog = ownsLog
    this.#resolver = options.resolver ?? nssResolver
    for (const w of config.warnings) log.warning(w)
    this.#devices = openDevices(config.devices, log, options.env)
    this.#bdfs = this.#devices.map((d) => d.pci.bdf)
    if (this.#devices.length === 0) log.warning('No devices configured; serving 0 devices')
    let server: Listener
    let path: string | null = null
    const onPeer = (p: Peer): void => this.#accept(p)
    const onError = (e: Error): void => log.error('accept failed', { error: e.message })
    try {
      const env = options.env ?? process.env
      const activated = options.listenFd ?? ((options.socketActivation ?? true) ? activationSocket(env)?.fd : undefined)
      if (activated) {
        server = Listener.adopt(activated, onPeer, onError)
        log.info('Serving the socket passed by the service manager', { fd: activated.fd })
      } else {
        path = resolveSocketPath(options.socket, env)
        server = Listener.listen(path, onPeer, onError)
        try {
          chmodSync(path, options.socketMode ?? 0o666)
        } catch (e) {
          server.close()
          throw e
        }
        log.info(`Listening on ${path}`, { path })
      }
    } catch (e) {
      closeDevices(this.#devices)
      throw e
    }
    this.path = path
    this.#server = server
    const idle = options.idleTimeout ?? 0
    if (idle > 0) {
      this.#idleTimer = setInterval(() => this.#reapIdle(idle), Math.max(10, Math.floor(idle / 4)))
      this.#idleTimer.unref()
    }
  }

  /** Loads the configuration, opens the devices and starts listening. Throws ConfigError for a bad config. */
  static start(options: DaemonOptions = {}): Daemon {
    const protocol = options.protocol ?? DEFAULT_PROTOCOL
    if (!isProtocol(protocol)) throw new Error(`unknown protocol revision ${String(protocol)}`)
    const ownsLog = !(options.log instanceof Logger)
    const env = options.env ?? process.env
    const log =
      options.log instanceof Logger ? options.log : new Logger({ sink: env.VRTD_LOG || 'stderr', ...options.log })
    try {
      log.info('Starting vrtd...', { protocol, pid: process.pid })
      const config = Daemon.#load(options, protocol)
      log.info('Configuration loaded successfully', { files: config.files, devices: config.devices.length })
      return new Daemon(options, config, log, ownsLog)
    } catch (e) {
      log.error(e instanceof ConfigError ? 'Failed to parse config file' : 'Failed to start', {
        error: (e as Error).message,
      })
      if (ownsLog) log.close()
      throw e
    }
  }

  static #load(options: DaemonOptions, protocol: Protocol): Config {
    return loadConfig({
      path: options.config,
      text: options.configText,
      baseDir: options.configBaseDir,
      protocol,
      resolver: options.resolver ?? nssResolver,
      env: options.env,
    })
  }

  get devices(): readonly Device[] {
    return this.#devices
  }

  get config(): Config {
    return this.#config
  }

  get clients(): ClientInfo[] {
    return [...this.#clients.values()].map(({ connId, pid, uid, gid, user, gids }) => ({
      connId,
      pid,
      uid,
      gid,
      user,
      gids,
    }))
  }

  get closed(): boolean {
    return this.#closed
  }

  /**
   * Re-reads the configuration (SIGHUP). A config that fails to load leaves the old one in force (upstream drops
   * it first); a good one replaces roles, users and groups and every client's cached role. Devices stay as they
   * were started. Returns whether the new config was applied.
   */
  reload(): boolean {
    let next: Config
    try {
      next = Daemon.#load(this.#options, this.protocol)
    } catch (e) {
      this.log.error('Failed to reload configuration; keeping the previous one', { error: (e as Error).message })
      return false
    }
    for (const w of next.warnings) this.log.warning(w)
    const was = JSON.stringify(this.#config.devices, bigintJson)
    if (JSON.stringify(next.devices, bigintJson) !== was)
      this.log.warning('Device sections changed; restart vrtd to apply them')
    this.#config = { ...next, devices: this.#config.devices }
    for (const c of this.#clients.values()) c.role = null
    this.log.info('Configuration reloaded', { files: next.files })
    this.emit('reload', this.#config)
    return true
  }

  /** Stops listening (removing the socket file it created), disconnects every client, closes the BAR fds. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#idleTimer) clearInterval(this.#idleTimer)
    this.#server.close()
    for (const c of [...this.#clients.values()]) this.#drop(c, 'daemon shutting down')
    closeDevices(this.#devices)
    this.log.info('vrtd stopped')
    if (this.#ownsLog) this.log.close()
    this.emit('close')
  }

  [Symbol.dispose](): void {
    this.close()
  }

  #accept(peer: Peer): void {
    if (this.#closed) {
      peer.close()
      return
    }
    const max = this.#options.maxClients ?? 0
    if (max > 0 && this.#clients.size >= max) {
      this.log.warning(`Refusing client: ${max} clients connected`, { max })
      peer.close()
      return
    }
    let cred: { pid: number; uid: number; gid: number }
    let user: { name: string; gid: number } | null
    try {
      cred = peer.peerCred()
      user = this.#resolver.userByUid(cred.uid)
    } catch (e) {
      this.log.error('Could not identify client', { error: (e as Error).message })
      peer.close()
      return
    }
    if (user === null) {
      this.log.notice(`No passwd entry for uid ${cred.uid}; closing connection`, { pid: cred.pid, uid: cred.uid })
      peer.close()
      return
    }
    let gids: number[]
    try {
      gids = this.#resolver.groupsOf(user.name, cred.gid)
    } catch (e) {
      this.log.warning(`getgrouplist failed for ${user.name}`, { error: (e as Error).message })
      gids = [cred.gid]
    }
    const connId = ++this.#nextConn
    const client: Client = {
      connId,
      pid: cred.pid,
      uid: cred.uid,
      gid: cred.gid,
      user: user.name,
      gids,
      peer,
      role: null,
      lastActive: performance.now(),
      ctx: undefined as unknown as RequestContext,
    }
    client.ctx = {
      protocol: this.protocol,
      devices: this.#devices,
      bdfs: this.#bdfs,
      log: this.log,
      role: () => {
        if (client.role === null) client.role = effectiveRole(this.#config, client.uid, client.gids)
        return client.role
      },
      who: { uid: cred.uid, name: user.name, connId },
    }
    this.#clients.set(connId, client)
    this.log.info(`client fd=${peer.fd} pid=${cred.pid} uid=${cred.uid} gid=${cred.gid}`, {
      connId,
      pid: cred.pid,
      uid: cred.uid,
      gid: cred.gid,
      user: user.name,
    })
    peer.start({
      message: (buf, view, len, truncated, fds) => this.#onMessage(client, buf, view, len, truncated, fds),
      closed: (why) => this.#forget(client, why),
    })
    this.emit('connection', this.#info(client))
  }

  #onMessage(client: Client, _buf: Uint8Array, req: DataView, len: number, truncated: boolean, fds: OwnedFd[]): void {
    try {
      if (truncated || len < HEADER_SIZE) {
        this.#invalid(client, fds, truncated ? 'datagram longer than 4096 bytes' : `datagram of ${len} bytes`)
        return
      }
      const size = req.getUint16(0, true)
      const opcode = req.getUint16(2, true)
      const seqno = req.getUint32(4, true)
      if (size > BODY_MAX || len !== HEADER_SIZE + size) {
        this.#invalid(client, fds, `datagram of ${len} bytes whose header says 8 + ${size}`)
        return
      }
      if (this.#options.idleTimeout) client.lastActive = performance.now()
      if (this.log.enabled('debug')) {
        this.log.debug(`Request opcode=${opcode}(${opcodeName(opcode)}) uid=${client.uid} conn_id=${client.connId}`, {
          opcode,
          seqno,
          size,
          fds: fds.length,
        })
      }
      let outcome: { ret: number; size: number; fd: OwnedFd | null }
      try {
        outcome = handleRequest(client.ctx, opcode, req, size, fds, this.#out, this.#outView)
      } catch (e) {
        this.log.error(`Internal error handling opcode=${opcode}`, { error: (e as Error).stack ?? String(e) })
        outcome = { ret: Ret.INTERNAL_ERROR, size: 0, fd: null }
      }
      for (const f of fds) f.close()
      const bodySize = outcome.ret === Ret.OK ? outcome.size : 0
      const out = this.#outView
      out.setUint16(0, bodySize, true)
      out.setUint16(2, outcome.ret, true)
      out.setUint32(4, seqno, true)
      const lend = outcome.ret === Ret.OK && outcome.fd ? [outcome.fd] : undefined
      client.peer.send(this.#out.subarray(0, HEADER_SIZE + bodySize), lend)
    } catch (e) {
      for (const f of fds) f.close()
      this.#drop(client, `failed: ${(e as Error).message}`)
    }
  }

  #invalid(client: Client, fds: OwnedFd[], why: string): void {
    for (const f of fds) f.close()
    this.log.warning(`Disconnecting client after invalid input: ${why}`, { connId: client.connId, uid: client.uid })
    this.#drop(client, `invalid input: ${why}`)
  }

  #drop(client: Client, why: string): void {
    this.#forget(client, why)
    client.peer.close(why)
  }

  #forget(client: Client, why: string): void {
    if (!this.#clients.delete(client.connId)) return
    this.log.info(`Client disconnected uid=${client.uid} conn_id=${client.connId}`, {
      connId: client.connId,
      reason: why,
    })
    this.emit('disconnect', this.#info(client), why)
  }

  #reapIdle(idle: number): void {
    const now = performance.now()
    for (const c of [...this.#clients.values()]) {
      if (now - c.lastActive > idle) this.#drop(c, `idle for more than ${idle} ms`)
    }
  }

  #info(c: Client): ClientInfo {
    return { connId: c.connId, pid: c.pid, uid: c.uid, gid: c.gid, user: c.user, gids: c.gids }
  }
}

function bigintJson(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v
}
