// if_nametoindex(3) / if_indextoname(3): errors are Node-style (ENODEV for an unknown name, ENXIO for an index);
// and an interface's queue counts from sysfs.
import { readdirSync } from 'node:fs'
import { binding } from './binding.js'

export function ifNameToIndex(name: string): number {
  return binding.if_nametoindex(name)
}

export function ifIndexToName(index: number): string {
  return binding.if_indextoname(index)
}

/**
 * The RX and TX queues of an interface, counted under /sys/class/net/NAME/queues ({ rx: 1, tx: 1 } when sysfs does
 * not show them, e.g. in a namespace without /sys remounted).
 */
export function ifQueues(name: string): { rx: number; tx: number } {
  let q: string[]
  try {
    q = readdirSync(`/sys/class/net/${name}/queues`)
  } catch {
    return { rx: 1, tx: 1 }
  }
  let rx = 0
  let tx = 0
  for (const n of q) {
    if (n.startsWith('rx-')) rx++
    else if (n.startsWith('tx-')) tx++
  }
  return { rx: Math.max(rx, 1), tx: Math.max(tx, 1) }
}
