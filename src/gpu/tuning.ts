// The tuning constants the kernel planner reads: register blocks per kind of device, batchnorm's
// workgroup size, and a mode per kernel variant (src/gpu/variants). The defaults were measured
// (bench/NOTES.md). setTuning is for tuning runs, benchmarks and tests (it is exported as
// wg.internal.setTuning, not as part of the stable API): pipelines are cached per constant set, so
// both sets stay compiled.
import { WgslgradError } from '../errors.js';

/** A register block (TM rows × TN columns per lane) and a workgroup of WGX × WGY lanes. */
export interface Block {
  TM: number;
  TN: number;
  WGX: number;
  WGY: number;
}

/** A block with the layout it is for: rows shared through subgroup shuffles (SG) or not. */
export interface KernelBlock extends Block {
  SG: boolean;
}

/** How a kernel variant is chosen: where its table says ('auto'), wherever it can run ('on'), or never ('off'). */
export type VariantMode = 'auto' | 'on' | 'off';

export interface Tuning {
  /** GEMMs on devices with 8- or 16-lane subgroups (tuned on llvmpipe); WGY must be 1 */
  shared: Block;
  /** where subgroups have 32 lanes (NVIDIA): one subgroup per workgroup (tuned on an H100) */
  wide: Block;
  /** where subgroups have 64 lanes or more (AMD, Qualcomm) */
  wide64: Block;
  /** hardware devices without usable subgroups */
  plain: Block;
  /** software adapters without usable subgroups (Chromium's SwiftShader; bench/NOTES.md, "SwiftShader's matmul workgroups") */
  software: Block;
  /** convolutions on devices with 8- or 16-lane subgroups */
  convShared: Block;
  /** convolutions without subgroups, at 48 output channels or more */
  convPlain: Block;
  /** lanes of a batchnorm workgroup: 'auto' is 32 on software adapters, 256 elsewhere (planner.ts bnLanes) */
  bnLanes: 'auto' | 32 | 64 | 128 | 256;
  /** a mode per kernel variant, by its id (src/gpu/variants/index.ts lists them); unnamed ones are 'auto' */
  variants: Readonly<Record<string, VariantMode>>;
}

const BLOCKS = ['shared', 'wide', 'wide64', 'plain', 'software', 'convShared', 'convPlain'] as const;

const DEFAULTS: Readonly<Tuning> = Object.freeze({
  shared: Object.freeze({ TM: 16, TN: 8, WGX: 16, WGY: 1 }),
  wide: Object.freeze({ TM: 8, TN: 8, WGX: 32, WGY: 1 }),
  wide64: Object.freeze({ TM: 8, TN: 4, WGX: 64, WGY: 1 }),
  plain: Object.freeze({ TM: 8, TN: 8, WGX: 8, WGY: 8 }),
  software: Object.freeze({ TM: 8, TN: 8, WGX: 4, WGY: 4 }),
  convShared: Object.freeze({ TM: 16, TN: 8, WGX: 16, WGY: 1 }),
  convPlain: Object.freeze({ TM: 8, TN: 8, WGX: 8, WGY: 8 }),
  bnLanes: 'auto',
  variants: Object.freeze({}),
});

let active: Readonly<Tuning> = DEFAULTS;
/** the variant ids the tables declare (variants/index.ts registers them), for setTuning's check */
const knownVariants = new Set<string>();

/** @internal variants/index.ts: the ids setTuning accepts */
export function declareVariants(ids: Iterable<string>): void {
  for (const id of ids) knownVariants.add(id);
}

/** The constants in force (the measured defaults unless setTuning changed them). */
export function tuning(): Readonly<Tuning> {
  return active;
}

/** The measured defaults. */
export function defaultTuning(): Readonly<Tuning> {
  return DEFAULTS;
}

/**
 * Replaces some tuning constants; returns a function that restores the ones before. `variants`
 * is merged into the modes in force (so two overrides of different variants combine).
 */
export function setTuning(overrides: Partial<Tuning>): () => void {
  const known = Object.keys(DEFAULTS);
  for (const [k, v] of Object.entries(overrides)) {
    if (!known.includes(k)) throw new WgslgradError('setTuning', `unknown setting ${k}; expected one of ${known.join(', ')}`);
    if (k === 'variants') {
      for (const [id, mode] of Object.entries(v as Record<string, unknown>)) {
        if (!knownVariants.has(id)) throw new WgslgradError('setTuning', `unknown kernel variant ${id}; expected one of ${[...knownVariants].join(', ')}`);
        if (!['auto', 'on', 'off'].includes(mode as string))
          throw new WgslgradError('setTuning', `variant ${id} must be 'auto', 'on' or 'off', got ${JSON.stringify(mode)}`);
      }
      continue;
    }
    if (k === 'bnLanes') {
      if (!['auto', 32, 64, 128, 256].includes(v as number))
        throw new WgslgradError('setTuning', `bnLanes must be 'auto', 32, 64, 128 or 256, got ${JSON.stringify(v)}`);
      continue;
    }
    const b = v as Block;
    if (!b || ['TM', 'TN', 'WGX', 'WGY'].some((f) => !Number.isInteger(b[f as keyof Block]) || b[f as keyof Block] < 1)) {
      throw new WgslgradError('setTuning', `${k} must be a block {TM, TN, WGX, WGY} of positive integers, got ${JSON.stringify(v)}`);
    }
  }
  const before = active;
  const variants = overrides.variants ? Object.freeze({ ...active.variants, ...overrides.variants }) : active.variants;
  active = Object.freeze({ ...active, ...overrides, variants });
  return () => {
    active = before;
  };
}

/** The block settings' names (the GEMM and conv blocks of each kind of device). */
export const BLOCK_SETTINGS: readonly string[] = BLOCKS;
