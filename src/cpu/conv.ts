// CPU reference of src/ops/conv.ts: direct loops, float64 accumulation.
import { type Pair as P2, pair } from '../args.js';
import type { CpuTensor } from './tensor.js';

const two = (v: P2 | undefined, d: number): [number, number] => pair('cpu.conv', 'stride/padding', v, d, 0);

/** Float64 reference of wg.conv2d (direct loops). */
export function conv2d(x: CpuTensor, w: CpuTensor, b?: CpuTensor | null, opts: { stride?: P2; padding?: P2 } = {}): CpuTensor {
  const [sh, sw] = two(opts.stride, 1);
  const [ph, pw] = two(opts.padding, 0);
  const [N, CI, H, W] = x.shape as [number, number, number, number];
  const [CO, , KH, KW] = w.shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * ph - KH) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - KW) / sw) + 1;
  const y = new Float64Array(N * CO * OH * OW);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < CO; co++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = b ? b.data[co]! : 0;
          for (let ci = 0; ci < CI; ci++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh - ph + kh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * sw - pw + kw;
                if (iw < 0 || iw >= W) continue;
                s += x.data[((n * CI + ci) * H + ih) * W + iw]! * w.data[((co * CI + ci) * KH + kh) * KW + kw]!;
              }
            }
          y[((n * CO + co) * OH + oh) * OW + ow] = s;
        }
  return { shape: [N, CO, OH, OW], data: y };
}

/** Float64 reference of wg.convTranspose2d (direct loops). */
export function convTranspose2d(x: CpuTensor, w: CpuTensor, b?: CpuTensor | null, opts: { stride?: P2; padding?: P2; outputPadding?: P2 } = {}): CpuTensor {
  const [sh, sw] = two(opts.stride, 1);
  const [ph, pw] = two(opts.padding, 0);
  const [oph, opw] = two(opts.outputPadding, 0);
  const [N, CI, H, W] = x.shape as [number, number, number, number];
  const [, CO, KH, KW] = w.shape as [number, number, number, number];
  const OH = (H - 1) * sh - 2 * ph + KH + oph;
  const OW = (W - 1) * sw - 2 * pw + KW + opw;
  const y = new Float64Array(N * CO * OH * OW);
  for (let n = 0; n < N; n++) for (let co = 0; co < CO; co++) for (let i = 0; i < OH * OW; i++) y[(n * CO + co) * OH * OW + i] = b ? b.data[co]! : 0;
  // scatter form: every input pixel adds its kernel-weighted contribution
  for (let n = 0; n < N; n++)
    for (let ci = 0; ci < CI; ci++)
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++) {
          const v = x.data[((n * CI + ci) * H + ih) * W + iw]!;
          for (let co = 0; co < CO; co++)
            for (let kh = 0; kh < KH; kh++) {
              const oh = ih * sh - ph + kh;
              if (oh < 0 || oh >= OH) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ow = iw * sw - pw + kw;
                if (ow < 0 || ow >= OW) continue;
                y[((n * CO + co) * OH + oh) * OW + ow]! += v * w.data[((ci * CO + co) * KH + kh) * KW + kw]!;
              }
            }
        }
  return { shape: [N, CO, OH, OW], data: y };
}

/** The gradients of a convolution's input, weight and bias. */
export interface ConvGrads {
  /** the input's */
  dx: CpuTensor;
  /** the weight's */
  dw: CpuTensor;
  /** the bias's */
  db: CpuTensor;
}

/** Gradients of conv2d for output gradient g (direct loops over the forward's products). */
export function conv2dBackward(x: CpuTensor, w: CpuTensor, g: CpuTensor, opts: { stride?: P2; padding?: P2 } = {}): ConvGrads {
  const [sh, sw] = two(opts.stride, 1);
  const [ph, pw] = two(opts.padding, 0);
  const [N, CI, H, W] = x.shape as [number, number, number, number];
  const [CO, , KH, KW] = w.shape as [number, number, number, number];
  const [, , OH, OW] = g.shape as [number, number, number, number];
  const dx = new Float64Array(x.data.length);
  const dw = new Float64Array(w.data.length);
  const db = new Float64Array(CO);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < CO; co++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const gv = g.data[((n * CO + co) * OH + oh) * OW + ow]!;
          db[co]! += gv;
          for (let ci = 0; ci < CI; ci++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh - ph + kh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * sw - pw + kw;
                if (iw < 0 || iw >= W) continue;
                const xi = ((n * CI + ci) * H + ih) * W + iw;
                const wi = ((co * CI + ci) * KH + kh) * KW + kw;
                dx[xi]! += gv * w.data[wi]!;
                dw[wi]! += gv * x.data[xi]!;
              }
            }
        }
  return { dx: { shape: [...x.shape], data: dx }, dw: { shape: [...w.shape], data: dw }, db: { shape: [CO], data: db } };
}

/** Gradients of convTranspose2d for output gradient g (direct loops over the forward's products). */
export function convTranspose2dBackward(x: CpuTensor, w: CpuTensor, g: CpuTensor, opts: { stride?: P2; padding?: P2 } = {}): ConvGrads {
  const [sh, sw] = two(opts.stride, 1);
  const [ph, pw] = two(opts.padding, 0);
  const [N, CI, H, W] = x.shape as [number, number, number, number];
  const [, CO, KH, KW] = w.shape as [number, number, number, number];
  const [, , OH, OW] = g.shape as [number, number, number, number];
  const dx = new Float64Array(x.data.length);
  const dw = new Float64Array(w.data.length);
  const db = new Float64Array(CO);
  for (let n = 0; n < N; n++) for (let co = 0; co < CO; co++) for (let i = 0; i < OH * OW; i++) db[co]! += g.data[(n * CO + co) * OH * OW + i]!;
  for (let n = 0; n < N; n++)
    for (let ci = 0; ci < CI; ci++)
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++) {
          const xi = ((n * CI + ci) * H + ih) * W + iw;
          const v = x.data[xi]!;
          let s = 0;
          for (let co = 0; co < CO; co++)
            for (let kh = 0; kh < KH; kh++) {
              const oh = ih * sh - ph + kh;
              if (oh < 0 || oh >= OH) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ow = iw * sw - pw + kw;
                if (ow < 0 || ow >= OW) continue;
                const gv = g.data[((n * CO + co) * OH + oh) * OW + ow]!;
                const wi = ((ci * CO + co) * KH + kh) * KW + kw;
                s += gv * w.data[wi]!;
                dw[wi]! += gv * v;
              }
            }
          dx[xi] = s;
        }
  return { dx: { shape: [...x.shape], data: dx }, dw: { shape: [...w.shape], data: dw }, db: { shape: [CO], data: db } };
}
