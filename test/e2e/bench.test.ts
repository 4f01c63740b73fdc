// The benchmark runs (a smoke run of two workloads; the timings themselves are npm run bench's).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

test('npm run bench: a kernel and the shared GAN step, compared with the CPU reference, written as JSON', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'wgslgrad-bench-')), 'out.json');
  const r = spawnSync(process.execPath, ['build/bench/main.js', '--quick', '--only', 'leakyrelu,mlp-step', '--no-tfjs', '--no-torch', '--json', file], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(readFileSync(file, 'utf8')) as {
    results: Array<{ workload: string; impl: string; max_rel_err?: number; median_ms?: number; submits_per_step?: number; new_buffers_per_step?: number }>;
  };
  const row = (w: string, impl: string) => out.results.find((x) => x.workload === w && x.impl === impl);
  expect(row('leakyrelu', 'cpu-reference')?.median_ms).toBeGreaterThan(0);
  expect(row('leakyrelu', 'wgslgrad')?.max_rel_err).toBeLessThan(1e-6);
  const step = row('mlp-step-b100', 'wgslgrad');
  expect(step?.median_ms).toBeGreaterThan(0);
  expect(step?.submits_per_step).toBe(1);
  expect(step?.new_buffers_per_step).toBe(0);
});

test('paired rounds end with a note, not an exception, when the peer process cannot start or exits', async () => {
  const { pairedRounds } = await import('../../bench/paired.js');
  const w = [{ name: 'matmul-64', ours: { wgslgrad: async () => {} }, reps: 1 }];
  const missing = await pairedRounds('/nonexistent/python3', ['bench/torch_step.py'], w, 1, 'pytorch-cpu');
  expect(missing.rows).toEqual([]);
  expect(missing.note).toMatch(/^failed: .*ENOENT/);
  const exits = await pairedRounds(process.execPath, ['-e', 'process.exit(3)'], w, 1, 'pytorch-cpu');
  expect(exits.rows).toEqual([]);
  expect(exits.note).toMatch(/^failed: torch_step.py --serve ended/);
});
