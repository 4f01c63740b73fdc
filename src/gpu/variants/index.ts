// The kernel variant tables: for each op's kernel, its variants in order of preference (the first
// that is on, runs on this device and can compute the problem is dispatched; the last computes any
// problem anywhere). A new variant is one entry here and one in portable.ts or software.ts; the op
// dispatches whatever its table chooses, and test/variants.test.ts runs every entry forced.
import type { DeviceFacts, MatmulShape } from '../planner.js';
import { declareVariants, type Tuning, tuning } from '../tuning.js';
import * as P from './portable.js';
import type { ConvPlan, ConvShape, ElementsShape, MatmulPlan, NormShape, SumPlan, SumShape, WeightGradPlan, WeightGradShape } from './shapes.js';
import * as S from './software.js';
import { type Chosen, choose, type Plan, type Variant, variantId } from './table.js';

export type { ConvPlan, ConvShape, MatmulPlan, SumPlan, WeightGradPlan } from './shapes.js';
export { planConvRows, planConvTransposeFew, planConvTransposeRows, VEC4_BLOCK } from './software.js';
export { type Chosen, forcing, type Plan, type Variant, variantId, type Where } from './table.js';

export const TABLES = {
  /** C = op(A)·op(B): matmul, linear, the conv weight gradient's GEMM */
  matmul: [P.MATMUL_DOT_ROWS4, P.MATMUL_DOT_ROWS, P.MATMUL_TILED, S.MATMUL_VEC4, S.MATMUL_K4, P.MATMUL_MAIN] as Variant<MatmulShape, MatmulPlan>[],
  /** a conv's forward, a transposed conv's input gradient */
  convForward: [S.CONV_ROWS, P.CONV_FORWARD_MAIN] as Variant<ConvShape, ConvPlan>[],
  /** a transposed conv's forward, a conv's input gradient */
  convTranspose: [S.CONV_TRANSPOSE_FEW, S.CONV_TRANSPOSE_ROWS, P.CONV_TRANSPOSE_MAIN] as Variant<ConvShape, ConvPlan>[],
  /** both convs' weight gradient */
  weightGrad: [S.WEIGHT_GRAD_GEMM, P.WEIGHT_GRAD_MAIN] as Variant<WeightGradShape, WeightGradPlan>[],
  /** batchnorm's training forward (statistics, normalisation, running statistics) */
  batchNorm: [S.BN_FORWARD4, S.BN_FORWARD_COLS4, P.BN_FORWARD_COLS, P.BN_FORWARD_MAIN] as Variant<NormShape>[],
  /** batchnorm's backward (input, weight and bias gradients) */
  batchNormBackward: [S.BN_BACKWARD4, S.BN_BACKWARD_COLS4, P.BN_BACKWARD_COLS, P.BN_BACKWARD_MAIN] as Variant<NormShape>[],
  /** relu, leakyRelu, tanh, sigmoid */
  activation: [S.ACT4, P.ACT_MAIN] as Variant<ElementsShape>[],
  /** their gradients */
  activationGrad: [S.ACT_GRAD4, P.ACT_GRAD_MAIN] as Variant<ElementsShape>[],
  /** sum and mean over dims, bias gradients (with a fused activation's gradient) */
  sum: [P.SUM_THREAD, S.SUM_WG4, P.SUM_WG] as Variant<SumShape, SumPlan>[],
  /** the Adam update over an optimiser's flat buffers */
  adam: [S.ADAM4, P.ADAM_MAIN] as Variant<ElementsShape>[],
} as const;

export type TableName = keyof typeof TABLES;

declareVariants(Object.values(TABLES).flatMap((t: ReadonlyArray<Variant<never>>) => t.map(variantId)));

/** The plan table `name` chooses for problem `s` on a device with facts `f` (under the tuning in force). */
function plan<K extends TableName>(name: K, f: DeviceFacts, s: Parameters<(typeof TABLES)[K][number]['plan']>[0], t: Readonly<Tuning> = tuning()) {
  type R = ReturnType<(typeof TABLES)[K][number]['plan']>;
  return choose(name, TABLES[name] as ReadonlyArray<Variant<typeof s, Plan>>, s, f, t) as Chosen<NonNullable<R>>;
}

export const planMatmul = (f: DeviceFacts, s: MatmulShape, t?: Readonly<Tuning>) => plan('matmul', f, s, t);
export const planConvForward = (f: DeviceFacts, s: ConvShape, t?: Readonly<Tuning>) => plan('convForward', f, s, t);
export const planConvTranspose = (f: DeviceFacts, s: ConvShape, t?: Readonly<Tuning>) => plan('convTranspose', f, s, t);
export const planWeightGradient = (f: DeviceFacts, s: WeightGradShape, t?: Readonly<Tuning>) => plan('weightGrad', f, s, t);
export const planBatchNorm = (f: DeviceFacts, s: NormShape, backward: boolean, t?: Readonly<Tuning>) =>
  plan(backward ? 'batchNormBackward' : 'batchNorm', f, s, t);
export const planActivation = (f: DeviceFacts, s: ElementsShape, grad: boolean, t?: Readonly<Tuning>) => plan(grad ? 'activationGrad' : 'activation', f, s, t);
export const planSumKernel = (f: DeviceFacts, s: SumShape, t?: Readonly<Tuning>) => plan('sum', f, s, t);
export const planAdam = (f: DeviceFacts, s: ElementsShape, t?: Readonly<Tuning>) => plan('adam', f, s, t);

/** Every variant of every table, with the table it is in (for tests and the architecture guide). */
export function allVariants(): Array<{ table: TableName; variant: Variant<unknown> }> {
  return (Object.entries(TABLES) as Array<[TableName, ReadonlyArray<Variant<unknown>>]>).flatMap(([table, vs]) => vs.map((variant) => ({ table, variant })));
}
