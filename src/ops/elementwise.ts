// Elementwise arithmetic with broadcasting (add, sub, mul, div) and unary math
// (neg, exp, log, sqrt, square). Kernels: shaders/elementwise.wgsl. CPU reference: src/cpu/elementwise.ts.
import { record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { sizeOf, Tensor } from '../tensor.js';
import { sumTo } from './reduce.js';
import { assertTensor, broadcastShapes, broadcastStrides, MAX_DIMS, sameShape } from './util.js';

export const BINARY = { add: 0, sub: 1, mul: 2, div: 3 } as const;
export const UNARY = { neg: 0, exp: 1, log: 2, sqrt: 3, square: 4 } as const;
type BinaryName = keyof typeof BINARY;
type UnaryName = keyof typeof UNARY;

function rawBinary(name: BinaryName, a: Tensor, b: Tensor, into: Tensor | null = null): Tensor {
  const shape = broadcastShapes(name, a.shape, b.shape);
  if (into && into.size !== sizeOf(shape)) throw new WgslgradError(name, `output tensor ${fmtShape(into.shape)} for a result of shape ${fmtShape(shape)}`);
  const out = into ?? Tensor.empty(shape, false, name);
  const n = out.size;
  if (n === 0) return out;
  if (sameShape(a.shape, b.shape)) {
    dispatch(pipeline('elementwise', 'binary', { OP: BINARY[name], BCAST: false }), [a.binding, b.binding, out.binding], { n }, groups1d(n));
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
  if (dims.length > MAX_DIMS)
    throw new WgslgradError(
      name,
      `broadcast of ${fmtShape(a.shape)} and ${fmtShape(b.shape)} needs ${dims.length} dims after merging; at most ${MAX_DIMS} are supported`,
    );
  dispatch(
    pipeline('elementwise', 'binary', { OP: BINARY[name], BCAST: true }),
    [a.binding, b.binding, out.binding],
    { n, nd: dims.length, dims, sa: ta, sb: tb },
    groups1d(n),
  );
  return out;
}

/** a + b written into `out` (of their broadcast shape's size), no autograd: the backward sweep's accumulation into an optimiser slot. */
export function addInto(a: Tensor, b: Tensor, out: Tensor): Tensor {
  return rawBinary('add', a, b, out);
}

export function rawScalar(name: BinaryName, a: Tensor, s: number, scalarFirst: boolean): Tensor {
  const out = Tensor.empty(a.shape);
  if (out.size === 0) return out;
  dispatch(
    pipeline('elementwise', 'binary_scalar', { OP: BINARY[name], BCAST: false }),
    [a.binding, out.binding],
    { n: out.size, scalarFirst: scalarFirst ? 1 : 0, s },
    groups1d(out.size),
  );
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
  // gradients of broadcast operands are summed back to their shapes
  return record(out, name, [a, b], (g, [da, db]) => {
    switch (name) {
      case 'add':
        return [da ? sumTo(g, a.shape) : null, db ? sumTo(g, b.shape) : null];
      case 'sub':
        return [da ? sumTo(g, a.shape) : null, db ? sumTo(neg(g), b.shape) : null];
      case 'mul':
        return [da ? sumTo(mul(g, b), a.shape) : null, db ? sumTo(mul(g, a), b.shape) : null];
      case 'div': {
        // d(a/b)/da = g/b; d(a/b)/db = −g·a/b² = −(g/b)·out
        const ga = div(g, b);
        return [da ? sumTo(ga, a.shape) : null, db ? sumTo(neg(mul(ga, out)), b.shape) : null];
      }
    }
  });
}

function scalarOp(name: BinaryName, a: Tensor, s: number, scalarFirst: boolean): Tensor {
  const out = rawScalar(name, a, s, scalarFirst);
  return record(out, name, [a], (g) => {
    switch (name) {
      case 'add':
        return [g.alias()];
      case 'sub':
        return [scalarFirst ? neg(g) : g.alias()];
      case 'mul':
        return [mul(g, s)];
      case 'div':
        // d(a/s)/da = g/s; d(s/a)/da = −g·s/a² = −g·out/a
        return [scalarFirst ? neg(mul(g, div(out, a))) : mul(g, 1 / s)];
    }
  });
}

export function rawUnary(name: UnaryName, x: Tensor): Tensor {
  const out = Tensor.empty(x.shape);
  if (out.size) dispatch(pipeline('elementwise', 'unary', { OP: UNARY[name], BCAST: false }), [x.binding, out.binding], { n: out.size }, groups1d(out.size));
  return out;
}

/** g · f'(x) for the unary op `name`, given its input x and output y. */
function unaryGrad(name: UnaryName, g: Tensor, x: Tensor, y: Tensor): Tensor {
  const out = Tensor.empty(x.shape);
  if (out.size)
    dispatch(
      pipeline('elementwise', 'unary_grad', { OP: UNARY[name], BCAST: false }),
      [g.binding, x.binding, y.binding, out.binding],
      { n: out.size },
      groups1d(out.size),
    );
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
