import { type ChildProcess, fork } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))
let n = 0
/** A pipe parent name unique to this test run. */
export function uniq(tag = 't'): string {
  return `${tag}${process.pid}x${n++}x${Math.floor(Math.random() * 1e6)}`
}

export function shmLeftovers(name: string): string[] {
  return readdirSync('/dev/shm').filter((f) => f.includes(name))
}

const workers = new Set<Worker>()
const workerExit = new WeakMap<Worker, Promise<number>>()
const children = new Set<ChildProcess>()

export function worker(file: string, data: unknown): Worker {
  const w = new Worker(FIXTURES + file, { workerData: data })
  workers.add(w)
  workerExit.set(w, new Promise((r) => w.once('exit', r)))
  w.once('exit', () => workers.delete(w))
  return w
}

export function child(file: string, arg: unknown, extraFds: number[] = []): ChildProcess {
  const c = fork(FIXTURES + file, [JSON.stringify(arg)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...extraFds],
  })
  children.add(c)
  c.once('exit', () => children.delete(c))
  return c
}

/** Messages until one has `key`. */
export function until<T>(src: Worker | ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: Record<string, unknown>): void => {
      if (key in m) {
        src.off('message', onMsg)
        resolve(m as T)
      }
    }
    src.on('message', onMsg)
    src.once('error', reject)
    src.once('exit', (code: number | null) => {
      if (!(key in {})) setTimeout(() => reject(new Error(`exited (${code}) before '${key}'`)), 50)
    })
  })
}

export function exited(src: Worker | ChildProcess): Promise<number | null> {
  if (src instanceof Worker) return workerExit.get(src) ?? Promise.resolve(null)
  if (src.exitCode !== null || src.signalCode !== null) return Promise.resolve(src.exitCode)
  return new Promise((r) => src.once('exit', (c) => r(c)))
}

export async function cleanupAll(): Promise<void> {
  await Promise.all([...workers].map((w) => w.terminate()))
  for (const c of children) {
    c.kill('SIGKILL')
    await exited(c)
  }
}
