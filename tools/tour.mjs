#!/usr/bin/env node
// The tour: each landed package shows itself working on built-in defaults (packages/<name>/tour.mjs),
// in dependency order. No configuration, no root needed for the steps shown here.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const order = ['native', 'ring', 'framing', 'vrtd', 'thunderbolt', 'nethuns', 'cmio', 'netmap']
const all = readdirSync(`${root}packages`)
const pkgs = [...order.filter((p) => all.includes(p)), ...all.filter((p) => !order.includes(p)).sort()]
let failed = 0
for (const p of pkgs) {
  const step = `${root}packages/${p}/tour.mjs`
  if (!existsSync(step)) continue
  console.log(`\n▸ @x/${p}`)
  const t = Date.now()
  const r = spawnSync(process.execPath, [step], {
    cwd: `${root}packages/${p}`,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: 60_000,
  })
  for (const line of (r.stdout ?? '').split('\n')) if (line) console.log(line.startsWith('  ') ? line : `  ${line}`)
  if (r.status !== 0) {
    failed++
    console.log(`  ✗ @x/${p} tour step failed (${r.status ?? r.signal})`)
  } else {
    console.log(`  ✓ ${Date.now() - t} ms`)
  }
}
console.log(failed ? `\ntour: ${failed} step(s) failed` : '\ntour: every step worked')
process.exit(failed ? 1 : 0)
