// Every kernel file's parameter block, declared once. Binding 0 of a kernel is a block of 48 u32
// and 16 f32 (shaders/common.wgsl); a field takes the next slot of its kind, an array field the
// next `length` slots. From this table the WGSL gets accessors (p_name(), p_name(d) for an array
// and P_name, its first slot) and dispatches give values by name ({ name: value }), so the two
// sides cannot disagree on an order. Entries of one file share its block; each uses its fields.
import { WgslgradError } from '../errors.js';

type Field = string | readonly [name: string, length: number];
interface Layout {
  readonly u: readonly Field[];
  readonly f: readonly Field[];
  /**
   * A kernel file compiled after another's declarations and helpers (that file's entry points left
   * out): the software adapters' variants of a family (shaders/software/) share its bindings and
   * functions this way, and its parameters.
   */
  readonly base?: string;
}

/** Dims of a strided view (broadcasting, reductions, gathers), innermost last. */
export const MAX_DIMS = 6;

/** A convolution's geometry: input N×CI×H×W, output CO×OH×OW, kernel KH×KW, stride, padding. */
const GEO = ['N', 'CI', 'H', 'W', 'CO', 'OH', 'OW', 'KH', 'KW', 'SH', 'SW', 'PH', 'PW'] as const;
/**
 * C[b] = op(A[b])·op(B[b]): M×N outputs, inner size K; batch strides of A, B and C (0 = broadcast);
 * LD the row stride of an operand stored along K; chunkK the split-K chunk length (0 = none).
 */
const MATMUL = { u: ['M', 'N', 'K', 'strideA', 'strideB', 'strideC', 'LD', 'chunkK'], f: ['slope'] } as const;
const ACTIVATION = { u: ['n'], f: ['slope'] } as const;
// bc1 = 1 − β1^t, bc2sqrt = sqrt(1 − β2^t)
const ADAM = { u: ['n'], f: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'bc1', 'bc2sqrt'] } as const;
const BATCHNORM = { u: ['N', 'C', 'S'], f: ['momentum', 'eps', 'slope'] } as const;
// nOut sums of R terms; kept and reduced dims with their input strides; chunkLen for split sums
const REDUCE = {
  u: ['nOut', 'R', 'keptNd', 'redNd', ['keptSizes', MAX_DIMS], ['keptStrides', MAX_DIMS], ['redSizes', MAX_DIMS], ['redStrides', MAX_DIMS], 'chunkLen'],
  f: ['scale', 'slope'],
} as const;

export const LAYOUTS = {
  activation: ACTIVATION,
  // BH = B·H heads of TQ query rows and TK key rows; each of Q, K, V, O (and their gradients) found
  // by an offset and strides per batch, head and row; the scores' scale
  attention: {
    u: ['BH', 'H', 'TQ', 'TK', 'qOff', 'qB', 'qH', 'qT', 'kOff', 'kB', 'kH', 'kT', 'vOff', 'vB', 'vH', 'vT', 'oOff', 'oB', 'oH', 'oT'],
    f: ['scale'],
  },
  // rows = outer · inner rows of D values, `inner` apart (as softmax)
  argmax: { u: ['rows', 'D', 'inner'], f: [] },
  adam: ADAM,
  batchnorm: BATCHNORM,
  bce: { u: ['n'], f: [] },
  // forward: GEO; weight_grad: D[A, B, KH, KW] from G [N, A, GH, GW] and X [N, B, XH, XW], the batch
  // sum in chunks of `chunk` images
  conv: { u: [...GEO, 'A', 'GH', 'GW', 'B', 'XH', 'XW', 'chunk'], f: ['slope'] },
  // the weight gradient's GEMM operands: columns of X [N, B, XH, XW], and G [N, A, GH, GW] as [A, N·GH·GW]
  conv_transpose: { u: GEO, f: ['slope'] },
  // fill: value a; rand: [a, b); randn: mean a, std b; the stream's key (k0, k1)
  creation: { u: ['n', 'k0', 'k1'], f: ['a', 'b'] },
  // N·S rows of C classes (input [N, C, S…]); the ignored class index, the label smoothing
  cross_entropy: { u: ['N', 'C', 'S'], f: ['ignore', 'smoothing'] },
  dropout: { u: ['n', 'k0', 'k1'], f: ['p'] },
  // binary with broadcasting: the output's nd dims and each operand's strides (0 on broadcast dims)
  // (where: a third operand's strides sc); unary ops with parameters read s (pow's exponent, clamp's min) and s2 (clamp's max)
  elementwise: { u: ['n', 'nd', ['dims', MAX_DIMS], ['sa', MAX_DIMS], ['sb', MAX_DIMS], ['sc', MAX_DIMS], 'scalarFirst'], f: ['s', 's2'] },
  embedding: { u: ['B', 'V', 'D'], f: [] },
  // M rows of D values; eps
  layernorm: { u: ['M', 'D'], f: ['eps'] },
  matmul: MATMUL,
  matmul_tiled: MATMUL,
  // NC planes of H × W pooled to OH × OW, kernel KH × KW, stride, padding
  pool: { u: ['NC', 'H', 'W', 'OH', 'OW', 'KH', 'KW', 'SH', 'SW', 'PH', 'PW'], f: [] },
  reduce: REDUCE,
  // rows = outer · inner rows of D values, `inner` apart
  softmax: { u: ['rows', 'D', 'inner'], f: [] },
  sgd: { u: ['n', 'firstStep'], f: ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'] },
  // permute: a strided gather of n elements (nd dims, sizes, strides, from `base`) times scale;
  // scatter: its inverse (into zeros); copy_slice: outer rows of len floats from src (row stride,
  // offset) to dst;
  // index_select / index_add: [outer, D, inner] indexed along D by K indices
  shape: {
    u: ['n', 'nd', ['sizes', MAX_DIMS], ['strides', MAX_DIMS], 'outer', 'len', 'srcRow', 'srcOff', 'dstRow', 'dstOff', 'base', 'D', 'inner', 'K'],
    f: ['scale'],
  },
  // the software adapters' variants (shaders/software/, src/gpu/variants/software.ts)
  'software/activation4': ACTIVATION,
  'software/adam4': ADAM,
  'software/batchnorm4': { ...BATCHNORM, base: 'batchnorm' },
  // the weight gradient's GEMM operands: columns of X [N, B, XH, XW], and G [N, A, GH, GW] as [A, N·GH·GW]
  'software/conv_cols': { u: ['N', 'A', 'B', 'XH', 'XW', 'GH', 'GW', 'KH', 'KW', 'SH', 'SW', 'PH', 'PW'], f: [] },
  'software/conv_rows': { u: GEO, f: ['slope'] },
  'software/conv_transpose_rows': { u: GEO, f: ['slope'], base: 'conv_transpose' },
  'software/matmul4': { ...MATMUL, base: 'matmul' },
  'software/reduce4': { ...REDUCE, base: 'reduce' },
} as const satisfies Record<string, Layout>;

/** The kernel file whose declarations a file is compiled after, if any (Layout.base). */
export function baseOf(file: string): string | null {
  return (LAYOUTS as Record<string, Layout>)[file]?.base ?? null;
}

export type KernelFile = keyof typeof LAYOUTS;

type NameOf<F> = F extends string ? F : F extends readonly [infer N, number] ? N : never;
/** The parameter names of a kernel file. */
export type ParamName<K extends KernelFile> = NameOf<(typeof LAYOUTS)[K]['u'][number] | (typeof LAYOUTS)[K]['f'][number]>;
/** A dispatch's parameters by name: a number, or the values of an array field. Unnamed fields are 0. */
export type ParamValues<K extends KernelFile> = { readonly [P in ParamName<K>]?: number | ArrayLike<number> };

/** Where a field lives: u32 or f32 slots, the first slot, how many. */
export interface Slot {
  f32: boolean;
  at: number;
  length: number;
}

export const U32_SLOTS = 48;
export const F32_SLOTS = 16;

function slots(file: string, layout: Layout): Map<string, Slot> {
  const out = new Map<string, Slot>();
  for (const f32 of [false, true]) {
    let at = 0;
    for (const field of f32 ? layout.f : layout.u) {
      const [name, length] = typeof field === 'string' ? [field, 1] : field;
      if (out.has(name)) throw new WgslgradError('layouts', `${file}: parameter ${name} declared twice`);
      out.set(name, { f32, at, length });
      at += length;
    }
    if (at > (f32 ? F32_SLOTS : U32_SLOTS))
      throw new WgslgradError('layouts', `${file}: ${at} ${f32 ? 'f32' : 'u32'} parameters, at most ${f32 ? F32_SLOTS : U32_SLOTS}`);
  }
  return out;
}

const SLOTS = new Map<string, Map<string, Slot>>(Object.entries(LAYOUTS).map(([file, l]) => [file, slots(file, l)]));

/** The slots of a kernel file's parameters. */
export function slotsOf(file: string): Map<string, Slot> {
  const s = SLOTS.get(file);
  if (!s) throw new WgslgradError('layouts', `no parameter layout for ${file}.wgsl in src/gpu/layouts.ts`);
  return s;
}

/** The WGSL accessors of a kernel file's parameters, prepended to its source. */
export function wgslAccessors(file: string): string {
  let s = '';
  for (const [name, { f32, at, length }] of slotsOf(file)) {
    const read = f32 ? 'pf' : 'pu';
    const type = f32 ? 'f32' : 'u32';
    if (length === 1) s += `fn p_${name}() -> ${type} { return ${read}(${at}u); }\n`;
    else s += `const P_${name}: u32 = ${at}u;\nfn p_${name}(d: u32) -> ${type} { return ${read}(${at}u + d); }\n`;
  }
  return s;
}
