// The problems the variant tables plan for, and what their plans carry besides a kernel, its
// constants and its workgroups.
import type { Plan } from './table.js';

export type { MatmulShape } from '../planner.js';

/** C = op(A)·op(B) as a blocked, tiled or one-row-a-workgroup kernel covers it. */
export interface MatmulPlan extends Plan {
  /** Cᵀ = op(B)ᵀ·op(A)ᵀ computed and stored transposed (too few columns to fill a workgroup's lanes) */
  swap: boolean;
  /** split-K: the inner sum in `chunks` pieces of `kc`, summed after (matmul.wgsl sum_chunks) */
  chunks: number;
  kc: number;
}

/** A convolution's geometry (a conv forward, a transposed conv, or either's input gradient). */
export interface ConvShape {
  N: number;
  CI: number;
  H: number;
  W: number;
  CO: number;
  OH: number;
  OW: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  PH: number;
  PW: number;
  /** the input's / the weight's binding can be widened to whole vec4s within its buffer */
  x16: boolean;
  w16: boolean;
}

export interface ConvPlan extends Plan {
  /** how many of the leading bindings (input, then weight) the kernel reads as vec4s */
  vec4Inputs: number;
}

/** A conv weight gradient D[A, B, KH, KW] from G [N, A, GH, GW] and X [N, B, XH, XW]. */
export interface WeightGradShape {
  N: number;
  A: number;
  GH: number;
  GW: number;
  B: number;
  KH: number;
  KW: number;
}

export interface WeightGradPlan extends Plan {
  /** the columns of X written by this kernel, then one GEMM (conv_cols.wgsl, matmul) */
  gemm: boolean;
  /** the direct kernel's batch split: chunks of `chunk` images, summed after */
  chunk: number;
  chunks: number;
}

/** Batchnorm over [N, C, S] (S = H·W, or 1 for [N, C]). */
export interface NormShape {
  C: number;
  S: number;
}

/** An elementwise pass over n values. */
export interface ElementsShape {
  n: number;
}

/** nOut sums of R terms; `vec4` whether their layout allows four terms a load (reduce.ts). */
export interface SumShape {
  nOut: number;
  R: number;
  vec4: boolean;
}

export interface SumPlan extends Plan {
  /** the sums split in `chunks` of `chunkLen` terms, added up by a second pass (0 = one lane an output) */
  chunks: number;
  chunkLen: number;
}
