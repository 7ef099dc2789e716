// The forwarder: listens locally (a Unix path or host:port) and carries every accepted connection, through the socket
// multiplexer, to an address inside the guest (a Unix path or IPv4:port). Half-closes pass through; an error on
// either side destroys both.
import { createServer, type Server, type Socket } from 'node:net'
import type { MuxStream, SocketMuxHost } from './mux.js'

export type Endpoint = { path: string } | { host: string; port: number }

/** "/run/x.sock" (anything with a '/' or without a ':') is a path; "host:port" is TCP ("[::1]:80" too). */
export function parseEndpoint(s: string): Endpoint {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(s)
  if (!s.includes('/') && m) {
    const port = Number(m[2])
    if (port > 65535) throw new RangeError(`bad port in ${s}`)
    return { host: m[1] || '127.0.0.1', port }
  }
  if (s.length === 0) throw new RangeError('empty endpoint')
  return { path: s }
}

export function formatEndpoint(e: Endpoint): string {
  return 'path' in e ? e.path : `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`
}

export class Forwarder {
  readonly local: Endpoint
  readonly remote: Endpoint
  readonly server: Server
  readonly #mux: SocketMuxHost
  readonly #pairs = new Set<[Socket, MuxStream]>()
  /** Connections carried so far. */
  accepted = 0

  /** @internal use forward() */
  constructor(mux: SocketMuxHost, local: Endpoint, remote: Endpoint) {
    this.#mux = mux
    this.local = local
    this.remote = remote
    this.server = createServer({ allowHalfOpen: true }, (c) => this.#carry(c))
  }

  #carry(c: Socket): void {
    this.accepted++
    const r = this.remote
    let g: MuxStream
    try {
      g = 'path' in r ? this.#mux.connectUnix(r.path) : this.#mux.connectTcp(r.host, r.port)
    } catch {
      c.destroy()
      return
    }
    const pair: [Socket, MuxStream] = [c, g]
    this.#pairs.add(pair)
    const done = (): void => {
      this.#pairs.delete(pair)
      c.destroy()
      g.destroy()
    }
    c.on('error', done)
    g.on('error', done)
    c.on('close', () => {
      if (!g.writableFinished && !g.destroyed) g.destroy()
      this.#pairs.delete(pair)
    })
    g.on('close', () => {
      if (!c.destroyed && !c.writableFinished) c.end()
      this.#pairs.delete(pair)
    })
    c.pipe(g)
    g.pipe(c)
  }

  /** Open connections. */
  get connections(): number {
    return this.#pairs.size
  }

  /** Stops listening and ends every carried connection. */
  close(): Promise<void> {
    for (const [c, g] of this.#pairs) {
      c.destroy()
      g.destroy()
    }
    this.#pairs.clear()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/** Starts a forwarder; resolves once it listens. */
export function forward(mux: SocketMuxHost, local: Endpoint, remote: Endpoint): Promise<Forwarder> {
  const f = new Forwarder(mux, local, remote)
  return new Promise((resolve, reject) => {
    f.server.once('error', reject)
    const ready = (): void => {
      f.server.off('error', reject)
      resolve(f)
    }
    if ('path' in local) f.server.listen(local.path, ready)
    else f.server.listen(local.port, local.host, ready)
  })
}
