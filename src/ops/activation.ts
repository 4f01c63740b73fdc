// relu, leakyRelu, tanh, sigmoid and their gradients. Kernels: the activation tables'
// (src/gpu/variants; shaders/activation.wgsl: the activation itself is act_value in
// shaders/common.wgsl, which the fused epilogues of matmul, convolution and batchnorm call too).
// CPU reference: src/cpu/activation.ts.
import { foldedGrad, record } from '../autograd/tape.js';
import { WgslgradError } from '../errors.js';
import { deviceFacts } from '../gpu/device.js';
import { dispatch, pipeline } from '../gpu/engine.js';
import { planActivation } from '../gpu/variants/index.js';
import { Tensor } from '../tensor.js';
import { actGradSum, sumAdd } from './reduce.js';
import { assertTensor } from './util.js';

/** act_value's code of each activation (0 is none; shaders/common.wgsl). */
export const ACT_CODE = { relu: 1, leakyRelu: 2, tanh: 3, sigmoid: 4, gelu: 5, geluTanh: 6, silu: 7 } as const;
export type ActName = keyof typeof ACT_CODE;
/** The activations a kernel can apply where it stores its output: their gradients read that output (gelu's and silu's need the input). */
export const FUSABLE = ['relu', 'leakyRelu', 'tanh', 'sigmoid'] as const;
export type FusableName = (typeof FUSABLE)[number];

/** An activation fused into the op that makes its input (linear, conv2d, convTranspose2d). */
export interface FusedActivation {
  /** the activation applied where the op stores its output, in the same kernel (default none) */
  activation?: FusableName | null;
  /** leakyRelu's negative slope (≥ 0 when fused: the gradient reads the output's sign) */
  slope?: number;
}

/** The fused activation's code and slope, checked; code 0 when there is none. */
export function fusedActivation(op: string, o: FusedActivation | undefined): { code: number; slope: number; name: FusableName | null } {
  const name = o?.activation ?? null;
  if (name === null) return { code: 0, slope: 0, name };
  if (!(FUSABLE as readonly string[]).includes(name))
    throw new WgslgradError(op, `activation must be one of ${FUSABLE.join(', ')}, got ${JSON.stringify(name)}`);
  const slope = o?.slope ?? 0.01;
  if (name === 'leakyRelu' && !(typeof slope === 'number' && slope >= 0 && Number.isFinite(slope)))
    throw new WgslgradError(op, `a fused leakyRelu needs a finite slope ≥ 0, got ${slope}`);
  return { code: ACT_CODE[name], slope: name === 'leakyRelu' ? slope : 0, name };
}

/** An activation applied where a kernel stores its output (act_value's code; 0 none). */
export type Epilogue = ReturnType<typeof fusedActivation>;
export const NO_EPILOGUE: Epilogue = { code: 0, slope: 0, name: null };

/** y = act(x), no autograd. */
export function activationRaw(name: ActName, x: Tensor, slope = 0): Tensor {
  const y = Tensor.empty(x.shape);
  if (!y.size) return y;
  const plan = planActivation(deviceFacts(), { n: y.size }, false);
  dispatch(pipeline(plan.kernel, plan.entry, { ACT: ACT_CODE[name] }), [x.binding, y.binding], { n: y.size, slope }, plan.groups);
  return y;
}

/** g · act'(…) from `saved`: the input for relu and leakyRelu (or the output, when slope ≥ 0), the output for tanh and sigmoid. */
export function activationGradRaw(name: ActName, g: Tensor, saved: Tensor, slope = 0): Tensor {
  const gx = Tensor.empty(g.shape);
  if (!gx.size) return gx;
  const plan = planActivation(deviceFacts(), { n: gx.size }, true);
  dispatch(pipeline(plan.kernel, plan.entry, { ACT: ACT_CODE[name] }), [g.binding, saved.binding, gx.binding], { n: gx.size, slope }, plan.groups);
  return gx;
}

/**
 * The backward of an op with a fused activation (`epi`) from its output `y`: the gradient before
 * the activation and, with `biasDims`, its sum over them (the bias's gradient) plus `acc` (what the
 * sweep has accumulated for the bias, folded in: foldedGrad), both from one kernel when there is
 * an activation. The bias's gradient is written into `dbOut` when given (the sweep's `outs`).
 */
export function backThroughEpilogue(
  g: Tensor,
  y: Tensor,
  epi: Epilogue,
  biasDims: number[] | null,
  acc: Tensor | null,
  dbOut: Tensor | null = null,
): { g: Tensor; db: Tensor | null } {
  if (epi.name && biasDims) {
    const r = actGradSum(g, y, epi.code, epi.slope, biasDims, acc, dbOut);
    return { g: r.gx, db: foldedGrad(r.sum, acc) };
  }
  const gy = epi.name ? activationGradRaw(epi.name, g, y, epi.slope) : g;
  return { g: gy, db: biasDims ? foldedGrad(sumAdd(gy, biasDims, acc, dbOut), acc) : null };
}

function activation(name: ActName, x: Tensor, slope = 0): Tensor {
  assertTensor(name, 'input', x);
  const y = activationRaw(name, x, slope);
  // tanh and sigmoid differentiate from the output, the others from the input
  const saved = name === 'tanh' || name === 'sigmoid' ? y : x;
  return record(y, name, [x], (g) => [activationGradRaw(name, g, saved, slope)]);
}

/** max(x, 0) (torch.relu). */
export const relu = (x: Tensor): Tensor => activation('relu', x);
/** tanh(x) (torch.tanh). */
export const tanh = (x: Tensor): Tensor => activation('tanh', x);
/** 1 / (1 + e⁻ˣ) (torch.sigmoid). */
export const sigmoid = (x: Tensor): Tensor => activation('sigmoid', x);
/** x for x ≥ 0, slope·x below (torch.nn.functional.leaky_relu; default slope 0.01). */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  if (typeof slope !== 'number' || !Number.isFinite(slope)) throw new WgslgradError('leakyRelu', `slope must be a finite number, got ${slope}`);
  return activation('leakyRelu', x, slope);
}

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** 'none' (erf, PyTorch's default) or 'tanh' (the tanh approximation) */
  approximate?: 'none' | 'tanh';
}

/** GELU as torch.nn.functional.gelu: x·Φ(x), or with approximate 'tanh' 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const a = opts.approximate ?? 'none';
  if (a !== 'none' && a !== 'tanh') throw new WgslgradError('gelu', `approximate must be 'none' or 'tanh', got ${JSON.stringify(a)}`);
  return activation(a === 'tanh' ? 'geluTanh' : 'gelu', x);
}

/** SiLU (swish) as torch.nn.functional.silu: x·sigmoid(x). */
export const silu = (x: Tensor): Tensor => activation('silu', x);
