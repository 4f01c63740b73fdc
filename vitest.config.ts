import { execFileSync, execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Kernels are embedded from shaders/*.wgsl; regenerate so a plain `vitest` never runs stale WGSL.
execFileSync(process.execPath, ['scripts/embed-shaders.mjs'], { stdio: 'inherit' });

// Some tests run the built library and examples in child processes (the CLIs, the README's quick
// start, the bench's smoke run). `npm test` builds them first; a plain `npx vitest` builds them
// here when they are missing or older than a source file, so it never runs a stale build.
const newest = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : /\.(ts|wgsl)$/.test(e.name) ? statSync(p).mtimeMs : 0);
  }, 0);
const built = (f: string) => (existsSync(f) ? statSync(f).mtimeMs : 0);
const sources = Math.max(...['src', 'shaders', 'examples', 'bench'].map(newest));
if (built('dist/index.js') < sources || built('build/examples/char-transformer/main.js') < sources) {
  console.log('vitest: dist/ or build/ is missing or older than the sources: npm run build && npm run build:examples');
  execSync('npm run build && npm run build:examples', { stdio: 'inherit' });
}

/** vitest's settings for npm test, which vitest.e2e.config.ts shares. */
export const shared = {
  // Dawn runs in child processes (one device per test file); lavapipe already uses both cores.
  pool: 'forks',
  maxWorkers: 2,
  // tests of GPU memory collect garbage first (collectGarbage in test/helpers.ts)
  execArgv: ['--expose-gc'],
  // a guard against a hang, not a measure: a cold shader cache on a busy machine compiles for minutes
  testTimeout: 300_000,
  hookTimeout: 300_000,
  setupFiles: ['test/setup.ts'],
} as const;

// npm test: the library (kernels, rules, modules, optimisers, capture, errors, memory, the README's
// quick start). The examples' command lines and training runs end to end, and the processes that
// start on a device of their own, are npm run test:e2e (test/e2e/, vitest.e2e.config.ts).
export default defineConfig({
  test: {
    ...shared,
    include: ['test/*.test.ts'],
  },
});
