// sum and mean over any dims, with keepDim. Kernel: shaders/reduce.wgsl. CPU reference: src/cpu/reduce.ts.
import { record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { deviceFacts } from '../gpu/device.js';
import { dispatch, pipeline, placeholder, placeholderOut } from '../gpu/engine.js';
import { planSumKernel } from '../gpu/variants/index.js';
import { type Shape, sizeOf, Tensor } from '../tensor.js';
import { expandTo } from './shape.js';
import { assertTensor, compactDims, MAX_DIMS, normDims, stridesOf } from './util.js';

const WG = 64;

/**
 * Raw sum of x over `dims` (sorted, distinct) times `scale`, output shape without those dims; plus
 * `addend` (of the output's size) in the same kernel when given. With `out` (of the output's size)
 * the result is written there and `out` returned.
 */
function rawSum(
  op: string,
  x: Tensor,
  dims: number[],
  scale: number,
  addend: Tensor | null = null,
  act: ActTerms | null = null,
  out: Tensor | null = null,
): Tensor {
  const st = stridesOf(x.shape);
  const keptSizes: number[] = [];
  const keptStrides: number[] = [];
  const redSizes: number[] = [];
  const redStrides: number[] = [];
  x.shape.forEach((d, i) => {
    if (dims.includes(i)) {
      redSizes.push(d);
      redStrides.push(st[i]!);
    } else {
      keptSizes.push(d);
      keptStrides.push(st[i]!);
    }
  });
  const outShape = keptSizes;
  const nOut = sizeOf(outShape);
  if (out && out.size !== nOut) throw new WgslgradError(op, `output tensor ${fmtShape(out.shape)} for a sum of ${nOut} values`);
  if (nOut === 0) return out ?? Tensor.empty(outShape);
  const R = redSizes.reduce((a, b) => a * b, 1);
  const k = compactDims(keptSizes, keptStrides);
  const r = compactDims(redSizes, redStrides);
  if (k.sizes.length > MAX_DIMS || r.sizes.length > MAX_DIMS)
    throw new WgslgradError(op, `input ${fmtShape(x.shape)} needs more than ${MAX_DIMS} dims after merging`);
  const params = {
    nOut,
    R,
    keptNd: k.sizes.length,
    redNd: r.sizes.length,
    keptSizes: k.sizes,
    keptStrides: k.strides,
    redSizes: r.sizes,
    redStrides: r.strides,
    scale,
    slope: act?.slope ?? 0,
  };
  const ACT = act?.code ?? 0;
  const tail = [act ? act.saved.binding : placeholder(), act ? act.out.binding : placeholderOut()];
  // four terms a load: a contiguous inner dim a multiple of 4 long, every other stride a multiple of 4 (reduce.sum_wg4)
  const vec4 = r.sizes.length === 2 && r.strides[1] === 1 && r.sizes[1]! % 4 === 0 && r.strides[0]! % 4 === 0 && k.strides.every((s) => s % 4 === 0);
  const plan = planSumKernel(deviceFacts(), { nOut, R, vec4 });
  // one lane an output (chunks 0), or one workgroup per (output, chunk); several chunks' sums are added up after
  const n = Math.max(1, plan.chunks);
  const target = n === 1 && out ? out : Tensor.empty(n > 1 ? [n, nOut] : outShape);
  const add1 = n === 1 ? addend : null;
  dispatch(
    pipeline(plan.kernel, plan.entry, { WG, ADDC: add1 !== null, ACT }),
    [x.binding, target.binding, add1 ? add1.binding : placeholder(), ...tail],
    { ...params, chunkLen: plan.chunkLen },
    plan.groups,
  );
  if (n === 1) return target;
  const total = rawSum(op, target, [0], 1, addend, null, out);
  target.dispose();
  if (out) return out;
  const shaped = total.alias(outShape);
  total.dispose();
  return shaped;
}

function reduceOp(op: 'sum' | 'mean', x: Tensor, dimsArg: number | number[] | undefined, keepDim: boolean): Tensor {
  assertTensor(op, 'input', x);
  const dims = normDims(op, dimsArg, x.ndim);
  const R = dims.reduce((a, d) => a * x.shape[d]!, 1);
  const scale = op === 'mean' ? 1 / R : 1;
  if (op === 'mean' && R === 0) throw new WgslgradError(op, `mean over ${JSON.stringify(dimsArg)} of ${fmtShape(x.shape)} reduces 0 elements`);
  const raw = rawSum(op, x, dims, scale);
  const keptShape = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
  let out = raw;
  if (keepDim) {
    out = raw.alias(keptShape);
    raw.dispose();
  }
  // g broadcast back over the reduced dims (times 1/R for mean)
  return record(out, op, [x], (g) => [expandTo(g.alias(keptShape), x.shape, scale)]);
}

/** The sum over `dims` (all of them by default: a 0-d tensor), as torch.sum; keepDim keeps them as size 1. A WgslgradError for a dim out of range. */
export const sum = (x: Tensor, dims?: number | number[], keepDim = false): Tensor => reduceOp('sum', x, dims, keepDim);
/** The mean over `dims` (all of them by default), as torch.mean; keepDim keeps them as size 1. */
export const mean = (x: Tensor, dims?: number | number[], keepDim = false): Tensor => reduceOp('mean', x, dims, keepDim);

/**
 * The sum of x over `dims` plus `addend` (a gradient accumulated so far, of the result's shape), in
 * one kernel, written into `out` when given; no autograd.
 */
export function sumAdd(x: Tensor, dims: number[], addend: Tensor | null, out: Tensor | null = null): Tensor {
  return rawSum('sum', x, dims, 1, addend, null, out);
}

/** What a sum takes its terms through first: an activation's gradient (act_grad_value's code) from `saved`, stored in `out`. */
interface ActTerms {
  code: number;
  slope: number;
  saved: Tensor;
  out: Tensor;
}

/**
 * A fused activation's backward and its bias's gradient in one kernel: gx = g · act'(saved)
 * (activationGradRaw's values) and Σ gx over `dims` (+ `addend`), the sum written into `out` when
 * given. No autograd.
 */
export function actGradSum(
  g: Tensor,
  saved: Tensor,
  code: number,
  slope: number,
  dims: number[],
  addend: Tensor | null,
  out: Tensor | null = null,
): { gx: Tensor; sum: Tensor } {
  const gx = Tensor.empty(g.shape);
  return { gx, sum: rawSum('sum', g, dims, 1, addend, { code, slope, saved, out: gx }, out) };
}

/** Sums g (broadcast result) back down to `shape` (gradient of broadcasting); no autograd. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  const off = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < off || (shape[i - off] === 1 && g.shape[i] !== 1)) dims.push(i);
  if (dims.length === 0) return g.alias(shape);
  const r = rawSum('sum', g, dims, 1);
  const out = r.alias(shape);
  r.dispose();
  return out;
}
