import { execFileSync } from 'node:child_process';
import { defineConfig } from 'vitest/config';

// Kernels are embedded from shaders/*.wgsl; regenerate so a plain `vitest` never runs stale WGSL.
execFileSync(process.execPath, ['scripts/embed-shaders.mjs'], { stdio: 'inherit' });

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Dawn runs in child processes (one device per test file); lavapipe already uses both cores.
    pool: 'forks',
    maxWorkers: 2,
    // tests of GPU memory collect garbage first (collectGarbage in test/helpers.ts)
    execArgv: ['--expose-gc'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    setupFiles: ['test/setup.ts'],
  },
});
