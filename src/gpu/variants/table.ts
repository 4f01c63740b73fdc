// A kernel variant is one way to compute an op's kernel: a shader entry point, where it is chosen,
// what it needs of the device, and its plan (constants and workgroups) for a problem it can
// compute. Each op has a table of them in order of preference (variants/index.ts); the first that
// is on, runs on this device and can compute the problem is the one dispatched. The last entry of
// every table computes any problem on any device, so nothing an op is given lacks a kernel.
import { WgslgradError } from '../../errors.js';
import type { KernelFile } from '../layouts.js';
import type { Consts } from '../pipelines.js';
import type { DeviceFacts } from '../planner.js';
import type { Tuning } from '../tuning.js';

/** Where a variant is chosen when its mode is 'auto' (the mode 'on' takes it wherever it can run). */
export type Where = 'everywhere' | 'hardware' | 'software' | 'software with subgroups';

/** A variant's plan for a problem: its constants (the op adds BIAS, EPI and the like) and its workgroups. */
export interface Plan {
  consts: Consts;
  groups: [number, number, number];
}

export interface Variant<S, P extends Plan = Plan> {
  /** the shader file (shaders/<kernel>.wgsl) and entry point it dispatches: `kernel.entry` is its name in traceKernels and profileKernels */
  kernel: KernelFile;
  entry: string;
  /** its name in tunings and tests where one entry point serves two variants (default `kernel.entry`) */
  id?: string;
  /** one line: what it is for */
  purpose: string;
  /** the bench/NOTES.md section with its measurements */
  notes?: string;
  /** where 'auto' chooses it */
  where: Where;
  /** it shares loads through subgroup shuffles: only on devices whose rows are shared (DeviceFacts.subgroupShare) */
  subgroups?: boolean;
  /** for 'auto' only: whether this problem is one it pays for (mode 'on' skips this test) */
  prefer?(s: S, f: DeviceFacts): boolean;
  /** its plan for `s`, or null where it cannot compute it (a shape, an alignment, a limit) */
  plan(s: S, f: DeviceFacts, t: Readonly<Tuning>): P | null;
}

/** A table's choice for a problem: the variant's id, its kernel and its plan. */
export type Chosen<P extends Plan> = P & { variant: string; kernel: KernelFile; entry: string };

/** A variant's name in tunings and tests. */
export const variantId = (v: { id?: string; kernel: string; entry: string }): string => v.id ?? `${v.kernel}.${v.entry}`;

function wanted(where: Where, f: DeviceFacts): boolean {
  switch (where) {
    case 'everywhere':
      return true;
    case 'hardware':
      return !f.software;
    case 'software':
      return f.software;
    case 'software with subgroups':
      return f.software && f.subgroupShare;
  }
}

/** The first variant of `table` that is on here and can compute `s`, with its plan. */
export function choose<S, P extends Plan>(op: string, table: ReadonlyArray<Variant<S, P>>, s: S, f: DeviceFacts, t: Readonly<Tuning>): Chosen<P> {
  for (let i = 0; i < table.length; i++) {
    const v = table[i]!;
    // the last entry runs whatever its mode: it is what computes problems no other variant can
    if (i < table.length - 1) {
      const mode = t.variants[variantId(v)] ?? 'auto';
      if (mode === 'off') continue;
      if (v.subgroups && !f.subgroupShare) continue;
      if (mode === 'auto' && (!wanted(v.where, f) || (v.prefer && !v.prefer(s, f)))) continue;
    }
    const p = v.plan(s, f, t);
    if (p) return { ...p, variant: variantId(v), kernel: v.kernel, entry: v.entry };
  }
  throw new WgslgradError('planner', `${op}: no kernel variant can compute ${JSON.stringify(s)} (the last of its table should)`);
}

/**
 * The variant modes that make `table` choose `id` wherever it can run: it 'on', every entry before
 * it 'off' (tests force each variant in turn with this and setTuning).
 */
export function forcing<S, P extends Plan>(table: ReadonlyArray<Variant<S, P>>, id: string): Record<string, 'on' | 'off'> {
  const at = table.findIndex((v) => variantId(v) === id);
  if (at < 0) throw new WgslgradError('planner', `no variant ${id} in this table (${table.map(variantId).join(', ')})`);
  const modes: Record<string, 'on' | 'off'> = {};
  table.slice(0, at).forEach((v) => (modes[variantId(v)] = 'off'));
  modes[id] = 'on';
  return modes;
}
