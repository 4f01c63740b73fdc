// Every kernel variant of every table (src/gpu/variants/index.ts) forced in turn, through one helper
// per table: its problems' forward against the CPU reference and gradients by finite differences,
// each problem's dispatch checked against the table's choice, and the forced variant reached by at
// least one of them. A variant this device cannot run (it shares rows through subgroups, and the
// device has none) is skipped with that reason. Then the GEMM blocks chosen for devices this
// machine does not have (32- and 64-lane subgroups, hardware without subgroups, SwiftShader),
// forced on this one.
import { describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import { deviceFacts } from '../src/gpu/device.js';
import * as wg from '../src/index.js';
import { expectClose, expectMatmulLayouts, gradcheck, randCpu, rng, toGpu } from './helpers.js';

const { TABLES, forcing, variantId } = wg.internal;
type TableName = wg.internal.TableName;

/** A table's problems: each runs the op(s) the table serves against the CPU reference. */
type Problem = { what: string; run: (r: () => number) => Promise<void> };

const conv = (N: number, CI: number, CO: number, H: number, K: number, stride: number, padding: number): Problem => ({
  what: `conv2d [${N},${CI},${H},${H}] → ${CO}, ${K}×${K} s${stride} p${padding}`,
  run: async (r) => {
    const o = { stride, padding };
    await gradcheck(
      (x, w, b) => wg.conv2d(x, w, b, o),
      (x, w, b) => cpu.conv2d(x, w, b, o),
      [randCpu(r, [N, CI, H, H]), randCpu(r, [CO, CI, K, K]), randCpu(r, [CO])],
    );
  },
});
const convT = (N: number, CI: number, CO: number, H: number, K: number, stride: number, padding: number): Problem => ({
  what: `convTranspose2d [${N},${CI},${H},${H}] → ${CO}, ${K}×${K} s${stride} p${padding}`,
  run: async (r) => {
    const o = { stride, padding };
    await gradcheck(
      (x, w, b) => wg.convTranspose2d(x, w, b, o),
      (x, w, b) => cpu.convTranspose2d(x, w, b, o),
      [randCpu(r, [N, CI, H, H]), randCpu(r, [CI, CO, K, K]), randCpu(r, [CO])],
    );
  },
});
const product = (M: number, K: number, N: number, tb = false): Problem => ({
  what: `linear-shaped ${M}×${K}·${tb ? `[${N},${K}]ᵀ` : `[${K},${N}]`}`,
  run: async (r) => {
    const a = randCpu(r, [M, K]);
    const b = randCpu(r, tb ? [N, K] : [K, N]);
    const want = cpu.matmul(a, tb ? cpu.transpose(b, 0, 1) : b);
    const y = tb ? wg.matmul(toGpu(a), toGpu(b).transpose(0, 1)) : wg.matmul(toGpu(a), toGpu(b));
    await expectClose(y, want, 1e-4, 1e-5 * Math.sqrt(K), `${M}×${K}×${N}`);
  },
});
const norm = (shape: number[]): Problem => ({
  what: `batchNorm [${shape}]`,
  run: async (r) => {
    const C = shape[1]!;
    const o = { training: true, activation: 'relu' as const };
    await gradcheck(
      (x, w, b) => wg.batchNorm(x, null, null, w, b, o),
      (x, w, b) => cpu.batchNorm(x, null, null, w, b, o),
      [randCpu(r, shape), randCpu(r, [C], 0.5, 1.5), randCpu(r, [C])],
      { rtol: 3e-3, atol: 3e-4 },
    );
  },
});
const act = (n: number): Problem => ({
  what: `leakyRelu and sigmoid over ${n} values`,
  run: async (r) => {
    const x = randCpu(r, [n]);
    await gradcheck(
      (t) => wg.leakyRelu(t, 0.2),
      (t) => cpu.leakyRelu(t, 0.2),
      [x],
    );
    await gradcheck(wg.sigmoid, cpu.sigmoid, [x]);
  },
});
const sum = (shape: number[], dims: number[]): Problem => ({
  what: `sum of [${shape}] over [${dims}]`,
  run: async (r) => {
    await gradcheck(
      (x) => wg.sum(x, dims),
      (x) => cpu.sum(x, dims),
      [randCpu(r, shape)],
    );
  },
});
const adam: Problem = {
  what: 'Adam, 3 steps of 3 parameters',
  run: async (r) => {
    const init = [randCpu(r, [5, 3]), randCpu(r, [7]), randCpu(r, [2, 2, 2])];
    const params = init.map((c) => toGpu(c, true));
    const o = { lr: 0.01, betas: [0.9, 0.99] as [number, number], eps: 1e-8, weightDecay: 0.01 };
    const opt = new wg.optim.Adam(params, o);
    const ref = init.map((c) => ({ p: c.data.slice(), m: new Float64Array(c.data.length), v: new Float64Array(c.data.length) }));
    for (let s = 1; s <= 3; s++) {
      opt.zeroGrad();
      const grads = init.map((c) => randCpu(r, c.shape));
      params.forEach((p, i) => (p.grad = toGpu(grads[i]!)));
      opt.step();
      ref.forEach((st, i) => cpu.adam(st.p, grads[i]!.data, st.m, st.v, s, o));
    }
    for (let i = 0; i < params.length; i++) await expectClose(params[i]!, { shape: init[i]!.shape, data: ref[i]!.p }, 1e-5, 1e-6, `param ${i}`);
    opt.dispose();
  },
};

/** The problems of each table: together they fit every variant of it. */
const PROBLEMS: Record<TableName, Problem[]> = {
  matmul: [product(9, 300, 1), product(5, 301, 1), product(32, 64, 32), product(16, 40, 24, true), product(7, 13, 5), product(130, 70, 3)],
  convForward: [conv(2, 2, 8, 7, 4, 2, 1), conv(1, 3, 5, 6, 3, 1, 1)],
  convTranspose: [convT(2, 3, 2, 4, 4, 2, 1), convT(1, 4, 9, 3, 4, 2, 1), convT(1, 2, 3, 4, 3, 1, 0)],
  weightGrad: [conv(2, 3, 4, 6, 4, 2, 1), conv(1, 2, 3, 5, 3, 1, 0)],
  batchNorm: [norm([3, 2, 2, 4]), norm([4, 8]), norm([4, 6]), norm([2, 3, 3, 3])],
  batchNormBackward: [norm([3, 2, 2, 4]), norm([4, 8]), norm([4, 6]), norm([2, 3, 3, 3])],
  activation: [act(12), act(13)],
  activationGrad: [act(12), act(13)],
  sum: [sum([40, 5], [0]), sum([2, 3, 4, 8], [0, 2, 3]), sum([3, 40, 5], [0, 1])],
  adam: [adam],
};

/** The kernels the problems dispatched, by variant forced. */
describe('every kernel variant, forced in turn', () => {
  const shared = deviceFacts().subgroupShare;
  for (const [table, variants] of Object.entries(TABLES) as Array<[TableName, ReadonlyArray<wg.internal.Variant<unknown>>]>) {
    for (const v of variants) {
      const id = variantId(v);
      const skip = v.subgroups && !shared ? ' (skipped: it shares rows through subgroups, and this device shares none)' : '';
      test.skipIf(skip !== '')(`${table}: ${id}${skip}`, async () => {
        const restore = wg.internal.setTuning({ variants: forcing(variants, id) });
        try {
          const r = rng(id.length * 7 + table.length);
          const ran = new Set<string>();
          for (const p of PROBLEMS[table]) {
            let pending: Promise<void> = Promise.resolve();
            for (const k of wg.traceKernels(() => (pending = p.run(r)))) ran.add(k);
            await pending;
          }
          // forced, it runs wherever one of its table's problems fits it
          expect([...ran], `${id} ran for ${PROBLEMS[table].map((p) => p.what).join('; ')}`).toContain(`${v.kernel}.${v.entry}`);
        } finally {
          restore();
        }
      });
    }
  }
});

const t = wg.internal.defaultTuning();
const shared = deviceFacts().subgroupShare;
/** the variants that would take a product or a conv off the blocked GEMM kernels */
const blockedOnly: Partial<wg.internal.Tuning> = {
  variants: {
    ...forcing(TABLES.matmul, 'matmul.main'),
    'software/conv_rows.forward_rows': 'off',
    'software/conv_transpose_rows.main_few': 'off',
    'software/conv_transpose_rows.main_rows': 'off',
    'software/conv_cols.columns': 'off',
  },
};

/** [name, the tuning that makes this device run it, whether it needs rows shared through subgroups] */
const BLOCKS: Array<[string, Partial<wg.internal.Tuning>, boolean | null]> = [
  ['32-lane subgroups (one subgroup a workgroup)', { ...blockedOnly, shared: t.wide, convShared: t.wide }, true],
  ['64-lane subgroups', { ...blockedOnly, shared: t.wide64, convShared: t.wide64 }, true],
  ['hardware without subgroups (8 × 8 lanes)', { ...blockedOnly, software: t.plain, convPlain: t.plain }, false],
  ['SwiftShader (4 × 4 lanes)', { ...blockedOnly, software: t.software, convPlain: t.software }, false],
  ['the workgroup-memory tiled matmul', { variants: forcing(TABLES.matmul, 'matmul_tiled.main') }, null],
];

describe('GEMM blocks of other devices, forced here', () => {
  for (const [name, tuning, needsShared] of BLOCKS) {
    // a subgroup block runs only where rows are shared; a block without them only where they are not (planner.ts gemmBlock)
    const runs = needsShared === null || needsShared === shared;
    test.skipIf(!runs)(
      `${name}: matmul layouts, linear and its gradients, conv and transposed conv forward and gradients${runs ? '' : ` (skipped: this device ${shared ? 'shares' : 'does not share'} rows through subgroups)`}`,
      async () => {
        const restore = wg.internal.setTuning(tuning);
        try {
          const r = rng(name.length);
          const [a, b] = [wg.ones([8, 8]), wg.ones([8, 8])];
          const names = wg.traceKernels(() => void wg.scope(() => wg.matmul(a, b)));
          expect(names).toEqual([needsShared === null ? 'matmul_tiled.main' : 'matmul.main']);
          await expectMatmulLayouts(
            r,
            [
              [37, 29, 21],
              [128, 70, 3],
              [3, 100, 9],
              [65, 33, 130],
            ],
            name,
          );
          await gradcheck(
            (x, w, bb) => wg.linear(x, w, bb),
            (x, w, bb) => cpu.linear(x, w, bb),
            [randCpu(r, [5, 7]), randCpu(r, [9, 7]), randCpu(r, [9])],
          );
          const opts = { stride: 2, padding: 1 };
          for (const [CI, CO] of [
            [3, 8],
            [8, 13],
            [16, 50],
          ]) {
            const x = randCpu(r, [2, CI, 7, 6]);
            const w = randCpu(r, [CO, CI, 4, 4]),
              bias = randCpu(r, [CO]);
            await expectClose(wg.conv2d(toGpu(x), toGpu(w), toGpu(bias), opts), cpu.conv2d(x, w, bias, opts), 1e-4, 1e-5, `${name}: conv ${CI}→${CO}`);
            const wt = randCpu(r, [CI, CO, 4, 4]);
            await expectClose(
              wg.convTranspose2d(toGpu(x), toGpu(wt), toGpu(bias), opts),
              cpu.convTranspose2d(x, wt, bias, opts),
              1e-4,
              1e-5,
              `${name}: convT ${CI}→${CO}`,
            );
          }
          await gradcheck(
            (x, w, bb) => wg.conv2d(x, w, bb, opts),
            (x, w, bb) => cpu.conv2d(x, w, bb, opts),
            [randCpu(r, [2, 9, 5, 5]), randCpu(r, [17, 9, 4, 4]), randCpu(r, [17])],
          );
          await gradcheck(
            (x, w, bb) => wg.convTranspose2d(x, w, bb, opts),
            (x, w, bb) => cpu.convTranspose2d(x, w, bb, opts),
            [randCpu(r, [2, 17, 3, 3]), randCpu(r, [17, 9, 4, 4]), randCpu(r, [9])],
          );
        } finally {
          restore();
        }
      },
    );
  }
});
