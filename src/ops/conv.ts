// conv2d and convTranspose2d (NCHW, PyTorch weight layouts), forward and the three gradients.
// Three kernel tables serve both ops (src/gpu/variants): a conv forward (= a transposed conv's input
// gradient), a transposed conv (= a conv's input gradient) and the weight gradient; each op
// dispatches what its table chooses. CPU reference: src/cpu/conv.ts.

import { type Pair, pair } from '../args.js';
import { foldedGrad, recordInto } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { deviceFacts } from '../gpu/device.js';
import { type Binding, dispatch, pipeline, placeholder } from '../gpu/engine.js';
import { type ConvShape, planConvForward, planConvTranspose, planWeightGradient } from '../gpu/variants/index.js';
import { Tensor } from '../tensor.js';
import { backThroughEpilogue, type FusedActivation, fusedActivation, NO_EPILOGUE } from './activation.js';
import { matmulRaw } from './matmul.js';
import { sumAdd } from './reduce.js';
import { assertTensor } from './util.js';

/** Options of {@link conv2d}: stride and padding as a number or [h, w], and an activation fused into the kernel. */
export interface Conv2dOptions extends FusedActivation {
  /** default 1 */
  stride?: Pair;
  /** zeros on each side (default 0) */
  padding?: Pair;
}
/** Options of {@link convTranspose2d}. */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** extra rows and columns added to one side of the output (default 0; less than the stride) */
  outputPadding?: Pair;
}

/** Geometry shared by the kernels (the planner's ConvShape, which is also their parameter block). */
type Geo = Omit<ConvShape, 'x16' | 'w16'>;

/** The geometry of input [N, CI, H, W] → output [N, CO, OH, OW] by a KH × KW kernel, stride s, padding p. */
const geometry = (x: readonly number[], CO: number, OH: number, OW: number, KH: number, KW: number, s: [number, number], p: [number, number]): Geo => {
  const [N, CI, H, W] = x as [number, number, number, number];
  return { N, CI, H, W, CO, OH, OW, KH, KW, SH: s[0], SW: s[1], PH: p[0], PW: p[1] };
};

/** The same geometry run backwards, output to input: an input gradient's (conv ↔ transposed conv). */
const flipped = (g: Geo): Geo => ({ ...g, CI: g.CO, H: g.OH, W: g.OW, CO: g.CI, OH: g.H, OW: g.W });

/**
 * The software adapters' row kernels read their input (and weights) as vec4s: the binding rounded
 * up to 16 bytes, or null where its buffer ends first (their variants then do not plan).
 */
function vec4Binding(x: Tensor): Binding | null {
  const b = x.binding;
  if (!('buffer' in b)) return null;
  const size = Math.ceil(b.size / 16) * 16;
  return b.offset + size <= b.buffer.size ? { ...b, size } : null;
}

/**
 * Y[N,CO,OH,OW] from X[N,CI,H,W] and W (+ bias) through the kernel the table chooses: a conv forward
 * (W [CO,CI,KH,KW]; also a transposed conv's input gradient) or a transposed conv (W [CI,CO,KH,KW];
 * also a conv's input gradient).
 */
function convRaw(transposed: boolean, x: Tensor, w: Tensor, bias: Tensor | null, g: Geo, epi = NO_EPILOGUE): Tensor {
  const y = Tensor.empty([g.N, g.CO, g.OH, g.OW]);
  if (y.size === 0) return y;
  const x16 = vec4Binding(x);
  const w16 = vec4Binding(w);
  const shape = { ...g, x16: x16 !== null, w16: w16 !== null };
  const plan = transposed ? planConvTranspose(deviceFacts(), shape) : planConvForward(deviceFacts(), shape);
  const inputs = [plan.vec4Inputs >= 1 ? x16! : x.binding, plan.vec4Inputs >= 2 ? w16! : w.binding];
  dispatch(
    pipeline(plan.kernel, plan.entry, { ...plan.consts, BIAS: bias !== null, EPI: epi.code }),
    [...inputs, y.binding, bias ? bias.binding : placeholder()],
    { ...g, slope: epi.slope },
    plan.groups,
  );
  return y;
}

/**
 * D[A,B,KH,KW] = Σ G[n,a,gh,gw]·X[n,b,gh·s−p+kh, gw·s−p+kw]; G is [N,A,GH,GW], X is [N,B,XH,XW];
 * plus `addend` (D's shape: a gradient accumulated so far) in the same kernels when given; written
 * into `out` (D's shape) when given. The weight-gradient table chooses between a direct kernel and
 * one GEMM over the input's columns.
 */
function weightGradRaw(
  gT: Tensor,
  xT: Tensor,
  KH: number,
  KW: number,
  s: [number, number],
  p: [number, number],
  addend: Tensor | null,
  out: Tensor | null = null,
): Tensor {
  const [N, A, GH, GW] = gT.shape as [number, number, number, number];
  const [, B, XH, XW] = xT.shape as [number, number, number, number];
  const geo = { N, A, GH, GW, B, XH, XW, KH, KW, SH: s[0], SW: s[1], PH: p[0], PW: p[1] };
  const plan = planWeightGradient(deviceFacts(), { N, A, GH, GW, B, KH, KW });
  if (plan.gemm) {
    // G as [A, N·GH·GW] (its first two dims swapped) times the columns of X, [B·KH·KW, N·GH·GW],
    // transposed: matmul's x·Wᵀ, with the addend added in its kernel; one kernel writes both operands
    const K = N * GH * GW;
    const cols = B * KH * KW;
    const col = Tensor.empty([cols, K]);
    const gp = Tensor.empty([A, K]);
    dispatch(pipeline(plan.kernel, plan.entry, plan.consts), [xT.binding, col.binding, gT.binding, gp.binding], geo, plan.groups);
    const add2 = addend ? addend.alias([A, cols]) : null;
    const out2 = out ? out.alias([A, cols]) : null;
    const d2 = matmulRaw(gp, col, { transB: true, accumulate: add2, into: out2, op: 'conv weight gradient' });
    const d = out ?? d2.alias([A, B, KH, KW]);
    for (const t of [col, gp, add2, d2]) t?.dispose();
    return d;
  }
  const { chunk, chunks } = plan;
  const d = chunks === 1 && out ? out : Tensor.empty(chunks > 1 ? [chunks, A, B, KH, KW] : [A, B, KH, KW]);
  if (d.size === 0) return d;
  const add1 = chunks === 1 ? addend : null;
  dispatch(
    pipeline(plan.kernel, plan.entry, { ...plan.consts, BIAS: false, EPI: 0, ADDC: add1 !== null }),
    [gT.binding, xT.binding, d.binding, add1 ? add1.binding : placeholder()],
    { ...geo, chunk },
    plan.groups,
  );
  if (chunks === 1) return d;
  const total = sumAdd(d, [0], addend, out);
  d.dispose();
  return total;
}

function checkArgs(op: string, x: Tensor, w: Tensor, b: Tensor | null | undefined, inCh: number, outCh: number, wDesc: string): void {
  if (x.ndim !== 4) throw new WgslgradError(op, `input has shape ${fmtShape(x.shape)}, expected 4-D [N,C,H,W]`);
  if (w.ndim !== 4) throw new WgslgradError(op, `weight has shape ${fmtShape(w.shape)}, expected 4-D ${wDesc}`);
  if (x.shape[1] !== inCh) throw new WgslgradError(op, `input has ${x.shape[1]} channels, weight expects ${inCh} (${fmtShape(w.shape)})`);
  if (b != null) {
    assertTensor(op, 'bias', b);
    if (b.ndim !== 1 || b.shape[0] !== outCh) throw new WgslgradError(op, `bias has shape ${fmtShape(b.shape)}, expected [${outCh}]`);
  }
}

/** 2-D convolution as torch.nn.functional.conv2d: x [N,Cin,H,W], w [Cout,Cin,kh,kw], b [Cout]. */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  assertTensor(op, 'input', x);
  assertTensor(op, 'weight', w);
  const s = pair(op, 'stride', opts.stride, 1, 1);
  const p = pair(op, 'padding', opts.padding, 0, 0);
  checkArgs(op, x, w, b, w.shape[1]!, w.shape[0]!, '[out,in,kh,kw]');
  const [, , H, W] = x.shape as [number, number, number, number];
  const [CO, , KH, KW] = w.shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * p[0] - KH) / s[0]) + 1;
  const OW = Math.floor((W + 2 * p[1] - KW) / s[1]) + 1;
  if (OH < 1 || OW < 1) throw new WgslgradError(op, `input ${fmtShape(x.shape)} with padding ${p} is smaller than the kernel ${KH}×${KW}`);
  const g = geometry(x.shape, CO, OH, OW, KH, KW, s, p);
  const epi = fusedActivation(op, opts);
  const y = convRaw(false, x, w, b ?? null, g, epi);
  const inputs = b ? [x, w, b] : [x, w];
  return recordInto(y, epi.name ? `${op}+${epi.name}` : op, inputs, (g0, [dx, dw, db], acc, outs) => {
    // through the activation, with the bias's gradient in the same kernel
    const { g: gy, db: gb } = backThroughEpilogue(g0, y, epi, db ? [0, 2, 3] : null, acc[2] ?? null, outs[2] ?? null);
    return [
      // input grad: a transposed convolution of gy with w (w [CO,CI,..] read as convT weight [in=CO,out=CI])
      dx ? convRaw(true, gy, w, null, flipped(g)) : null,
      // the weight and bias gradients take in what the sweep has accumulated for them so far
      dw ? foldedGrad(weightGradRaw(gy, x, KH, KW, s, p, acc[1] ?? null, outs[1] ?? null), acc[1]) : null,
      gb,
    ].slice(0, inputs.length);
  });
}

/** Transposed 2-D convolution as torch's conv_transpose2d: x [N,Cin,H,W], w [Cin,Cout,kh,kw], b [Cout]. */
export function convTranspose2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  assertTensor(op, 'input', x);
  assertTensor(op, 'weight', w);
  const s = pair(op, 'stride', opts.stride, 1, 1);
  const p = pair(op, 'padding', opts.padding, 0, 0);
  const outPad = pair(op, 'outputPadding', opts.outputPadding, 0, 0);
  if (outPad[0] >= s[0] || outPad[1] >= s[1]) throw new WgslgradError(op, `outputPadding ${outPad} must be smaller than stride ${s}`);
  checkArgs(op, x, w, b, w.shape[0]!, w.shape[1]!, '[in,out,kh,kw]');
  const [, , H, W] = x.shape as [number, number, number, number];
  const [, CO, KH, KW] = w.shape as [number, number, number, number];
  const OH = (H - 1) * s[0] - 2 * p[0] + KH + outPad[0];
  const OW = (W - 1) * s[1] - 2 * p[1] + KW + outPad[1];
  if (OH < 1 || OW < 1)
    throw new WgslgradError(op, `output size ${OH}×${OW} from input ${fmtShape(x.shape)}, kernel ${KH}×${KW}, stride ${s}, padding ${p} is not positive`);
  const g = geometry(x.shape, CO, OH, OW, KH, KW, s, p);
  const epi = fusedActivation(op, opts);
  const y = convRaw(true, x, w, b ?? null, g, epi);
  const inputs = b ? [x, w, b] : [x, w];
  return recordInto(y, epi.name ? `${op}+${epi.name}` : op, inputs, (g0, [dx, dw, db], acc, outs) => {
    const { g: gy, db: gb } = backThroughEpilogue(g0, y, epi, db ? [0, 2, 3] : null, acc[2] ?? null, outs[2] ?? null);
    return [
      // input grad: a convolution of gy with w (w [CI,CO,..] read as conv weight [out=CI,in=CO])
      dx ? convRaw(false, gy, w, null, flipped(g)) : null,
      dw ? foldedGrad(weightGradRaw(x, gy, KH, KW, s, p, acc[1] ?? null, outs[1] ?? null), acc[1]) : null,
      gb,
    ].slice(0, inputs.length);
  });
}
