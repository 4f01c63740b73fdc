// Elementwise arithmetic with broadcasting (add, sub, mul, div) and unary math
// (neg, exp, log, sqrt, square). Kernels: shaders/elementwise.wgsl. CPU reference: src/cpu/elementwise.ts.
import { record } from '../autograd.js';
import { WgslgradError, fmtShape } from '../errors.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { Tensor } from '../tensor.js';
import { broadcastShapes, broadcastStrides, compactDims, MAX_DIMS, pad, sameShape } from './util.js';
import { sumTo } from './reduce.js';

export const BINARY = { add: 0, sub: 1, mul: 2, div: 3 } as const;
export const UNARY = { neg: 0, exp: 1, log: 2, sqrt: 3, square: 4 } as const;
type BinaryName = keyof typeof BINARY;
type UnaryName = keyof typeof UNARY;

export function assertTensor(op: string, name: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new WgslgradError(op, `${name} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
}

function rawBinary(name: BinaryName, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(name, a.shape, b.shape);
  const out = Tensor.empty(shape);
  const n = out.size;
  if (n === 0) return out;
  if (sameShape(a.shape, b.shape)) {
    dispatch(pipeline('elementwise', 'binary', { OP: BINARY[name], BCAST: false }), [a.binding, b.binding, out.binding], { u: [n] }, groups1d(n));
    return out;
  }
  // Merge dims where both operands are contiguous in the same way.
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const dims: number[] = [];
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && ta[last] === sa[i]! * shape[i]! && tb[last] === sb[i]! * shape[i]!) {
      dims[last] = dims[last]! * shape[i]!;
      ta[last] = sa[i]!;
      tb[last] = sb[i]!;
    } else {
      dims.push(shape[i]!);
      ta.push(sa[i]!);
      tb.push(sb[i]!);
    }
  }
  if (dims.length > MAX_DIMS) throw new WgslgradError(name, `broadcast of ${fmtShape(a.shape)} and ${fmtShape(b.shape)} needs ${dims.length} dims after merging; at most ${MAX_DIMS} are supported`);
  dispatch(
    pipeline('elementwise', 'binary', { OP: BINARY[name], BCAST: true }),
    [a.binding, b.binding, out.binding],
    { u: [n, dims.length, ...pad(dims), ...pad(ta), ...pad(tb)] },
    groups1d(n),
  );
  return out;
}

export function rawScalar(name: BinaryName, a: Tensor, s: number, scalarFirst: boolean): Tensor {
  const out = Tensor.empty(a.shape);
  if (out.size === 0) return out;
  dispatch(pipeline('elementwise', 'binary_scalar', { OP: BINARY[name], BCAST: false }), [a.binding, out.binding], { u: [out.size, scalarFirst ? 1 : 0], f: [s] }, groups1d(out.size));
  return out;
}

function binary(name: BinaryName, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === 'number' && typeof b === 'number') throw new WgslgradError(name, 'got two numbers, expected at least one Tensor');
  if (typeof b === 'number') {
    assertTensor(name, 'first operand', a);
    return scalarOp(name, a as Tensor, b, false);
  }
  if (typeof a === 'number') {
    assertTensor(name, 'second operand', b);
    return scalarOp(name, b, a, true);
  }
  assertTensor(name, 'first operand', a);
  assertTensor(name, 'second operand', b);
  const out = rawBinary(name, a, b);
  return record(out, name, [a, b], (g) => {
    switch (name) {
      case 'add':
        return [a.requiresGrad ? sumTo(g, a.shape) : null, b.requiresGrad ? sumTo(g, b.shape) : null];
      case 'sub':
        return [a.requiresGrad ? sumTo(g, a.shape) : null, b.requiresGrad ? reduceOwned(rawUnary('neg', g), b.shape) : null];
      case 'mul':
        return [a.requiresGrad ? reduceOwned(rawBinary('mul', g, b), a.shape) : null, b.requiresGrad ? reduceOwned(rawBinary('mul', g, a), b.shape) : null];
      case 'div': {
        const ga = rawBinary('div', g, b);
        let gb: Tensor | null = null;
        if (b.requiresGrad) {
          // d(a/b)/db = −a/b² · g = −(g/b)·(a/b) = −ga·out
          const t = rawBinary('mul', ga, out);
          gb = reduceOwned(rawUnary('neg', t), b.shape);
          t.dispose();
        }
        return [a.requiresGrad ? reduceOwned(ga, a.shape) : (ga.dispose(), null), gb];
      }
    }
  });
}

/** sumTo that disposes its input when it made a new tensor. */
function reduceOwned(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const r = sumTo(t, shape);
  t.dispose();
  return r;
}

function scalarOp(name: BinaryName, a: Tensor, s: number, scalarFirst: boolean): Tensor {
  const out = rawScalar(name, a, s, scalarFirst);
  return record(out, name, [a], (g) => {
    switch (name) {
      case 'add':
        return [g.alias()];
      case 'sub':
        return [scalarFirst ? rawUnary('neg', g) : g.alias()];
      case 'mul':
        return [rawScalar('mul', g, s, false)];
      case 'div': {
        if (!scalarFirst) return [rawScalar('mul', g, 1 / s, false)];
        // d(s/a)/da = −s/a² = −out/a
        const t = rawBinary('div', out, a);
        const r = rawBinary('mul', g, t);
        t.dispose();
        const n = rawUnary('neg', r);
        r.dispose();
        return [n];
      }
      default:
        throw new WgslgradError(name, 'backward with a scalar operand is not supported');
    }
  });
}

export function rawUnary(name: UnaryName, x: Tensor): Tensor {
  const out = Tensor.empty(x.shape);
  if (out.size) dispatch(pipeline('elementwise', 'unary', { OP: UNARY[name], BCAST: false }), [x.binding, out.binding], { u: [out.size] }, groups1d(out.size));
  return out;
}

/** g · f'(x) for the unary op `name`, given its input x and output y. */
function unaryGrad(name: UnaryName, g: Tensor, x: Tensor, y: Tensor): Tensor {
  const out = Tensor.empty(x.shape);
  if (out.size) dispatch(pipeline('elementwise', 'unary_grad', { OP: UNARY[name], BCAST: false }), [g.binding, x.binding, y.binding, out.binding], { u: [out.size] }, groups1d(out.size));
  return out;
}

function unary(name: UnaryName, x: Tensor): Tensor {
  assertTensor(name, 'input', x);
  const y = rawUnary(name, x);
  return record(y, name, [x], (g) => [unaryGrad(name, g, x, y)]);
}

export const add = (a: Tensor | number, b: Tensor | number): Tensor => binary('add', a, b);
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => binary('sub', a, b);
export const mul = (a: Tensor | number, b: Tensor | number): Tensor => binary('mul', a, b);
export const div = (a: Tensor | number, b: Tensor | number): Tensor => binary('div', a, b);
export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
