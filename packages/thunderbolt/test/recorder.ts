// A transport on `lo` with ephemeral ports whose handler and logger record everything, with promise-based waits.
import type { Socket } from 'node:net'
import {
  type ControlMessage,
  type LogLevel,
  type RemoteInfo,
  type ThunderboltOptions,
  type ThunderboltTransport,
  ThunderboltTransportBuilder,
} from '@x/thunderbolt'

type Waiter = { n: number; resolve: () => void }

export class Recorder {
  readonly messages: ControlMessage[] = []
  readonly streams: { stream: Socket; from: RemoteInfo }[] = []
  readonly logs: [LogLevel, string][] = []
  transport!: ThunderboltTransport
  onMessage: ((m: ControlMessage) => void | Promise<void>) | null = null
  onStream: ((s: Socket, from: RemoteInfo) => void) | null = null
  #msgWaiters: Waiter[] = []
  #streamWaiters: Waiter[] = []

  /** Resolves once `n` control messages have arrived in total. */
  messageCount(n: number): Promise<void> {
    return this.#wait(this.#msgWaiters, this.messages.length, n)
  }

  /** Resolves once `n` streams have been accepted in total. */
  streamCount(n: number): Promise<void> {
    return this.#wait(this.#streamWaiters, this.streams.length, n)
  }

  log(level: LogLevel): string[] {
    return this.logs.filter(([l]) => l === level).map(([, m]) => m)
  }

  #wait(list: Waiter[], have: number, n: number): Promise<void> {
    if (have >= n) return Promise.resolve()
    return new Promise((resolve) => list.push({ n, resolve }))
  }

  static #wake(list: Waiter[], have: number): Waiter[] {
    return list.filter((w) => {
      if (have < w.n) return true
      w.resolve()
      return false
    })
  }

  build(options: ThunderboltOptions = {}): ThunderboltTransport {
    this.transport = new ThunderboltTransportBuilder()
      .interface('lo')
      .controlPort(0)
      .dataPort(0)
      .logger((level, msg) => {
        this.logs.push([level, msg])
      })
      .messageHandler((type, data, from) => {
        if (type === 'ControlMessage') {
          const m = { data: data as Buffer, from }
          this.messages.push(m)
          this.#msgWaiters = Recorder.#wake(this.#msgWaiters, this.messages.length)
          return this.onMessage?.(m)
        } else {
          const stream = data as Socket
          this.streams.push({ stream, from })
          if (this.onStream) this.onStream(stream, from)
          else stream.on('error', () => {})
          this.#streamWaiters = Recorder.#wake(this.#streamWaiters, this.streams.length)
          return undefined
        }
      })
      .options(options)
      .build()
    return this.transport
  }
}

/** Resolves when the socket has emitted 'close'. */
export function closed(s: Socket): Promise<void> {
  return s.closed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()))
}

/** Reads a socket to its end. */
export async function readAll(s: Socket): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of s) parts.push(c as Buffer)
  return Buffer.concat(parts)
}
