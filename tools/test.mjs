#!/usr/bin/env node
// Runs every package's tests in one vitest run and ends with the plain line "N passed, N failed, N skipped".
// Extra arguments go to vitest (e.g. a path filter: `./x test packages/ring`).
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const out = `${root}.cache/vitest.json`
mkdirSync(`${root}.cache`, { recursive: true })
rmSync(out, { force: true })

const args = process.argv.slice(2).filter((a) => a !== '--')
const r = spawnSync(
  process.execPath,
  [
    `${root}node_modules/vitest/vitest.mjs`,
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
    ...args,
  ],
  { cwd: root, stdio: 'inherit', env: process.env },
)

let passed = 0
let failed = 0
let skipped = 0
try {
  const j = JSON.parse(readFileSync(out, 'utf8'))
  passed = j.numPassedTests ?? 0
  failed = j.numFailedTests ?? 0
  skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0)
  // A file that fails to load has no tests but must count as a failure.
  for (const f of j.testResults ?? []) if (f.status === 'failed' && (f.assertionResults ?? []).length === 0) failed++
} catch {
  failed = Math.max(failed, 1)
}
if (r.status !== 0 && failed === 0) failed = 1
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || r.status !== 0 ? 1 : 0)
