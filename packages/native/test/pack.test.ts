// The published package: prebuilt inside, no install script, loads with no compiler and no build/ directory.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const pkgDir = fileURLToPath(new URL('..', import.meta.url))
const arch = process.arch
const npmOk = spawnSync('npm', ['--version']).status === 0

describe.skipIf(!npmOk)('packaging (needs npm and the npm registry)', () => {
  it('npm i of the packed tarball runs no script and loads the bundled prebuild', { timeout: 240_000 }, () => {
    const tmp = mkdtempSync(join(tmpdir(), 'xnative-pack-'))
    try {
      const prebuild = join(pkgDir, 'prebuilds', `linux-${arch}`)
      if (!existsSync(prebuild)) {
        execFileSync('npx', ['prebuildify', '--napi', '--strip', '--tag-libc'], { cwd: pkgDir, stdio: 'ignore' })
      }
      execFileSync('pnpm', ['pack', '--pack-destination', tmp], { cwd: pkgDir, stdio: 'ignore' })
      const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'))!
      const app = join(tmp, 'app')
      execFileSync('mkdir', ['-p', app])
      writeFileSync(join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}')
      const r = spawnSync('npm', ['i', '--no-audit', '--no-fund', join(tmp, tgz)], {
        cwd: app,
        encoding: 'utf8',
        env: { ...process.env, npm_config_nodedir: '' },
      })
      expect(r.status, r.stderr).toBe(0)
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/install-scripts|allowScripts/)
      const installed = join(app, 'node_modules', '@x', 'native')
      expect(existsSync(join(installed, 'build'))).toBe(false)
      expect(existsSync(join(installed, 'prebuilds', `linux-${arch}`))).toBe(true)
      const out = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "import {EventFd} from '@x/native'; const e=new EventFd(); e.write(2); console.log(e.read()); e.close()",
        ],
        { cwd: app, encoding: 'utf8', env: { ...process.env, PREBUILDS_ONLY: '1' } },
      )
      expect(out.trim()).toBe('2')
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  })
})
