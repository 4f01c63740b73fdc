// Kernel parameters are declared once (src/gpu/layouts.ts); the WGSL reads them by the names made
// from that table and dispatches write them by name.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { LAYOUTS, slotsOf, wgslAccessors } from '../src/gpu/layouts.js';
import { onlyEntry, pipeline, unrollLoops } from '../src/gpu/pipelines.js';
import { dispatch } from '../src/gpu/recorder.js';
import * as wg from '../src/index.js';

const dir = join(import.meta.dirname, '..', 'shaders');
// shaders/*.wgsl and shaders/software/*.wgsl, named as pipelines name them ('software/…')
const kernels = [...readdirSync(dir), ...readdirSync(join(dir, 'software')).map((f) => `software/${f}`)]
  .filter((f) => f.endsWith('.wgsl') && f !== 'common.wgsl')
  .map((f) => f.slice(0, -5));

describe('kernel parameter layouts', () => {
  test('every kernel file has a layout and reads only parameters it declares, by name', () => {
    expect(kernels.sort()).toEqual(Object.keys(LAYOUTS).sort());
    for (const k of kernels) {
      const src = readFileSync(join(dir, `${k}.wgsl`), 'utf8').replace(/\/\/.*$/gm, '');
      expect(src, `${k}.wgsl reads a positional parameter`).not.toMatch(/\bp[uf]\(/);
      const slots = slotsOf(k);
      const used = new Set([...src.matchAll(/\bp_(\w+)\(/g), ...src.matchAll(/\bP_(\w+)\b/g)].map((m) => m[1]!));
      for (const name of used) expect(slots.has(name), `${k}.wgsl uses ${name}, which src/gpu/layouts.ts does not declare`).toBe(true);
      expect(used.size, `${k}.wgsl uses its parameters`).toBeGreaterThan(0);
    }
  });
  test('slots follow the declaration: u32 and f32 fields in order, arrays take their length', () => {
    const s = slotsOf('reduce');
    expect(s.get('nOut')).toEqual({ f32: false, at: 0, length: 1 });
    expect(s.get('keptSizes')).toEqual({ f32: false, at: 4, length: 6 });
    expect(s.get('redStrides')).toEqual({ f32: false, at: 22, length: 6 });
    expect(s.get('chunkLen')).toEqual({ f32: false, at: 28, length: 1 });
    expect(s.get('scale')).toEqual({ f32: true, at: 0, length: 1 });
    const acc = wgslAccessors('reduce');
    expect(acc).toContain('fn p_chunkLen() -> u32 { return pu(28u); }');
    expect(acc).toContain('const P_keptSizes: u32 = 4u;');
    expect(acc).toContain('fn p_scale() -> f32 { return pf(0u); }');
  });
  test('a dispatch naming a parameter its kernel does not have is refused, and the library keeps working', async () => {
    await wg.init();
    const x = wg.ones([4]);
    const k = pipeline('bce', 'forward', { LOGITS: true, WANT_DY: false, WANT_DX: false });
    expect(() => dispatch(k, [x.binding, x.binding, x.binding], { bogus: 1 } as never, [1])).toThrow(/dispatch: bce.wgsl has no parameter bogus/);
    expect(() => dispatch(pipeline('reduce', 'sum_thread', { WG: 64, ADDC: false, ACT: 0 }), [x.binding, x.binding], { keptSizes: 3 }, [1])).toThrow(
      /keptSizes holds 6 values, got one number/,
    );
    expect(Array.from(await wg.sum(x).toArray())).toEqual([4]);
  });
  test('the pipeline cache: the same constants in any order give the compiled pipeline, another value or another name a new one', async () => {
    await wg.init();
    const a = pipeline('reduce', 'sum_thread', { WG: 64, ADDC: false, ACT: 0 });
    expect(pipeline('reduce', 'sum_thread', { ACT: 0, WG: 64, ADDC: false })).toBe(a);
    expect(pipeline('reduce', 'sum_thread', { WG: 64, ADDC: true, ACT: 0 })).not.toBe(a);
    expect(pipeline('reduce', 'sum_wg', { WG: 64, ADDC: false, ACT: 0 })).not.toBe(a);
    // a subset or a superset of the names is another variant
    const b = pipeline('activation', 'act', { ACT: 1 });
    expect(pipeline('activation', 'act', { ACT: 1, EXTRA: 0 })).not.toBe(b);
    expect(pipeline('activation', 'act', { ACT: 1 })).toBe(b);
  });
});

describe('unrolled loops (`// unroll`, written out before compilation)', () => {
  test('literal and constant limits, a constant divided, nested loops, names replaced as whole words only', () => {
    const src = [
      'for (var i = 0u; i < TM / 8u; i++) { // unroll',
      '  for (var kk = 0u; kk < 2u; kk++) { // unroll',
      '    acc[i] += x[kk] * ii;',
      '  }',
      '}',
      '',
    ].join('\n');
    const out = unrollLoops(src, { TM: 16 });
    expect(out).not.toContain('for (');
    expect(out.match(/acc\[\du\] \+= x\[\du\] \* ii;/g)).toEqual([
      'acc[0u] += x[0u] * ii;',
      'acc[0u] += x[1u] * ii;',
      'acc[1u] += x[0u] * ii;',
      'acc[1u] += x[1u] * ii;',
    ]);
    // a limit of 0 leaves nothing; unmarked loops stay loops
    expect(unrollLoops('for (var h = 0u; h < TM / 32u; h++) { // unroll\n  a[h] = 1.0;\n}\n', { TM: 16 })).not.toContain('a[');
    expect(unrollLoops('for (var j = 0u; j < 4u; j++) { b[j] = 0.0; }\n', {})).toContain('for (var j');
  });
  test("a pipeline's source keeps its own entry point's function and drops the others'", () => {
    const src = [
      'const K = 2u;',
      'fn helper(x: f32) -> f32 { return x * 2.0; }',
      '@compute @workgroup_size(WGX, 1, 1)',
      'fn first(@builtin(local_invocation_id) lid: vec3<u32>) {',
      '  if (true) { let a = helper(f32(WIN)); } // a brace in a comment: }',
      '}',
      '@compute @workgroup_size(64)',
      'fn second() {',
      '  var b = K;',
      '}',
      '',
    ].join('\n');
    const second = onlyEntry(src, 'second');
    expect(second).not.toContain('fn first');
    expect(second).not.toContain('WIN');
    expect(second).toContain('fn helper');
    expect(second).toContain('const K = 2u;');
    expect(second).toContain('fn second() {\n  var b = K;\n}');
    const first = onlyEntry(src, 'first');
    expect(first).not.toContain('fn second');
    expect(first).toContain('// a brace in a comment: }\n}');
    expect(() => onlyEntry('@compute @workgroup_size(1)\nfn a() {\n', 'b')).toThrow(/entry point a has no closing brace/);
  });
  test('a limit that is not a number, or a loop without its closing brace, is refused', () => {
    expect(() => unrollLoops('for (var i = 0u; i < TQ; i++) { // unroll\n}\n', {})).toThrow(/limit TQ is not a literal or a numeric constant/);
    expect(() => unrollLoops('for (var i = 0u; i < TA; i++) { // unroll\n}\n', { TA: true })).toThrow(wg.WgslgradError);
    expect(() => unrollLoops('for (var i = 0u; i < 2u; i++) { // unroll\n  x[i] = 0.0;\n', {})).toThrow(/no closing brace/);
  });
});
