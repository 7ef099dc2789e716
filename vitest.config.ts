import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests import @x/<pkg> from source (no build step for TypeScript); native addons load from build/ or prebuilds/.
const root = fileURLToPath(new URL('.', import.meta.url))
const alias = Object.fromEntries(
  readdirSync(`${root}packages`).map((name) => [`@x/${name}`, `${root}packages/${name}/src/index.ts`]),
)

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
