#!/usr/bin/env node
// pkt-gen over @x/netmap: -i SPEC -f tx|rx|ping|pong [-n COUNT] [-l SIZE] [-b BURST] [-q]
import { parsePktGenArgs, pktGen } from '@x/netmap'

let o
try {
  o = parsePktGenArgs(process.argv.slice(2))
} catch (e) {
  console.error(e.message)
  console.error('usage: pkt-gen -i SPEC -f tx|rx|ping|pong [-n COUNT] [-l SIZE] [-b BURST] [-R PPS] [-q]')
  process.exit(2)
}
const ac = new AbortController()
process.once('SIGINT', () => ac.abort())
process.once('SIGTERM', () => ac.abort())
try {
  const r = await pktGen({ ...o, signal: ac.signal })
  process.exitCode = r.mismatches > 0 ? 1 : 0
} catch (e) {
  console.error(`pkt-gen: ${e.message}`)
  process.exitCode = 1
}
