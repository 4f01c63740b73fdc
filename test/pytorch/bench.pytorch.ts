// npm run bench beside real PyTorch on the CPU: its pytorch-cpu rows, and the paired rounds that
// alternate our runs with PyTorch's (bench/paired.ts, bench/torch_step.py --serve).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

function findPython(): string {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    if (spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) return py;
  }
  throw new Error('no Python with torch: run sudo bash scripts/install-pytorch.sh');
}
const PY = findPython();

interface Paired {
  note: string;
  rows: Array<{ workload: string; rounds: Array<Record<string, number>>; ratio: Record<string, Record<string, { median: number; min: number; max: number }>> }>;
}

test('npm run bench --rounds 2: pytorch-cpu rows, then paired rounds of both sides with their ratios', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'wgslgrad-bench-')), 'out.json');
  const r = spawnSync(
    process.execPath,
    ['build/bench/main.js', '--quick', '--only', 'matmul-256,mlp-step', '--no-tfjs', '--no-cpu', '--rounds', '2', '--json', file],
    { encoding: 'utf8', timeout: 180_000, env: { ...process.env, PYTHON: PY } },
  );
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain("paired rounds (the peer's median ÷ ours");
  const out = JSON.parse(readFileSync(file, 'utf8')) as { results: Array<{ workload: string; impl: string; median_ms?: number }>; paired: Paired };
  expect(out.results.find((x) => x.workload === 'mlp-step-b100' && x.impl === 'pytorch-cpu')?.median_ms).toBeGreaterThan(0);
  expect(out.paired.rows.map((x) => x.workload)).toEqual(['matmul-256', 'mlp-step-b100']);
  const step = out.paired.rows[1]!;
  expect(step.rounds).toHaveLength(2);
  for (const round of step.rounds) {
    for (const impl of ['wgslgrad', 'wgslgrad-replay', 'pytorch-cpu']) expect(round[impl]).toBeGreaterThan(0);
  }
  // the ratio of each round is PyTorch's time over ours, and the row's median lies within their range
  const q = step.rounds.map((x) => x['pytorch-cpu']! / x['wgslgrad-replay']!);
  const ratio = step.ratio['pytorch-cpu']!['wgslgrad-replay']!;
  expect(ratio.min).toBeCloseTo(Math.min(...q), 10);
  expect(ratio.max).toBeCloseTo(Math.max(...q), 10);
  expect(ratio.median).toBeCloseTo((q[0]! + q[1]!) / 2, 10);
}, 200_000);

test('torch_step.py --serve times a workload per request line and refuses what it does not have', () => {
  const ok = spawnSync(PY, ['bench/torch_step.py', '--device', 'cpu', '--serve', 'matmul-64'], {
    input: 'matmul-64 3\nmatmul-64 x\n',
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(ok.status, ok.stderr).toBe(0);
  const lines = ok.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines[0]!.ready).toEqual(['matmul-64']);
  expect(lines[1]!.workload).toBe('matmul-64');
  expect(lines[1]!.ms as number[]).toHaveLength(3);
  expect(lines[2]!.error).toMatch(/bad request 'matmul-64 x'/);
  const bad = spawnSync(PY, ['bench/torch_step.py', '--device', 'cpu', '--serve', 'conv9-fwd'], { input: '', encoding: 'utf8', timeout: 60_000 });
  expect(bad.status).toBe(2);
  expect(bad.stdout).toMatch(/unknown workload conv9-fwd/);
});
