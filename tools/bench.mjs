#!/usr/bin/env node
// Runs every package's benchmarks (packages/*/bench/*.mjs), one after another on a quiet machine, and prints
// their figures: each line is "<what>: <figure> | ref <reference>: <figure> | ratio …".
// `./x bench ring` runs only that package's.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const only = process.argv.slice(2).filter((a) => a !== '--')
let failed = 0
for (const pkg of readdirSync(`${root}packages`).sort()) {
  if (only.length && !only.includes(pkg)) continue
  const dir = `${root}packages/${pkg}/bench`
  if (!existsSync(dir)) continue
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.mjs'))
    .sort()) {
    console.log(`\n== @x/${pkg} ${f}`)
    const r = spawnSync(process.execPath, [`${dir}/${f}`], { cwd: `${root}packages/${pkg}`, stdio: 'inherit' })
    if (r.status !== 0) {
      failed++
      console.log(`!! ${pkg}/${f} exited with ${r.status ?? r.signal}`)
    }
  }
}
process.exit(failed ? 1 : 0)
