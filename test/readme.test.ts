// The README's quick start, run as a user would run it: its code block, importing 'wgslgrad' (the
// package's own name, resolved to dist/ by its exports), trains and prints falling losses and the
// accuracy it reaches.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { expect, test } from 'vitest';

test("the README's quick start runs as written: the loss falls and the three clusters are told apart", () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.split('\n## Quick start')[1]?.split('\n## ')[0] ?? '';
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code, 'a ```js block under "## Quick start"').toBeTruthy();
  expect(code).toContain("from 'wgslgrad'");
  expect(code!.split('\n').length, 'a quick start of about 20 lines').toBeLessThanOrEqual(36);
  expect(existsSync('dist/index.js'), 'npm test builds dist/ first (npm run build)').toBe(true);
  mkdirSync('build', { recursive: true });
  // inside the package, so that 'wgslgrad' resolves to this checkout's dist/
  writeFileSync('build/readme-quickstart.mjs', code!);
  const r = spawnSync(process.execPath, ['build/readme-quickstart.mjs'], { encoding: 'utf8', timeout: 240_000 });
  expect(r.status, r.stderr).toBe(0);
  const losses = [...r.stdout.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
  expect(losses.length).toBe(4);
  expect(losses[3]!).toBeLessThan(losses[0]!);
  expect(Number(/accuracy ([\d.]+)/.exec(r.stdout)?.[1])).toBeGreaterThanOrEqual(0.95);
});
