// reshape (a view), transpose, concat, clone and broadcasting copies. Kernels: shaders/shape.wgsl.
// CPU reference: src/cpu/shape.ts.
import { record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { checkShape, type Shape, sizeOf, Tensor } from '../tensor.js';
import { assertTensor, broadcastStrides, compactDims, MAX_DIMS, normDim, stridesOf } from './util.js';

/** Same data, new shape (one dim may be -1). Shares the buffer. */
export function reshape(x: Tensor, shapeArg: Shape): Tensor {
  assertTensor('reshape', 'input', x);
  if (!Array.isArray(shapeArg)) throw new WgslgradError('reshape', `shape must be an array, got ${JSON.stringify(shapeArg)}`);
  const shape = [...shapeArg];
  const free = shape.filter((d) => d === -1).length;
  if (free > 1) throw new WgslgradError('reshape', `only one dim may be -1, got ${fmtShape(shape)}`);
  if (free === 1) {
    const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const i = shape.indexOf(-1);
    if (known === 0 || x.size % known !== 0)
      throw new WgslgradError('reshape', `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shapeArg)}`);
    shape[i] = x.size / known;
  }
  checkShape('reshape', shape);
  if (sizeOf(shape) !== x.size)
    throw new WgslgradError('reshape', `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shapeArg)} (${sizeOf(shape)} elements)`);
  const out = x.alias(shape);
  return record(out, 'reshape', [x], (g) => [g.alias(x.shape)]);
}

/** Strided gather: out has `outShape`; element (i0..) reads x at sum(i_d * strides[d]), times `scale`. */
function gather(x: Tensor, outShape: Shape, strides: readonly number[], op: string, scale = 1): Tensor {
  const out = Tensor.empty(outShape);
  if (out.size === 0) return out;
  const c = compactDims(outShape, strides);
  if (c.sizes.length > MAX_DIMS) throw new WgslgradError(op, `${fmtShape(x.shape)} → ${fmtShape(outShape)} needs more than ${MAX_DIMS} dims`);
  dispatch(
    pipeline('shape', 'permute'),
    [x.binding, out.binding],
    { n: out.size, nd: c.sizes.length, sizes: c.sizes, strides: c.strides, scale },
    groups1d(out.size),
  );
  return out;
}

export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  assertTensor('transpose', 'input', x);
  const a = normDim('transpose', d0, x.ndim);
  const b = normDim('transpose', d1, x.ndim);
  const shape = [...x.shape];
  const st = stridesOf(x.shape);
  [shape[a], shape[b]] = [shape[b]!, shape[a]!];
  [st[a], st[b]] = [st[b]!, st[a]!];
  const out = a === b ? x.alias() : gather(x, shape, st, 'transpose');
  return record(out, 'transpose', [x], (g) => [transposeRaw(g, a, b)]);
}

function transposeRaw(g: Tensor, a: number, b: number): Tensor {
  if (a === b) return g.alias();
  const shape = [...g.shape];
  const st = stridesOf(g.shape);
  [shape[a], shape[b]] = [shape[b]!, shape[a]!];
  [st[a], st[b]] = [st[b]!, st[a]!];
  return gather(g, shape, st, 'transpose');
}

/** x broadcast to `shape` (x's dims right-aligned), optionally times `scale`; no autograd. */
export function expandTo(x: Tensor, shape: Shape, scale = 1): Tensor {
  return gather(x, shape, broadcastStrides(x.shape, shape), 'expand', scale);
}

/** Copies `outer` rows of `len` floats from src (row stride srcRow, offset srcOff) to dst likewise. */
export function copySlice(src: Tensor, dst: Tensor, outer: number, len: number, srcRow: number, srcOff: number, dstRow: number, dstOff: number): void {
  if (outer * len === 0) return;
  dispatch(pipeline('shape', 'copy_slice'), [src.binding, dst.binding], { outer, len, srcRow, srcOff, dstRow, dstOff }, groups1d(outer * len));
}

export function clone(x: Tensor): Tensor {
  assertTensor('clone', 'input', x);
  const out = Tensor.empty(x.shape);
  copySlice(x, out, 1, x.size, 0, 0, 0, 0);
  return record(out, 'clone', [x], (g) => [g.alias()]);
}

/** Joins tensors along `dim`; every other dim must match. */
export function concat(tensors: Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new WgslgradError('concat', 'expected a non-empty array of tensors');
  tensors.forEach((t, i) => assertTensor('concat', `tensors[${i}]`, t));
  const first = tensors[0]!;
  const d = normDim('concat', dim, first.ndim);
  for (const [i, t] of tensors.entries()) {
    if (t.ndim !== first.ndim || t.shape.some((s, k) => k !== d && s !== first.shape[k])) {
      throw new WgslgradError(
        'concat',
        `tensors[${i}] has shape ${fmtShape(t.shape)}, expected ${fmtShape(first.shape.map((s, k) => (k === d ? '*' : s)) as unknown as number[])} (all dims but ${d} equal to tensors[0]'s)`,
      );
    }
  }
  const outShape = [...first.shape];
  outShape[d] = tensors.reduce((a, t) => a + t.shape[d]!, 0);
  const outer = first.shape.slice(0, d).reduce((a, b) => a * b, 1);
  const inner = first.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const total = outShape[d]! * inner;
  const out = Tensor.empty(outShape, false, 'concat');
  let off = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offsets.push(off);
    const len = t.shape[d]! * inner;
    copySlice(t, out, outer, len, len, 0, total, off);
    off += len;
  }
  return record(out, 'concat', tensors, (g, needs) =>
    tensors.map((t, i) => {
      if (!needs[i]) return null;
      const gi = Tensor.empty(t.shape);
      const len = t.shape[d]! * inner;
      copySlice(g, gi, outer, len, total, offsets[i]!, len, 0);
      return gi;
    }),
  );
}
