// Shared by the @x/vrtd tests: temp dirs other uids can use, an in-process daemon, a scripted fake daemon for
// client fault tests, raw datagram clients, fd counting, child processes that are always reaped.
import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  connect,
  FdWatcher,
  K,
  type OwnedFd,
  recvMsg,
  SeqpacketServer,
  type SeqpacketSocket,
  sendMsg,
  sockaddrUn,
  socket,
} from '@x/native'
import { Daemon, type DaemonOptions, type IdentityResolver, type LogRecord, simulatorConfig } from '@x/vrtd'

export const pkgDir = fileURLToPath(new URL('..', import.meta.url))
export const fixtures = join(pkgDir, 'test/fixtures')
export const isRoot = process.getuid?.() === 0

/** A short temp dir (sun_path < 108 bytes) every uid may enter and create sockets in (mode 0777). */
export function tempDir(prefix = 'vrtd-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(dir, 0o777)
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export function openFds(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

/** Collects log records; `text()` for assertions on messages. */
export function logCollector(): { sink: (r: LogRecord) => void; records: LogRecord[]; text: () => string } {
  const records: LogRecord[] = []
  return { sink: (r) => records.push(r), records, text: () => records.map((r) => r.msg).join('\n') }
}

export interface TestDaemon {
  daemon: Daemon
  path: string
  dir: string
  logs: ReturnType<typeof logCollector>
  close: () => void
}

/** An in-process daemon on a fresh socket (default: simulatorConfig(), logs collected at debug). */
export function startDaemon(options: DaemonOptions = {}): TestDaemon {
  const t = tempDir()
  const logs = logCollector()
  const path = join(t.dir, 'vrtd.sock')
  let daemon: Daemon
  try {
    daemon = Daemon.start({
      socket: path,
      socketActivation: false,
      log: { level: 'debug', sink: logs.sink },
      ...options,
      configText: options.configText ?? (options.config === undefined ? simulatorConfig() : undefined),
    })
  } catch (e) {
    t.cleanup()
    throw e
  }
  return {
    daemon,
    path,
    dir: t.dir,
    logs,
    close: () => {
      daemon.close()
      t.cleanup()
    },
  }
}

/** A resolver over a fixed table (unit tests of config and auth). */
export function fakeResolver(
  users: Record<string, { uid: number; gid: number; groups?: number[] }>,
  groups: Record<string, number> = {},
): IdentityResolver {
  return {
    userByUid: (uid) => {
      const e = Object.entries(users).find(([, u]) => u.uid === uid)
      return e ? { name: e[0], gid: e[1].gid } : null
    },
    uidOf: (name) => users[name]?.uid ?? null,
    gidOf: (name) => groups[name] ?? null,
    groupsOf: (name, gid) => [gid, ...(users[name]?.groups ?? [])],
  }
}

// ---- raw datagrams ------------------------------------------------------------------------------------------

export function hex(s: string): Uint8Array {
  const clean = s.replace(/[|\s]/g, '')
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => Number.parseInt(b, 16))
}

export function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ')
}

export function request(opcode: number, seqno: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const m = new Uint8Array(8 + body.length)
  const v = new DataView(m.buffer)
  v.setUint16(0, body.length, true)
  v.setUint16(2, opcode, true)
  v.setUint32(4, seqno, true)
  m.set(body, 8)
  return m
}

export interface RawReply {
  data: Uint8Array
  fds: OwnedFd[]
  truncated: boolean
}

/** A raw SEQPACKET client: send any datagram (with fds), read replies or EOF with a deadline. */
export class RawClient {
  readonly fd: OwnedFd
  readonly #watcher: FdWatcher
  readonly #buf = new Uint8Array(8192)

  private constructor(fd: OwnedFd) {
    this.fd = fd
    this.#watcher = new FdWatcher(fd)
  }

  static async connect(path: string): Promise<RawClient> {
    const fd = socket(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    const r = connect(fd, sockaddrUn(path))
    if (r < 0) {
      fd.close()
      throw new Error(`connect: ${r}`)
    }
    return new RawClient(fd)
  }

  send(data: Uint8Array, fds?: readonly OwnedFd[]): number {
    return sendMsg(this.fd, data, fds ? { fds } : undefined)
  }

  /** The next datagram, 'eof' when the daemon closed, 'timeout' after ms. */
  async recv(ms = 3000): Promise<RawReply | 'eof' | 'timeout'> {
    const deadline = Date.now() + ms
    for (;;) {
      let m: ReturnType<typeof recvMsg>
      try {
        m = recvMsg(this.fd, this.#buf, { maxFds: 8 })
      } catch (e) {
        if ((e as { code?: string }).code === 'ECONNRESET') return 'eof'
        throw e
      }
      if (m !== null) {
        if (m.bytes === 0 && m.fds.length === 0) return 'eof'
        return { data: this.#buf.slice(0, m.bytes), fds: m.fds, truncated: m.truncated }
      }
      const left = deadline - Date.now()
      if (left <= 0) return 'timeout'
      const ac = new AbortController()
      const t = setTimeout(() => ac.abort(), left)
      try {
        await this.#watcher.wait('readable', ac.signal)
      } catch {
        // timed out: loop once more, then report
      } finally {
        clearTimeout(t)
      }
    }
  }

  close(): void {
    this.#watcher.close()
    this.fd.close()
  }
}

/** Parses a reply header. */
export function header(d: Uint8Array): { size: number; ret: number; seqno: number } {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength)
  return { size: v.getUint16(0, true), ret: v.getUint16(2, true), seqno: v.getUint32(4, true) }
}

// ---- a scripted fake daemon (upstream's FakeVrtd idea) -----------------------------------------------------

export interface FakeRequest {
  size: number
  opcode: number
  seqno: number
  body: Uint8Array
  fds: OwnedFd[]
}

/** Replies as `script` says: a list of [datagram, fds] to send, or nothing (no reply). */
export type FakeScript = (req: FakeRequest, peer: SeqpacketSocket) => void | Promise<void>

export class FakeVrtd {
  readonly server: SeqpacketServer
  readonly path: string
  readonly peers: SeqpacketSocket[] = []
  readonly requests: FakeRequest[] = []

  constructor(path: string, script: FakeScript) {
    this.path = path
    this.server = SeqpacketServer.listen(path, { unlinkExisting: true })
    this.server.on('connection', (peer) => {
      this.peers.push(peer)
      peer.on('error', () => {})
      peer.on('message', async (m) => {
        const v = new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength)
        const req: FakeRequest = {
          size: v.getUint16(0, true),
          opcode: v.getUint16(2, true),
          seqno: v.getUint32(4, true),
          body: m.data.slice(8),
          fds: m.fds,
        }
        this.requests.push(req)
        try {
          await script(req, peer)
        } finally {
          for (const f of req.fds) f.close()
        }
      })
    })
  }

  close(): void {
    for (const p of this.peers) p.close()
    this.server.close()
  }
}

/** A reply datagram. */
export function reply(
  ret: number,
  seqno: number,
  body: Uint8Array = new Uint8Array(0),
  size = body.length,
): Uint8Array {
  const m = new Uint8Array(8 + body.length)
  const v = new DataView(m.buffer)
  v.setUint16(0, size, true)
  v.setUint16(2, ret, true)
  v.setUint32(4, seqno, true)
  m.set(body, 8)
  return m
}

// ---- child processes ----------------------------------------------------------------------------------------

const children = new Set<ChildProcess>()

export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs node with a script; always reaped (killed after timeoutMs). */
export function runNode(
  args: string[],
  options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, {
      uid: options.uid,
      gid: options.gid,
      env: { ...process.env, ...options.env },
      cwd: options.cwd ?? '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.add(c)
    let stdout = ''
    let stderr = ''
    c.stdout!.on('data', (d) => {
      stdout += d
    })
    c.stderr!.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => c.kill('SIGKILL'), options.timeoutMs ?? 15_000)
    c.on('error', (e) => {
      clearTimeout(timer)
      children.delete(c)
      reject(e)
    })
    c.on('close', (code, signal) => {
      clearTimeout(timer)
      children.delete(c)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** Starts a long-running child; `ready` resolves when its output matches. */
export function startChild(
  args: string[],
  ready: RegExp,
  options: { env?: NodeJS.ProcessEnv; stdio?: ('pipe' | 'ignore' | number)[]; shell?: string } = {},
): { child: ChildProcess; ready: Promise<void>; output: () => string } {
  const c = options.shell
    ? spawn('/bin/sh', ['-c', options.shell], {
        env: { ...process.env, ...options.env },
        stdio: (options.stdio ?? ['ignore', 'pipe', 'pipe']) as never,
      })
    : spawn(process.execPath, args, {
        env: { ...process.env, ...options.env },
        stdio: (options.stdio ?? ['ignore', 'pipe', 'pipe']) as never,
      })
  children.add(c)
  c.on('exit', () => children.delete(c))
  let out = ''
  const ready$ = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d
      if (ready.test(out)) resolve()
    }
    c.stdout?.on('data', onData)
    c.stderr?.on('data', onData)
    c.on('exit', (code, sig) => reject(new Error(`child exited (${code ?? sig}) before ready: ${out}`)))
  })
  ready$.catch(() => {})
  return { child: c, ready: ready$, output: () => out }
}

/** Kills every child still running (afterEach / afterAll). */
export function killChildren(): void {
  for (const c of children) c.kill('SIGKILL')
  children.clear()
}

/** Resolves when the child has exited. */
export function exited(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve()
  return new Promise((r) => c.once('exit', () => r()))
}
