// Host tensors for the CPU reference: float64 data, row-major, the same shapes as the GPU ops.
export interface CpuTensor {
  shape: number[];
  data: Float64Array;
}

export function cpuTensor(data: ArrayLike<number>, shape: readonly number[]): CpuTensor {
  return { shape: [...shape], data: Float64Array.from(data) };
}

export function cpuSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

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
