import { expect } from 'vitest';
import type { CpuTensor } from '../src/cpu/index.js';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';

/** Deterministic test data (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** A host tensor with values uniform in [lo, hi), rounded to float32 so both sides see the same inputs. */
export function randCpu(r: () => number, shape: number[], lo = -1, hi = 1): CpuTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = lo + (hi - lo) * r();
  return { shape: [...shape], data: Float64Array.from(f) };
}

export function toGpu(t: CpuTensor, requiresGrad = false): wg.Tensor {
  return wg.tensor(Float32Array.from(t.data), t.shape, { requiresGrad });
}

/** Asserts the GPU result matches the reference: |a−b| ≤ atol + rtol·|b| everywhere, same shape. */
export async function expectClose(got: wg.Tensor, want: CpuTensor, rtol = 1e-4, atol = 1e-5, what = ''): Promise<void> {
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  const g = await got.toArray();
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < g.length; i++) {
    const err = Math.abs(g[i]! - want.data[i]!) - (atol + rtol * Math.abs(want.data[i]!));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what} element ${worst} of ${fmt(want.shape)}: got ${g[worst]}, want ${want.data[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/**
 * Checks the GPU backward rule of an op by central finite differences of its CPU reference in
 * float64: for a random upstream gradient r, d/dx_i Σ r·f(x) numerically vs the GPU's x.grad.
 */
export async function gradcheck(
  gpuFn: (...xs: wg.Tensor[]) => wg.Tensor,
  cpuFn: (...xs: CpuTensor[]) => CpuTensor,
  inputs: CpuTensor[],
  opts: { seed?: number; eps?: number; rtol?: number; atol?: number; wrt?: number[] } = {},
): Promise<void> {
  const r = rng(opts.seed ?? 1234);
  const wrt = opts.wrt ?? inputs.map((_, i) => i);
  const xs = inputs.map((c, i) => toGpu(c, wrt.includes(i)));
  const y = gpuFn(...xs);
  const ref = cpuFn(...inputs);
  const up = randCpu(r, ref.shape);
  y.backward(toGpu(up));
  const eps = opts.eps ?? 1e-6;
  const dot = (t: CpuTensor) => t.data.reduce((s, v, k) => s + v * up.data[k]!, 0);
  for (const i of wrt) {
    const x = inputs[i]!;
    const num = new Float64Array(x.data.length);
    for (let j = 0; j < x.data.length; j++) {
      const orig = x.data[j]!;
      x.data[j] = orig + eps;
      const fp = dot(cpuFn(...inputs));
      x.data[j] = orig - eps;
      const fm = dot(cpuFn(...inputs));
      x.data[j] = orig;
      num[j] = (fp - fm) / (2 * eps);
    }
    const grad = xs[i]!.grad;
    expect(grad, `input ${i} has a gradient`).not.toBeNull();
    const scale = Math.max(1, ...Array.from(num, Math.abs));
    await expectClose(grad!, { shape: [...x.shape], data: num }, opts.rtol ?? 1e-3, (opts.atol ?? 1e-4) * scale, `grad of input ${i}`);
  }
  for (const x of xs) x.dispose();
  y.dispose();
}

/**
 * Checks an op in one call: its forward against the CPU reference on `inputs`, then the backward
 * rule of every input (or those in `wrt`) by finite differences of that reference.
 */
export async function checkOp(
  gpuFn: (...xs: wg.Tensor[]) => wg.Tensor,
  cpuFn: (...xs: CpuTensor[]) => CpuTensor,
  inputs: CpuTensor[],
  opts: { rtol?: number; atol?: number; what?: string; grad?: Parameters<typeof gradcheck>[3] } = {},
): Promise<void> {
  const xs = inputs.map((c) => toGpu(c));
  await expectClose(gpuFn(...xs), cpuFn(...inputs), opts.rtol ?? 1e-4, opts.atol ?? 1e-5, `${opts.what ?? ''} forward`);
  for (const x of xs) x.dispose();
  await gradcheck(gpuFn, cpuFn, inputs, opts.grad);
}

/** Asserts fn throws a WgslgradError whose message contains every fragment. */
export function expectError(fn: () => unknown, ...fragments: string[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a WgslgradError').toBeInstanceOf(wg.WgslgradError);
  for (const f of fragments) expect((err as Error).message).toContain(f);
}

/** A random shape with `nd` dims, each in [lo, hi]. */
export function randShape(r: () => number, nd: number, lo = 1, hi = 7): number[] {
  return Array.from({ length: nd }, () => randInt(r, lo, hi));
}

/** wg.matmul against the CPU reference for each [M, K, N] in all four layouts (a stored [K, M], b stored [N, K], both, neither). */
export async function expectMatmulLayouts(r: () => number, shapes: Array<[number, number, number]>, what: string, atolPerRootK = 1e-5): Promise<void> {
  for (const [M, K, N] of shapes) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const a = randCpu(r, ta ? [K, M] : [M, K]);
      const b = randCpu(r, tb ? [N, K] : [K, N]);
      const ref = cpu.matmul(ta ? cpu.transpose(a, 0, 1) : a, tb ? cpu.transpose(b, 0, 1) : b);
      const ga = toGpu(a),
        gb = toGpu(b);
      await expectClose(
        wg.matmul(ta ? ga.transpose(0, 1) : ga, tb ? gb.transpose(0, 1) : gb),
        ref,
        1e-4,
        atolPerRootK * Math.sqrt(K),
        `${what} ${M}×${K}×${N} ${ta} ${tb}`,
      );
    }
  }
}

/**
 * Collects garbage and lets the finalizers run, so that tensors dropped without dispose() earlier
 * in the file release their buffers now rather than in the middle of a test that compares
 * `wg.memory()` before and after (vitest runs with --expose-gc; without it this does nothing).
 */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}

/**
 * GPU memory did not grow since `before`: no buffer made, no byte added, no live byte more. A tensor
 * left to the garbage collector by an earlier test may be finalized meanwhile, which moves its bytes
 * from live to pooled (never back), so live bytes may fall and the total stays.
 */
export function expectNoGrowth(before: ReturnType<typeof wg.memory>, what = 'GPU memory'): void {
  const after = wg.memory();
  const show = `${what}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`;
  expect(after.buffers, show).toBe(before.buffers);
  expect(after.liveBytes + after.pooledBytes, show).toBe(before.liveBytes + before.pooledBytes);
  expect(after.liveBytes, show).toBeLessThanOrEqual(before.liveBytes);
}

/**
 * The tuning that turns each of the kernel variants `ids` (src/gpu/variants/index.ts) on or off, for
 * wg.internal.setTuning: tests of one variant against the kernel it stands in for.
 */
export function variantsOn(ids: readonly string[], mode: 'on' | 'off'): Partial<wg.internal.Tuning> {
  return { variants: Object.fromEntries(ids.map((id) => [id, mode])) };
}
