// Elementwise arithmetic with broadcasting (add, sub, mul, div), unary math (neg, exp, log, sqrt,
// square, abs, pow, clamp) and selection (where, maskedFill). Kernels: shaders/elementwise.wgsl.
// CPU reference: src/cpu/elementwise.ts.
import { record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { type Shape, sizeOf, Tensor } from '../tensor.js';
import { full } from './creation.js';
import { sumTo } from './reduce.js';
import { assertTensor, broadcastShapes, broadcastStrides, MAX_DIMS, sameShape } from './util.js';

export const BINARY = { add: 0, sub: 1, mul: 2, div: 3 } as const;
export const UNARY = { neg: 0, exp: 1, log: 2, sqrt: 3, square: 4, abs: 6, pow: 7, clamp: 8 } as const;
type BinaryName = keyof typeof BINARY;
type UnaryName = keyof typeof UNARY;

/**
 * The output shape of broadcasting `shapes` together, and each operand's strides over it, its dims
 * merged where every operand steps through them alike (at most MAX_DIMS after merging).
 */
function broadcastLayout(op: string, shapes: readonly Shape[]): { shape: number[]; dims: number[]; strides: number[][] } {
  const shape = shapes.slice(1).reduce<number[]>((acc, s) => broadcastShapes(op, acc, s), [...shapes[0]!]);
  const full = shapes.map((s) => broadcastStrides(s, shape));
  const dims: number[] = [];
  const strides: number[][] = shapes.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && full.every((st, k) => strides[k]![last] === st[i]! * shape[i]!)) {
      dims[last] = dims[last]! * shape[i]!;
      full.forEach((st, k) => (strides[k]![last] = st[i]!));
    } else {
      dims.push(shape[i]!);
      full.forEach((st, k) => strides[k]!.push(st[i]!));
    }
  }
  if (dims.length > MAX_DIMS)
    throw new WgslgradError(
      op,
      `broadcast of ${shapes.map((s) => fmtShape(s)).join(' and ')} needs ${dims.length} dims after merging; at most ${MAX_DIMS} are supported`,
    );
  return { shape, dims, strides };
}

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
  const l = broadcastLayout(name, [a.shape, b.shape]);
  dispatch(
    pipeline('elementwise', 'binary', { OP: BINARY[name], BCAST: true }),
    [a.binding, b.binding, out.binding],
    { n, nd: l.dims.length, dims: l.dims, sa: l.strides[0], sb: l.strides[1] },
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

/** The parameters a unary op reads: pow's exponent (s), clamp's bounds (s, s2). */
type UnaryParams = { s?: number; s2?: number };

export function rawUnary(name: UnaryName, x: Tensor, p: UnaryParams = {}): Tensor {
  const out = Tensor.empty(x.shape);
  if (out.size)
    dispatch(pipeline('elementwise', 'unary', { OP: UNARY[name], BCAST: false }), [x.binding, out.binding], { n: out.size, ...p }, groups1d(out.size));
  return out;
}

/** g · f'(x) for the unary op `name`, given its input x and output y. */
function unaryGrad(name: UnaryName, g: Tensor, x: Tensor, y: Tensor, p: UnaryParams): Tensor {
  const out = Tensor.empty(x.shape);
  if (out.size)
    dispatch(
      pipeline('elementwise', 'unary_grad', { OP: UNARY[name], BCAST: false }),
      [g.binding, x.binding, y.binding, out.binding],
      { n: out.size, ...p },
      groups1d(out.size),
    );
  return out;
}

function unary(name: UnaryName, x: Tensor, p: UnaryParams = {}): Tensor {
  assertTensor(name, 'input', x);
  const y = rawUnary(name, x, p);
  return record(y, name, [x], (g) => [unaryGrad(name, g, x, y, p)]);
}

/** a + b elementwise with NumPy/PyTorch broadcasting (torch.add); either may be a number. A WgslgradError names both shapes when they do not broadcast. */
export const add = (a: Tensor | number, b: Tensor | number): Tensor => binary('add', a, b);
/** a − b elementwise with broadcasting (torch.sub); either may be a number. */
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => binary('sub', a, b);
/** a · b elementwise with broadcasting (torch.mul); either may be a number. */
export const mul = (a: Tensor | number, b: Tensor | number): Tensor => binary('mul', a, b);
/** a / b elementwise with broadcasting (torch.div); either may be a number. */
export const div = (a: Tensor | number, b: Tensor | number): Tensor => binary('div', a, b);
/** −x (torch.neg). */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** eˣ (torch.exp). */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** The natural log (torch.log): −∞ at 0, NaN below. */
export const log = (x: Tensor): Tensor => unary('log', x);
/** √x (torch.sqrt): NaN below 0. */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** x² (torch.square). */
export const square = (x: Tensor): Tensor => unary('square', x);
/** |x|, as torch.abs (its gradient sign(x), 0 at 0). */
export const abs = (x: Tensor): Tensor => unary('abs', x);

/** x to a number's power, as torch.pow(x, exponent): NaN where x < 0 and the exponent is not an integer. */
export function pow(x: Tensor, exponent: number): Tensor {
  if (typeof exponent !== 'number' || Number.isNaN(exponent)) throw new WgslgradError('pow', `exponent must be a number, got ${exponent}`);
  return unary('pow', x, { s: exponent });
}

/** x clamped to [min, max] as torch.clamp (either bound may be omitted); the gradient passes inside the bounds. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? Number.NEGATIVE_INFINITY;
  const hi = max ?? Number.POSITIVE_INFINITY;
  if (min == null && max == null) throw new WgslgradError('clamp', 'give min, max or both');
  if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) throw new WgslgradError('clamp', `bounds must satisfy min ≤ max, got [${min}, ${max}]`);
  return unary('clamp', x, { s: lo, s2: hi });
}

/** cond ? a : b elementwise with broadcasting, as torch.where (cond nonzero is true); no gradient flows to cond. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const op = 'where';
  assertTensor(op, 'cond', cond);
  const ta = typeof a === 'number' ? full([], a) : a;
  const tb = typeof b === 'number' ? full([], b) : b;
  assertTensor(op, 'a', ta);
  assertTensor(op, 'b', tb);
  if (cond.requiresGrad) throw new WgslgradError(op, 'cond cannot require grad (it selects, it is not differentiated)');
  const l = broadcastLayout(op, [ta.shape, tb.shape, cond.shape]);
  const out = Tensor.empty(l.shape, false, op);
  if (out.size)
    dispatch(
      pipeline('elementwise', 'where3', { OP: 0, BCAST: true }),
      [ta.binding, tb.binding, cond.binding, out.binding],
      { n: out.size, nd: l.dims.length, dims: l.dims, sa: l.strides[0], sb: l.strides[1], sc: l.strides[2] },
      groups1d(out.size),
    );
  return record(out, op, [ta, tb, cond], (g, [da, db]) => [
    da ? sumTo(maskedFillRaw(g, cond, 0, true), ta.shape) : null,
    db ? sumTo(maskedFillRaw(g, cond, 0, false), tb.shape) : null,
    null,
  ]);
}

/** x with `value` where mask is nonzero (mask broadcast to x's shape), as torch.Tensor.masked_fill: a causal mask's −∞. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  const op = 'maskedFill';
  assertTensor(op, 'input', x);
  assertTensor(op, 'mask', mask);
  if (typeof value !== 'number') throw new WgslgradError(op, `value must be a number, got ${typeof value}`);
  if (mask.requiresGrad) throw new WgslgradError(op, 'mask cannot require grad');
  const shape = broadcastShapes(op, x.shape, mask.shape);
  if (!sameShape(shape, x.shape))
    throw new WgslgradError(op, `mask ${fmtShape(mask.shape)} broadcasts x ${fmtShape(x.shape)} to ${fmtShape(shape)}; it must broadcast to x's shape`);
  const out = maskedFillRaw(x, mask, value, false);
  return record(out, op, [x, mask], (g) => [maskedFillRaw(g, mask, 0, false), null]);
}

/**
 * x's shape with `value` where the mask is nonzero (or, with `invert`, where it is zero), x where
 * not; no autograd.
 */
function maskedFillRaw(x: Tensor, mask: Tensor, value: number, invert: boolean): Tensor {
  const out = Tensor.empty(x.shape);
  if (out.size === 0) return out;
  const l = broadcastLayout('maskedFill', [x.shape, mask.shape]);
  dispatch(
    pipeline('elementwise', 'masked_fill', { OP: 0, BCAST: true, INV: invert }),
    [x.binding, mask.binding, out.binding],
    { n: out.size, nd: l.dims.length, dims: l.dims, sa: l.strides[0], sb: l.strides[1], s: value },
    groups1d(out.size),
  );
  return out;
}
