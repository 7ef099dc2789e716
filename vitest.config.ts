import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests import @x/<pkg> (and @x/<pkg>/<sub>) from source: no build step for TypeScript. Native addons load
// from build/ or prebuilds/; worker and child-process fixtures (.mjs) import the built dist.
const root = fileURLToPath(new URL('.', import.meta.url))
const packages = readdirSync(`${root}packages`).filter((n) => existsSync(`${root}packages/${n}/package.json`))
const alias = packages.flatMap((name) => [
  { find: new RegExp(`^@x/${name}$`), replacement: `${root}packages/${name}/src/index.ts` },
  { find: new RegExp(`^@x/${name}/(?!package\\.json$|gyp$)(.+)$`), replacement: `${root}packages/${name}/src/$1.ts` },
])

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
  },
})
