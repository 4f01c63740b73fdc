import { execFileSync } from 'node:child_process';
import { defineConfig } from 'vitest/config';

// The PyTorch interop tests (npm run test:pytorch): test/pytorch/*.pytorch.ts, one device per file.
execFileSync(process.execPath, ['scripts/embed-shaders.mjs'], { stdio: 'inherit' });

export default defineConfig({
  test: {
    include: ['test/pytorch/**/*.pytorch.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
