// Host tensors for the CPU reference: float64 data, row-major, the same shapes as the GPU ops.
/** A host tensor of the CPU reference: float64 values, row-major. */
export interface CpuTensor {
  /** the dims */
  shape: number[];
  /** the values, row-major */
  data: Float64Array;
}

/** A CpuTensor of `data` (copied into float64) and `shape`. */
export function cpuTensor(data: ArrayLike<number>, shape: readonly number[]): CpuTensor {
  return { shape: [...shape], data: Float64Array.from(data) };
}

/** The element count of a shape. */
export function cpuSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides of a shape, in elements. */
export function cpuStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Multi-index of flat index i in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}
