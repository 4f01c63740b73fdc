// conv2d and convTranspose2d (NCHW, PyTorch weight layouts), forward and the three gradients.
// Three kernels serve both ops: conv.wgsl `forward` (conv forward = convT input grad),
// conv_transpose.wgsl `main` (convT forward = conv input grad) and conv.wgsl `weight_grad`. On
// software adapters conv_rows.wgsl `forward_rows` takes the first's 4-wide kernels,
// conv_transpose.wgsl `main_few` the second's 4×4 stride-2 ones to 1-4 channels and `main_rows`
// those to 8 or more, and the weight gradient runs as one GEMM over the input's columns
// (conv_cols.wgsl, matmul.wgsl) (src/gpu/planner.ts).
// CPU reference: src/cpu/conv.ts.

import { type Pair, pair } from '../args.js';
import { foldedGrad, record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { deviceFacts } from '../gpu/device.js';
import { type Binding, dispatch, groups1d, pipeline, placeholder } from '../gpu/engine.js';
import {
  blockGroups,
  convBlock,
  MAX_GROUPS_PER_DIM,
  planConvRows,
  planConvTransposeFew,
  planConvTransposeRows,
  planWeightGrad,
  planWeightGradGemm,
} from '../gpu/planner.js';
import { Tensor } from '../tensor.js';
import { backThroughEpilogue, type FusedActivation, fusedActivation, NO_EPILOGUE } from './activation.js';
import { matmulRaw } from './matmul.js';
import { sumAdd } from './reduce.js';
import { assertTensor } from './util.js';

export interface Conv2dOptions extends FusedActivation {
  stride?: Pair;
  padding?: Pair;
}
export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: Pair;
}

/** Geometry shared by the kernels: input grid, output grid, kernel, stride, padding. */
interface Geo {
  N: number;
  CI: number;
  H: number;
  W: number;
  CO: number;
  OH: number;
  OW: number;
  KH: number;
  KW: number;
  s: [number, number];
  p: [number, number];
}
/** The kernels' parameter block for a geometry. */
const geoParams = (g: Geo) => ({
  N: g.N,
  CI: g.CI,
  H: g.H,
  W: g.W,
  CO: g.CO,
  OH: g.OH,
  OW: g.OW,
  KH: g.KH,
  KW: g.KW,
  SH: g.s[0],
  SW: g.s[1],
  PH: g.p[0],
  PW: g.p[1],
});

/**
 * conv_rows.wgsl and conv_transpose.wgsl's `main_few` and `main_rows` read their input (and the
 * latter two their weights) as vec4s: the binding rounded up to 16 bytes, or null where its buffer
 * ends first (the other kernels run then).
 */
function vec4Binding(x: Tensor): Binding | null {
  const b = x.binding;
  if (!('buffer' in b)) return null;
  const size = Math.ceil(b.size / 16) * 16;
  return b.offset + size <= b.buffer.size ? { ...b, size } : null;
}

/** Y[N,CO,OH,OW] = conv(X[N,CI,H,W], W[CO,CI,KH,KW]) (+ bias). */
function convForwardRaw(x: Tensor, w: Tensor, bias: Tensor | null, g: Geo, epi = NO_EPILOGUE): Tensor {
  const y = Tensor.empty([g.N, g.CO, g.OH, g.OW]);
  if (y.size === 0) return y;
  const bindings = [x.binding, w.binding, y.binding, bias ? bias.binding : placeholder()];
  const rows = planConvRows(deviceFacts(), { CO: g.CO, KW: g.KW, SW: g.s[1], OW: g.OW });
  // one lane per TN pixels of an output row, TM channels a workgroup row
  const lanes = rows ? g.N * g.OH * Math.ceil(g.OW / rows.TN) : 0;
  const x16 = rows ? vec4Binding(x) : null;
  if (rows && x16 && Math.ceil(lanes / rows.WGX) <= MAX_GROUPS_PER_DIM) {
    dispatch(
      pipeline('conv_rows', 'forward_rows', { ...rows, SG: true, BIAS: bias !== null, EPI: epi.code }),
      [x16, ...bindings.slice(1)],
      { ...geoParams(g), slope: epi.slope },
      [Math.ceil(lanes / rows.WGX), Math.ceil(g.CO / rows.TM), 1],
    );
    return y;
  }
  const t = convBlock(deviceFacts(), g.CO);
  const P = g.N * g.OH * g.OW;
  dispatch(pipeline('conv', 'forward', { ...t, BIAS: bias !== null, EPI: epi.code, ADDC: false }), bindings, { ...geoParams(g), slope: epi.slope }, [
    ...blockGroups(t, P, g.CO),
    1,
  ]);
  return y;
}

/** Y[N,CO,OH,OW] = convT(X[N,CI,H,W], W[CI,CO,KH,KW]) (+ bias), output size given. */
function convTransposeRaw(x: Tensor, w: Tensor, bias: Tensor | null, g: Geo, epi = NO_EPILOGUE): Tensor {
  const y = Tensor.empty([g.N, g.CO, g.OH, g.OW]);
  if (y.size === 0) return y;
  const few = planConvTransposeFew(deviceFacts(), { CO: g.CO, KH: g.KH, KW: g.KW, SH: g.s[0], SW: g.s[1], OW: g.OW, PH: g.p[0], PW: g.p[1] });
  const x16 = few ? vec4Binding(x) : null;
  const w16 = few ? vec4Binding(w) : null;
  // one lane per 4 output rows × TN columns, every channel
  const lanes = few ? g.N * Math.ceil((g.OH + g.p[0]) / 4) * Math.ceil((g.OW + g.p[1]) / few.TN) : 0;
  if (few && x16 && w16 && Math.ceil(lanes / few.WGX) <= MAX_GROUPS_PER_DIM) {
    dispatch(
      pipeline('conv_transpose', 'main_few', { ...few, BIAS: bias !== null, EPI: epi.code }),
      [x16, w16, y.binding, bias ? bias.binding : placeholder()],
      { ...geoParams(g), slope: epi.slope },
      [Math.ceil(lanes / few.WGX), 1, 1],
    );
    return y;
  }
  const rows = planConvTransposeRows(deviceFacts(), { CO: g.CO, KH: g.KH, KW: g.KW, SH: g.s[0], SW: g.s[1], OW: g.OW, PW: g.p[1] });
  const rx16 = rows ? vec4Binding(x) : null;
  const rw16 = rows ? vec4Binding(w) : null;
  // one lane per TC columns of an output row, TM channels a workgroup row, the rows of one parity a z-slice
  const rowLanes = rows ? g.N * Math.ceil(g.OH / 2) * Math.ceil(g.OW / rows.TC) : 0;
  if (rows && rx16 && rw16 && Math.ceil(rowLanes / rows.WGX) <= MAX_GROUPS_PER_DIM) {
    dispatch(
      pipeline('conv_transpose', 'main_rows', { ...rows, SG: true, BIAS: bias !== null, EPI: epi.code }),
      [rx16, rw16, y.binding, bias ? bias.binding : placeholder()],
      { ...geoParams(g), slope: epi.slope },
      [Math.ceil(rowLanes / rows.WGX), Math.ceil(g.CO / rows.TM), 2],
    );
    return y;
  }
  const t = convBlock(deviceFacts(), g.CO);
  // one z-slice per stride-parity class, each a GEMM over its output positions
  const classP = g.N * Math.ceil(g.OH / g.s[0]) * Math.ceil(g.OW / g.s[1]);
  dispatch(
    pipeline('conv_transpose', 'main', { ...t, BIAS: bias !== null, EPI: epi.code }),
    [x.binding, w.binding, y.binding, bias ? bias.binding : placeholder()],
    { ...geoParams(g), slope: epi.slope },
    [...blockGroups(t, classP, g.CO), g.s[0] * g.s[1]],
  );
  return y;
}

/** A weight gradient's sizes, strides and paddings: the parameters of conv.weight_grad and conv_cols.columns. */
interface WeightGradGeometry {
  N: number;
  A: number;
  GH: number;
  GW: number;
  B: number;
  XH: number;
  XW: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  PH: number;
  PW: number;
}

/**
 * D[A,B,KH,KW] = Σ G[n,a,gh,gw]·X[n,b,gh·s−p+kh, gw·s−p+kw]; G is [N,A,GH,GW], X is [N,B,XH,XW];
 * plus `addend` (D's shape: a gradient accumulated so far) in the same kernels when given; written
 * into `out` (D's shape) when given.
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
  const geo: WeightGradGeometry = { N, A, GH, GW, B, XH, XW, KH, KW, SH: s[0], SW: s[1], PH: p[0], PW: p[1] };
  if (planWeightGradGemm(deviceFacts(), { A, cols: B * KH * KW, K: N * GH * GW })) return weightGradGemm(gT, xT, geo, addend, out);
  const plan = planWeightGrad(deviceFacts(), { N, A, cols: B * KH * KW });
  const { chunk, chunks } = plan;
  const d = chunks === 1 && out ? out : Tensor.empty(chunks > 1 ? [chunks, A, B, KH, KW] : [A, B, KH, KW]);
  if (d.size === 0) return d;
  const add1 = chunks === 1 ? addend : null;
  dispatch(
    pipeline('conv', 'weight_grad', { ...plan.block, BIAS: false, EPI: 0, ADDC: add1 !== null }),
    [gT.binding, xT.binding, d.binding, add1 ? add1.binding : placeholder()],
    { ...geo, chunk },
    plan.groups,
  );
  if (chunks === 1) return d;
  const total = sumAdd(d, [0], addend, out);
  d.dispose();
  return total;
}

/**
 * weightGradRaw as one GEMM (planWeightGradGemm): G as [A, N·GH·GW] (its first two dims swapped)
 * times the columns of X, [B·KH·KW, N·GH·GW], transposed: matmul's x·Wᵀ, with the addend added in
 * its kernel. conv_cols.wgsl writes both operands in one dispatch.
 */
function weightGradGemm(gT: Tensor, xT: Tensor, geo: WeightGradGeometry, addend: Tensor | null, out: Tensor | null): Tensor {
  const { N, A, GH, GW, B, KH, KW } = geo;
  const K = N * GH * GW;
  const cols = B * KH * KW;
  const col = Tensor.empty([cols, K]);
  const gp = Tensor.empty([A, K]);
  dispatch(pipeline('conv_cols', 'columns'), [xT.binding, col.binding, gT.binding, gp.binding], geo, groups1d((cols + A) * N, 64));
  const add2 = addend ? addend.alias([A, cols]) : null;
  const out2 = out ? out.alias([A, cols]) : null;
  const d2 = matmulRaw(gp, col, false, true, null, 'conv weight gradient', NO_EPILOGUE, add2, out2);
  const d = out ?? d2.alias([A, B, KH, KW]);
  for (const t of [col, gp, add2, d2]) t?.dispose();
  return d;
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
  const [N, CI, H, W] = x.shape as [number, number, number, number];
  const [CO, , KH, KW] = w.shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * p[0] - KH) / s[0]) + 1;
  const OW = Math.floor((W + 2 * p[1] - KW) / s[1]) + 1;
  if (OH < 1 || OW < 1) throw new WgslgradError(op, `input ${fmtShape(x.shape)} with padding ${p} is smaller than the kernel ${KH}×${KW}`);
  const g: Geo = { N, CI, H, W, CO, OH, OW, KH, KW, s, p };
  const epi = fusedActivation(op, opts);
  const y = convForwardRaw(x, w, b ?? null, g, epi);
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, epi.name ? `${op}+${epi.name}` : op, inputs, (g0, [dx, dw, db], acc, outs) => {
    // through the activation, with the bias's gradient in the same kernel
    const { g: gy, db: gb } = backThroughEpilogue(g0, y, epi, db ? [0, 2, 3] : null, acc[2] ?? null, outs[2] ?? null);
    return [
      // input grad: a transposed convolution of gy with w (w [CO,CI,..] read as convT weight [in=CO,out=CI])
      dx ? convTransposeRaw(gy, w, null, { N, CI: CO, H: OH, W: OW, CO: CI, OH: H, OW: W, KH, KW, s, p }) : null,
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
  const [N, CI, H, W] = x.shape as [number, number, number, number];
  const [, CO, KH, KW] = w.shape as [number, number, number, number];
  const OH = (H - 1) * s[0] - 2 * p[0] + KH + outPad[0];
  const OW = (W - 1) * s[1] - 2 * p[1] + KW + outPad[1];
  if (OH < 1 || OW < 1)
    throw new WgslgradError(op, `output size ${OH}×${OW} from input ${fmtShape(x.shape)}, kernel ${KH}×${KW}, stride ${s}, padding ${p} is not positive`);
  const epi = fusedActivation(op, opts);
  const y = convTransposeRaw(x, w, b ?? null, { N, CI, H, W, CO, OH, OW, KH, KW, s, p }, epi);
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, epi.name ? `${op}+${epi.name}` : op, inputs, (g0, [dx, dw, db], acc, outs) => {
    const { g: gy, db: gb } = backThroughEpilogue(g0, y, epi, db ? [0, 2, 3] : null, acc[2] ?? null, outs[2] ?? null);
    return [
      // input grad: a convolution of gy with w (w [CI,CO,..] read as conv weight [out=CI,in=CO])
      dx ? convForwardRaw(gy, w, null, { N, CI: CO, H: OH, W: OW, CO: CI, OH: H, OW: W, KH, KW, s, p }) : null,
      dw ? foldedGrad(weightGradRaw(x, gy, KH, KW, s, p, acc[1] ?? null, outs[1] ?? null), acc[1]) : null,
      gb,
    ].slice(0, inputs.length);
  });
}
