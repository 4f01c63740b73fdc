// reshape (a view), transpose, permute, narrow and strided slices, indexSelect, concat, stack,
// clone and broadcasting copies. Kernels: shaders/shape.wgsl. CPU reference: src/cpu/shape.ts.
import { record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { checkBuffer } from '../gpu/checks.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { checkShape, type Shape, sizeOf, Tensor } from '../tensor.js';
import { zeros } from './creation.js';
import { assertTensor, broadcastStrides, compactDims, MAX_DIMS, normDim, sameShape, stridesOf } from './util.js';

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

/** Strided gather: out has `outShape`; element (i0..) reads x at base + sum(i_d * strides[d]), times `scale`. */
function gather(x: Tensor, outShape: Shape, strides: readonly number[], op: string, scale = 1, base = 0): Tensor {
  const out = Tensor.empty(outShape);
  if (out.size === 0) return out;
  const c = compactDims(outShape, strides);
  if (c.sizes.length > MAX_DIMS) throw new WgslgradError(op, `${fmtShape(x.shape)} → ${fmtShape(outShape)} needs more than ${MAX_DIMS} dims`);
  dispatch(
    pipeline('shape', 'permute'),
    [x.binding, out.binding],
    { n: out.size, nd: c.sizes.length, sizes: c.sizes, strides: c.strides, scale, base },
    groups1d(out.size),
  );
  return out;
}

/** The inverse of gather: zeros of `shape` with g's elements written at base + its strides. */
function scatter(g: Tensor, shape: Shape, strides: readonly number[], base: number): Tensor {
  const out = zeros(shape);
  if (g.size === 0) return out;
  const c = compactDims(g.shape, strides);
  dispatch(
    pipeline('shape', 'scatter'),
    [g.binding, out.binding],
    { n: g.size, nd: c.sizes.length, sizes: c.sizes, strides: c.strides, base },
    groups1d(g.size),
  );
  return out;
}

/** x with dims d0 and d1 swapped (negative dims count from the end), as torch.transpose; copies (tensors here are contiguous). */
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

/** A copy of x in new memory, gradients flowing through (torch.clone). */
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

/** x's dims reordered, as torch.permute: output dim i is input dim dims[i]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const op = 'permute';
  assertTensor(op, 'input', x);
  if (!Array.isArray(dims) || dims.length !== x.ndim)
    throw new WgslgradError(op, `dims ${JSON.stringify(dims)} for a tensor of rank ${x.ndim}: expected ${x.ndim} dims`);
  const p = dims.map((d) => normDim(op, d, x.ndim));
  if (new Set(p).size !== p.length) throw new WgslgradError(op, `dims ${JSON.stringify(dims)} repeat a dim`);
  const st = stridesOf(x.shape);
  const out = p.every((d, i) => d === i)
    ? x.alias()
    : gather(
        x,
        p.map((d) => x.shape[d]!),
        p.map((d) => st[d]!),
        op,
      );
  const inverse = p.map((_, i) => p.indexOf(i));
  return record(out, op, [x], (g) => [
    inverse.every((d, i) => d === i)
      ? g.alias()
      : gather(
          g,
          x.shape,
          inverse.map((d) => stridesOf(g.shape)[d]!),
          op,
        ),
  ]);
}

/** `length` entries of dim `dim` from `start` on, as torch.narrow (a copy, not a view). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const op = 'narrow';
  assertTensor(op, 'input', x);
  const d = normDim(op, dim, x.ndim);
  const D = x.shape[d]!;
  const s0 = start < 0 ? start + D : start;
  if (!Number.isInteger(s0) || !Number.isInteger(length) || s0 < 0 || length < 0 || s0 + length > D)
    throw new WgslgradError(op, `start ${start} and length ${length} do not fit dim ${dim} of ${fmtShape(x.shape)} (size ${D})`);
  const outer = x.shape.slice(0, d).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const shape = x.shape.map((s, i) => (i === d ? length : s));
  const out = Tensor.empty(shape, false, op);
  copySlice(x, out, outer, length * inner, D * inner, s0 * inner, length * inner, 0);
  return record(out, op, [x], (g) => {
    const gx = zeros(x.shape);
    copySlice(g, gx, outer, length * inner, length * inner, 0, D * inner, s0 * inner);
    return [gx];
  });
}

/** Entries start, start + step, … before end of dim `dim`, as x[..., start:end:step] in PyTorch (negative start and end count from the end; step ≥ 1). */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  const op = 'slice';
  assertTensor(op, 'input', x);
  const d = normDim(op, dim, x.ndim);
  const D = x.shape[d]!;
  if (!Number.isInteger(step) || step < 1) throw new WgslgradError(op, `step must be an integer ≥ 1, got ${step}`);
  const clampIdx = (v: number) => Math.min(D, Math.max(0, v < 0 ? v + D : v));
  const s0 = clampIdx(start);
  const e0 = clampIdx(end ?? D);
  if (!Number.isInteger(s0) || !Number.isInteger(e0)) throw new WgslgradError(op, `start and end must be integers, got ${start}, ${end}`);
  const length = Math.max(0, Math.ceil((e0 - s0) / step));
  if (step === 1) return narrow(x, d, s0, length);
  const st = stridesOf(x.shape);
  const shape = x.shape.map((s, i) => (i === d ? length : s));
  const strides = st.map((s, i) => (i === d ? s * step : s));
  const out = gather(x, shape, strides, op, 1, s0 * st[d]!);
  return record(out, op, [x], (g) => [scatter(g, x.shape, strides, s0 * st[d]!)]);
}

/** The entries of dim `dim` at `index` (a 1-D tensor of integer values), in its order, as torch.index_select; repeats allowed. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const op = 'indexSelect';
  assertTensor(op, 'input', x);
  assertTensor(op, 'index', index);
  if (index.ndim !== 1) throw new WgslgradError(op, `index has shape ${fmtShape(index.shape)}, expected 1-D`);
  if (index.requiresGrad) throw new WgslgradError(op, 'index cannot require grad (it holds integers)');
  const d = normDim(op, dim, x.ndim);
  const D = x.shape[d]!;
  const K = index.size;
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const out = Tensor.empty(
    x.shape.map((s, i) => (i === d ? K : s)),
    false,
    op,
  );
  if (out.size)
    dispatch(pipeline('shape', 'index_select'), [x.binding, index.binding, out.binding, checkBuffer()], { n: out.size, D, inner, K }, groups1d(out.size));
  return record(out, op, [x, index], (g) => {
    const gx = Tensor.empty(x.shape);
    if (gx.size) dispatch(pipeline('shape', 'index_add'), [g.binding, index.binding, gx.binding], { n: gx.size, D, inner, K }, groups1d(gx.size));
    return [gx, null];
  });
}

/** Tensors of one shape joined along a new dim `dim`, as torch.stack. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new WgslgradError('stack', 'expected a non-empty array of tensors');
  tensors.forEach((t, i) => assertTensor('stack', `tensors[${i}]`, t));
  const first = tensors[0]!;
  const d = normDim('stack', dim, first.ndim + 1);
  for (const [i, t] of tensors.entries())
    if (!sameShape(t.shape, first.shape))
      throw new WgslgradError('stack', `tensors[${i}] has shape ${fmtShape(t.shape)}, expected tensors[0]'s ${fmtShape(first.shape)}`);
  const shape = [...first.shape.slice(0, d), 1, ...first.shape.slice(d)];
  return concat(
    tensors.map((t) => reshape(t, shape)),
    d,
  );
}
