import { defineConfig } from 'vitest/config';
// vitest.config.ts embeds the shaders and builds dist/ and build/ when stale, as for npm test.
import { shared } from './vitest.config.js';

// npm run test:e2e: the examples end to end (the GAN and char-transformer command lines, resume after
// a crash, the bench's smoke run, the GAN evaluation) and wg.init({ device }) as the first call of
// fresh processes. They train real models for a few steps, so they sit beside npm test, not in it.
export default defineConfig({
  test: {
    ...shared,
    include: ['test/e2e/*.test.ts'],
  },
});
