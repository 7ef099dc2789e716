// Runs a receiver and then a sender inside one namespace (or, with ns null, as plain child processes) and returns
// both final reports.
import { type Netns, type PeerResult, startPeer } from './netns.js'

export interface PairResult {
  rx: PeerResult
  tx: PeerResult
  /** Lines of the receiver by event name (e.g. 'fanout', 'worker', 'virtual'). */
  rxEvent(name: string): Promise<PeerResult>
}

export async function runPair(ns: Netns | null, rx: object, tx: object): Promise<PairResult> {
  const r = startPeer(ns, { role: 'rx', ...rx })
  try {
    await r.ready
    const t = startPeer(ns, { role: 'tx', ...tx })
    try {
      const [rxDone, txDone] = await Promise.all([r.done, t.done])
      return { rx: rxDone, tx: txDone, rxEvent: r.event }
    } finally {
      t.kill()
    }
  } finally {
    r.kill()
  }
}

export type Stats = Record<string, number>
