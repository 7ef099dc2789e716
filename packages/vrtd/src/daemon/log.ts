// Structured logs: one JSON object per line ({"time","level","msg",…fields}) to stderr, a file ($VRTD_LOG) or a
// function. Messages keep upstream's texts ("Request opcode=…", "Permission denied for uid …") so greps carry over.
import { appendFileSync, closeSync, openSync, writeSync } from 'node:fs'

export const LEVELS = { debug: 10, info: 20, notice: 25, warning: 30, error: 40 } as const
export type LogLevel = keyof typeof LEVELS

export interface LogRecord {
  time: string
  level: LogLevel
  msg: string
  [field: string]: unknown
}

export type LogSink = (record: LogRecord) => void

export interface LoggerOptions {
  /** Lowest level written (default 'info'). */
  level?: LogLevel
  /** A file to append to, 'stderr' (default), or a function receiving each record. */
  sink?: string | LogSink
}

export class Logger {
  readonly #min: number
  readonly #sink: LogSink
  readonly #fd: number | null

  constructor(options: LoggerOptions = {}) {
    const level = options.level ?? 'info'
    if (!(level in LEVELS)) throw new Error(`unknown log level ${level}`)
    this.#min = LEVELS[level]
    const sink = options.sink ?? 'stderr'
    if (typeof sink === 'function') {
      this.#fd = null
      this.#sink = sink
    } else if (sink === 'stderr') {
      this.#fd = null
      this.#sink = (r) => process.stderr.write(`${JSON.stringify(r)}\n`)
    } else {
      appendFileSync(sink, '')
      const fd = openSync(sink, 'a')
      this.#fd = fd
      this.#sink = (r) => {
        writeSync(fd, `${JSON.stringify(r)}\n`)
      }
    }
  }

  /** True when records of this level are written (check before building expensive fields). */
  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.#min
  }

  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < this.#min) return
    this.#sink({ time: new Date().toISOString(), level, msg, ...fields })
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log('debug', msg, fields)
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.log('info', msg, fields)
  }

  notice(msg: string, fields?: Record<string, unknown>): void {
    this.log('notice', msg, fields)
  }

  warning(msg: string, fields?: Record<string, unknown>): void {
    this.log('warning', msg, fields)
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.log('error', msg, fields)
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd)
  }
}
