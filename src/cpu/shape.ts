// CPU reference of src/ops/shape.ts (float64).
import { type CpuTensor, cpuSize, cpuStrides, unravel } from './tensor.js';

/** Float64 reference of wg.reshape. */
export function reshape(x: CpuTensor, shape: number[]): CpuTensor {
  const s = [...shape];
  const i = s.indexOf(-1);
  if (i >= 0) s[i] = x.data.length / s.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return { shape: s, data: x.data.slice() };
}

/** Float64 reference of wg.transpose. */
export function transpose(x: CpuTensor, d0: number, d1: number): CpuTensor {
  const nd = x.shape.length;
  const a = d0 < 0 ? d0 + nd : d0;
  const b = d1 < 0 ? d1 + nd : d1;
  const shape = [...x.shape];
  [shape[a], shape[b]] = [shape[b]!, shape[a]!];
  const st = cpuStrides(x.shape);
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    [idx[a], idx[b]] = [idx[b]!, idx[a]!];
    out[i] = x.data[idx.reduce((o, v, d) => o + v * st[d]!, 0)]!;
  }
  return { shape, data: out };
}

/** Float64 reference of wg.concat. */
export function concat(ts: CpuTensor[], dim = 0): CpuTensor {
  const nd = ts[0]!.shape.length;
  const d = dim < 0 ? dim + nd : dim;
  const shape = [...ts[0]!.shape];
  shape[d] = ts.reduce((a, t) => a + t.shape[d]!, 0);
  const out = new Float64Array(cpuSize(shape));
  const st = cpuStrides(shape);
  let off = 0;
  for (const t of ts) {
    for (let i = 0; i < t.data.length; i++) {
      const idx = unravel(i, t.shape);
      idx[d]! += off;
      out[idx.reduce((o, v, k) => o + v * st[k]!, 0)] = t.data[i]!;
    }
    off += t.shape[d]!;
  }
  return { shape, data: out };
}

/** Output element i reads x at the index `map` gives for i's index (the shape ops below). */
function mapIndex(x: CpuTensor, shape: number[], map: (idx: number[]) => number[]): CpuTensor {
  const st = cpuStrides(x.shape);
  const out = new Float64Array(cpuSize(shape));
  for (let i = 0; i < out.length; i++) out[i] = x.data[map(unravel(i, shape)).reduce((o, v, d) => o + v * st[d]!, 0)]!;
  return { shape, data: out };
}

const norm = (d: number, nd: number) => (d < 0 ? d + nd : d);

/** Float64 reference of wg.permute. */
export function permute(x: CpuTensor, dims: number[]): CpuTensor {
  const p = dims.map((d) => norm(d, x.shape.length));
  return mapIndex(
    x,
    p.map((d) => x.shape[d]!),
    (idx) => {
      const src = new Array<number>(p.length);
      p.forEach((d, i) => (src[d] = idx[i]!));
      return src;
    },
  );
}

/** Float64 reference of wg.slice. */
export function slice(x: CpuTensor, dim: number, start = 0, end?: number, step = 1): CpuTensor {
  const d = norm(dim, x.shape.length);
  const D = x.shape[d]!;
  const c = (v: number) => Math.min(D, Math.max(0, v < 0 ? v + D : v));
  const s0 = c(start);
  const e0 = c(end ?? D);
  const shape = x.shape.map((s, i) => (i === d ? Math.max(0, Math.ceil((e0 - s0) / step)) : s));
  return mapIndex(x, shape, (idx) => idx.map((v, i) => (i === d ? s0 + v * step : v)));
}

/** Float64 reference of wg.narrow. */
export const narrow = (x: CpuTensor, dim: number, start: number, length: number) => {
  const D = x.shape[norm(dim, x.shape.length)]!;
  const s0 = start < 0 ? start + D : start;
  return slice(x, dim, s0, s0 + length);
};

/** Float64 reference of wg.indexSelect. */
export function indexSelect(x: CpuTensor, dim: number, index: CpuTensor): CpuTensor {
  const d = norm(dim, x.shape.length);
  const shape = x.shape.map((s, i) => (i === d ? index.data.length : s));
  return mapIndex(x, shape, (idx) => idx.map((v, i) => (i === d ? index.data[v]! : v)));
}

/** Float64 reference of wg.stack. */
export function stack(ts: CpuTensor[], dim = 0): CpuTensor {
  const d = norm(dim, ts[0]!.shape.length + 1);
  return concat(
    ts.map((t) => reshape(t, [...t.shape.slice(0, d), 1, ...t.shape.slice(d)])),
    d,
  );
}
