// The kernel workloads: each kernel family on the CPU reference, wgslgrad and TF.js, same inputs.
import type * as TF from '@tensorflow/tfjs';
import * as wg from '../src/index.js';
import { type Ctx, cpuT, gpuT, randData, type Workload } from './harness.js';
import { nchwToNhwc, nhwcToNchw, permuteW, unpermuteW } from './tfjs.js';

const C = wg.cpu;
type Shape4 = [number, number, number, number];

/** The TF.js instance of a run that reached a workload's tfjs() (only called once it is loaded). */
const tfOf = (ctx: Ctx) => ctx.tf!;

/** Above 1024² the CPU reference computes (and the check compares) 16 sampled rows only. */
export function matmulWorkload(ctx: Ctx, name: string, M: number, K: number, N: number, cpuReps = 1): Workload {
  const a = randData(M * K, 1);
  const b = randData(K * N, 2);
  const sampled = M * N * K > 1024 ** 3;
  const rows = sampled ? Array.from({ length: 16 }, (_, i) => Math.floor((i * (M - 1)) / 15)) : null;
  let ga: wg.Tensor | undefined;
  let gb: wg.Tensor | undefined;
  return {
    name,
    desc: `[${M}×${K}]·[${K}×${N}]${sampled ? ' (checked on 16 sampled rows)' : ''}`,
    flop: 2 * M * N * K,
    cpuReps,
    cpuScale: rows ? M / rows.length : 0,
    cpu: () => {
      if (!rows) return [C.matmul(cpuT(a, [M, K]), cpuT(b, [K, N])).data];
      const sub = new Float32Array(rows.length * K);
      rows.forEach((r, i) => sub.set(a.subarray(r * K, (r + 1) * K), i * K));
      return [C.matmul(cpuT(sub, [rows.length, K]), cpuT(b, [K, N])).data];
    },
    select: rows
      ? (outs) => {
          const o = new Float32Array(rows.length * N);
          rows.forEach((r, i) => o.set(outs[0]!.subarray(r * N, (r + 1) * N), i * N));
          return [o];
        }
      : null,
    gpu: () => {
      ga ??= wg.keep(gpuT(a, [M, K]));
      gb ??= wg.keep(gpuT(b, [K, N]));
      return [wg.matmul(ga, gb)];
    },
    tfjs: () => {
      const tf = tfOf(ctx);
      const ta = tf.tensor2d(a, [M, K]);
      const tb = tf.tensor2d(b, [K, N]);
      return { run: () => tf.matMul(ta, tb), outputs: (o) => o, dispose: () => tf.dispose([ta, tb]) };
    },
  };
}

/** conv2d (transposed = false) or convTranspose2d layer, k4 s2 p1 as in R1, forward or forward + all grads. */
export function convWorkload(
  ctx: Ctx,
  name: string,
  { transposed, N, CI, CO, H, grads }: { transposed: boolean; N: number; CI: number; CO: number; H: number; grads: boolean },
): Workload {
  const OH = transposed ? H * 2 : H / 2;
  const xs: Shape4 = [N, CI, H, H];
  const ws: Shape4 = transposed ? [CI, CO, 4, 4] : [CO, CI, 4, 4];
  const ys: Shape4 = [N, CO, OH, OH];
  const x = randData(N * CI * H * H, 3);
  const w = randData(16 * CI * CO, 4, 0.05);
  const bias = randData(CO, 5);
  const g = randData(N * CO * OH * OH, 6);
  const opts = { stride: 2, padding: 1 };
  const macs = N * CO * OH * OH * CI * (transposed ? 4 : 16);
  let gx: wg.Tensor | undefined;
  let gw: wg.Tensor | undefined;
  let gbias: wg.Tensor | undefined;
  let gg: wg.Tensor | undefined;
  const op = transposed ? wg.convTranspose2d : wg.conv2d;
  return {
    name,
    desc: `${transposed ? 'convT' : 'conv'} [${xs}]→[${ys}] k4 s2 p1${grads ? ', forward + input/weight/bias grads' : ', forward'}`,
    flop: 2 * macs * (grads ? 3 : 1),
    cpu: () => {
      const cx = cpuT(x, xs);
      const cw = cpuT(w, ws);
      const y = (transposed ? C.convTranspose2d : C.conv2d)(cx, cw, cpuT(bias, [CO]), opts);
      if (!grads) return [y.data];
      const r = (transposed ? C.convTranspose2dBackward : C.conv2dBackward)(cx, cw, cpuT(g, ys), opts);
      return [y.data, r.dx.data, r.dw.data, r.db.data];
    },
    gpu: () => {
      gx ??= wg.keep(gpuT(x, xs, true));
      gw ??= wg.keep(gpuT(w, ws, true));
      gbias ??= wg.keep(gpuT(bias, [CO], true));
      gg ??= wg.keep(gpuT(g, ys));
      const [px, pw, pb] = [gx, gw, gbias];
      if (!grads) return [wg.noGrad(() => op(px, pw, pb, opts))];
      for (const p of [px, pw, pb]) {
        p.grad?.dispose();
        p.grad = null;
      }
      const y = op(px, pw, pb, opts);
      y.backward(gg);
      return [y, px.grad, pw.grad, pb.grad];
    },
    tfjs: (backend) => {
      if (grads && backend === 'wasm') return 'TF.js wasm has no Conv2DBackpropFilter kernel';
      const tf = tfOf(ctx);
      const tx = tf.tensor4d(nchwToNhwc(x, xs), [N, H, H, CI]);
      const tw = tf.tensor4d(permuteW(w, ws), [4, 4, transposed ? CO : CI, transposed ? CI : CO]);
      const tb = tf.tensor1d(bias);
      const tg = tf.tensor4d(nchwToNhwc(g, ys), [N, OH, OH, CO]);
      const fwd = (xx: TF.Tensor, ww: TF.Tensor, bb: TF.Tensor) =>
        tf.add(
          transposed
            ? tf.conv2dTranspose(xx as TF.Tensor4D, ww as TF.Tensor4D, [N, OH, OH, CO], 2, 'same')
            : tf.conv2d(xx as TF.Tensor4D, ww as TF.Tensor4D, 2, 'same'),
          bb,
        );
      const run = grads
        ? () => {
            const y = fwd(tx, tw, tb);
            const gr = tf.grads((a, b, c) => fwd(a!, b!, c!))([tx, tw, tb], tg);
            return [y, ...gr];
          }
        : () => fwd(tx, tw, tb);
      const outputs = (o: Float32Array[]) => {
        const out = [nhwcToNchw(o[0]!, ys)];
        if (grads) out.push(nhwcToNchw(o[1]!, xs), unpermuteW(o[2]!, ws), o[3]!);
        return out;
      };
      return { run, outputs, dispose: () => tf.dispose([tx, tw, tb, tg]) };
    },
  };
}

export function batchnormWorkload(ctx: Ctx, name: string, shape: Shape4): Workload {
  const [N, Cc, H, W] = shape;
  const n = N * Cc * H * W;
  const x = randData(n, 7);
  const gamma = randData(Cc, 8);
  const beta = randData(Cc, 9);
  const g = randData(n, 10);
  let gx: wg.Tensor | undefined;
  let gga: wg.Tensor | undefined;
  let gbe: wg.Tensor | undefined;
  let gg: wg.Tensor | undefined;
  return {
    name,
    desc: `batchNorm2d training [${shape}], forward + input/weight/bias grads`,
    bytes: 4 * n * 5,
    cpuReps: 1,
    cpu: () => {
      const cx = cpuT(x, shape);
      const cga = cpuT(gamma, [Cc]);
      const y = C.batchNorm(cx, null, null, cga, cpuT(beta, [Cc]), { training: true });
      const r = C.batchNormBackward(cx, cga, cpuT(g, shape));
      return [y.data, r.dx.data, r.dw.data, r.db.data];
    },
    gpu: () => {
      gx ??= wg.keep(gpuT(x, shape, true));
      gga ??= wg.keep(gpuT(gamma, [Cc], true));
      gbe ??= wg.keep(gpuT(beta, [Cc], true));
      gg ??= wg.keep(gpuT(g, shape));
      const [px, pg, pb] = [gx, gga, gbe];
      for (const p of [px, pg, pb]) {
        p.grad?.dispose();
        p.grad = null;
      }
      const y = wg.batchNorm(px, null, null, pg, pb, { training: true });
      y.backward(gg);
      return [y, px.grad, pg.grad, pb.grad];
    },
    tfjs: () => {
      const tf = tfOf(ctx);
      const tx = tf.tensor4d(nchwToNhwc(x, shape), [N, H, W, Cc]);
      const tga = tf.tensor1d(gamma);
      const tbe = tf.tensor1d(beta);
      const tg = tf.tensor4d(nchwToNhwc(g, shape), [N, H, W, Cc]);
      const f = (xx: TF.Tensor, ga: TF.Tensor, be: TF.Tensor) => {
        const m = tf.moments(xx, [0, 1, 2]);
        return tf.batchNorm(xx, m.mean, m.variance, be, ga, 1e-5);
      };
      return {
        run: () => [f(tx, tga, tbe), ...tf.grads((a, b, c) => f(a!, b!, c!))([tx, tga, tbe], tg)],
        outputs: (o) => [nhwcToNchw(o[0]!, shape), nhwcToNchw(o[1]!, shape), o[2]!, o[3]!],
        dispose: () => tf.dispose([tx, tga, tbe, tg]),
      };
    },
  };
}

export function leakyWorkload(ctx: Ctx, name: string, n: number): Workload {
  const x = randData(n, 11);
  let gx: wg.Tensor | undefined;
  return {
    name,
    desc: `leakyRelu(0.2) forward over ${n} elements`,
    bytes: 8 * n,
    cpuReps: 3,
    cpu: () => [C.leakyRelu(cpuT(x, [n]), 0.2).data],
    gpu: () => {
      gx ??= wg.keep(gpuT(x, [n]));
      const t = gx;
      return [wg.noGrad(() => wg.leakyRelu(t, 0.2))];
    },
    tfjs: () => {
      const tf = tfOf(ctx);
      const t = tf.tensor1d(x);
      return { run: () => tf.leakyRelu(t, 0.2), outputs: (o) => o, dispose: () => t.dispose() };
    },
  };
}

export function bceWorkload(ctx: Ctx, name: string, n: number): Workload {
  const x = randData(n, 12, 4);
  const y = Float32Array.from(randData(n, 13), (v) => (v > 0 ? 1 : 0));
  let gx: wg.Tensor | undefined;
  let gy: wg.Tensor | undefined;
  return {
    name,
    desc: `bceWithLogits (mean) + gradient over ${n} logits`,
    bytes: 12 * n,
    cpuReps: 3,
    cpu: () => {
      const loss = C.bceWithLogits(cpuT(x, [n]), cpuT(y, [n])).data;
      const d = new Float64Array(n);
      for (let i = 0; i < n; i++) d[i] = (1 / (1 + Math.exp(-x[i]!)) - y[i]!) / n;
      return [loss, d];
    },
    gpu: () => {
      gx ??= wg.keep(gpuT(x, [n], true));
      gy ??= wg.keep(gpuT(y, [n]));
      const px = gx;
      px.grad?.dispose();
      px.grad = null;
      const l = wg.bceWithLogits(px, gy);
      l.backward();
      return [l, px.grad];
    },
    tfjs: () => {
      const tf = tfOf(ctx);
      const tx = tf.tensor1d(x);
      const ty = tf.tensor1d(y);
      const f = (xx: TF.Tensor) => tf.losses.sigmoidCrossEntropy(ty, xx);
      return { run: () => [f(tx), tf.grad(f)(tx)], outputs: (o) => o, dispose: () => tf.dispose([tx, ty]) };
    },
  };
}

export function adamWorkload(ctx: Ctx, name: string, n: number): Workload {
  const p0 = randData(n, 14);
  const g = randData(n, 15);
  const o = { lr: 2e-4, betas: [0.5, 0.999] as [number, number], eps: 1e-8, weightDecay: 0 };
  let param: wg.Tensor | undefined;
  let opt: wg.optim.Adam | undefined;
  return {
    name,
    desc: `one Adam(2e-4, 0.5, 0.999) step over ${n} parameters`,
    bytes: 4 * n * 7,
    cpuReps: 3,
    ownsOutputs: true,
    cpu: () => {
      const p = Float64Array.from(p0);
      C.adam(p, Float64Array.from(g), new Float64Array(n), new Float64Array(n), 1, o);
      return [p];
    },
    gpu: () => {
      if (!param || !opt) {
        param = wg.keep(gpuT(p0, [n], true));
        param.grad = wg.keep(gpuT(g, [n]));
        opt = new wg.optim.Adam([param], { lr: o.lr, betas: o.betas });
      }
      // the first call (the comparison) takes one step from p0; later calls time further steps
      opt.step();
      return [param];
    },
    tfjs: () => {
      const tf = tfOf(ctx);
      const v = tf.variable(tf.tensor1d(p0));
      const tg = tf.tensor1d(g);
      const adam = tf.train.adam(o.lr, o.betas[0], o.betas[1], o.eps);
      return {
        run: () => {
          adam.applyGradients([{ name: v.name, tensor: tg }]);
          return v.clone();
        },
        outputs: (out) => out,
        dispose: () => {
          tf.dispose([v, tg]);
          adam.dispose();
        },
      };
    },
  };
}

/** Softmax over rows of D, forward and the input's gradient of sum(softmax(x) · g). */
export function softmaxWorkload(ctx: Ctx, name: string, rows: number, D: number): Workload {
  const n = rows * D;
  const x = randData(n, 31, 4);
  const g = randData(n, 32);
  let gx: wg.Tensor | undefined;
  let gg: wg.Tensor | undefined;
  return {
    name,
    desc: `softmax over [${rows}, ${D}] (last dim), forward + input gradient`,
    bytes: 4 * 5 * n,
    cpuReps: 3,
    cpu: () => {
      const y = C.softmax(cpuT(x, [rows, D]), -1).data;
      const dx = new Float64Array(n);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += g[r * D + j]! * y[r * D + j]!;
        for (let j = 0; j < D; j++) dx[r * D + j] = y[r * D + j]! * (g[r * D + j]! - s);
      }
      return [y, dx];
    },
    gpu: () => {
      gx ??= wg.keep(gpuT(x, [rows, D], true));
      gg ??= wg.keep(gpuT(g, [rows, D]));
      const px = gx;
      px.grad?.dispose();
      px.grad = null;
      const y = wg.softmax(px, -1);
      y.backward(gg);
      return [y, px.grad];
    },
    tfjs: () => {
      const tf = tfOf(ctx);
      const tx = tf.tensor2d(x, [rows, D]);
      const tg = tf.tensor2d(g, [rows, D]);
      return { run: () => [tf.softmax(tx), tf.grad((a: TF.Tensor) => tf.softmax(a))(tx, tg)], outputs: (o) => o, dispose: () => tf.dispose([tx, tg]) };
    },
  };
}

/** layerNorm over rows of D with weight and bias, forward and every gradient of sum(y · g). */
export function layerNormWorkload(ctx: Ctx, name: string, rows: number, D: number): Workload {
  const n = rows * D;
  const x = randData(n, 33, 3);
  const w = randData(D, 34);
  const b = randData(D, 35);
  const g = randData(n, 36);
  const eps = 1e-5;
  let t: { x: wg.Tensor; w: wg.Tensor; b: wg.Tensor; g: wg.Tensor } | undefined;
  return {
    name,
    desc: `layerNorm over [${rows}, ${D}] with weight and bias, forward + gradients of x, weight and bias`,
    bytes: 4 * 5 * n,
    cpuReps: 3,
    cpu: () => {
      const y = C.layerNorm(cpuT(x, [rows, D]), D, cpuT(w, [D]), cpuT(b, [D]), { eps }).data;
      const dx = new Float64Array(n);
      const dw = new Float64Array(D);
      const db = new Float64Array(D);
      const xh = new Float64Array(D);
      for (let r = 0; r < rows; r++) {
        let m = 0;
        for (let j = 0; j < D; j++) m += x[r * D + j]!;
        m /= D;
        let v = 0;
        for (let j = 0; j < D; j++) v += (x[r * D + j]! - m) ** 2;
        const rs = 1 / Math.sqrt(v / D + eps);
        let a = 0;
        let c = 0;
        for (let j = 0; j < D; j++) {
          xh[j] = (x[r * D + j]! - m) * rs;
          const gh = g[r * D + j]! * w[j]!;
          a += gh;
          c += gh * xh[j]!;
          dw[j] += g[r * D + j]! * xh[j]!;
          db[j] += g[r * D + j]!;
        }
        for (let j = 0; j < D; j++) dx[r * D + j] = rs * (g[r * D + j]! * w[j]! - a / D - (xh[j]! * c) / D);
      }
      return [y, dx, dw, db];
    },
    gpu: () => {
      t ??= { x: wg.keep(gpuT(x, [rows, D], true)), w: wg.keep(gpuT(w, [D], true)), b: wg.keep(gpuT(b, [D], true)), g: wg.keep(gpuT(g, [rows, D])) };
      for (const p of [t.x, t.w, t.b]) {
        p.grad?.dispose();
        p.grad = null;
      }
      const y = wg.layerNorm(t.x, D, t.w, t.b, { eps });
      y.backward(t.g);
      return [y, t.x.grad, t.w.grad, t.b.grad];
    },
    tfjs: () => {
      const tf = tfOf(ctx);
      const tx = tf.tensor2d(x, [rows, D]);
      const tw = tf.tensor1d(w);
      const tb = tf.tensor1d(b);
      const tg = tf.tensor2d(g, [rows, D]);
      // TF.js has no layer norm op: moments, then the affine map (what tf.layers.layerNormalization computes)
      const f = (a: TF.Tensor, ww: TF.Tensor, bb: TF.Tensor) => {
        const { mean, variance } = tf.moments(a, -1, true);
        return a
          .sub(mean)
          .mul(tf.rsqrt(variance.add(eps)))
          .mul(ww)
          .add(bb);
      };
      return {
        run: () => [f(tx, tw, tb), ...tf.grads((a, ww, bb) => f(a!, ww!, bb!))([tx, tw, tb], tg)],
        outputs: (o) => o,
        dispose: () => tf.dispose([tx, tw, tb, tg]),
      };
    },
  };
}

/**
 * Causal scaled dot-product attention over [B, H, T, D] heads, forward and the gradients of q, k and
 * v of sum(out · g): the fused kernels, or the composed ops (the [T, T] scores in memory).
 */
export function attentionWorkload(ctx: Ctx, name: string, B: number, H: number, T: number, D: number, composed: boolean): Workload {
  const shape = [B, H, T, D];
  const n = B * H * T * D;
  const [q, k, v, g] = [41, 42, 43, 44].map((s) => randData(n, s));
  let t: wg.Tensor[] | undefined;
  return {
    name,
    desc: `causal attention, ${composed ? 'composed ops (matmul, mask, softmax, matmul)' : 'fused kernels'}: [${shape}], forward + gradients of q, k, v (the reference checks the forward)`,
    flop: 4 * B * H * T * T * D * 3,
    cpuReps: 1,
    cpuScale: 3,
    select: (outs) => [outs[0]!],
    cpu: () => [C.scaledDotProductAttention(cpuT(q!, shape), cpuT(k!, shape), cpuT(v!, shape), { causal: true }).data],
    gpu: () => {
      t ??= [q!, k!, v!].map((d) => wg.keep(gpuT(d, shape, true))).concat(wg.keep(gpuT(g!, shape)));
      const [tq, tk, tv, tg] = t as [wg.Tensor, wg.Tensor, wg.Tensor, wg.Tensor];
      for (const p of [tq, tk, tv]) {
        p.grad?.dispose();
        p.grad = null;
      }
      const o = wg.scaledDotProductAttention(tq, tk, tv, { causal: true, composed });
      o.backward(tg);
      return [o, tq.grad, tk.grad, tv.grad];
    },
    tfjs: () => {
      const tf = tfOf(ctx);
      const [tq, tk, tv, tg] = [q!, k!, v!, g!].map((d) => tf.tensor4d(d, shape as [number, number, number, number]));
      const mask = tf.tensor2d(
        Float32Array.from({ length: T * T }, (_, e) => (e % T > Math.floor(e / T) ? -1e9 : 0)),
        [T, T],
      );
      const f = (a: TF.Tensor, b: TF.Tensor, c: TF.Tensor) =>
        tf.matMul(
          tf.softmax(
            tf
              .matMul(a as TF.Tensor4D, b as TF.Tensor4D, false, true)
              .mul(1 / Math.sqrt(D))
              .add(mask),
          ),
          c as TF.Tensor4D,
        );
      return {
        run: () => [f(tq!, tk!, tv!), ...tf.grads((a, b, c) => f(a!, b!, c!))([tq!, tk!, tv!], tg)],
        outputs: (o) => [o[0]!],
        dispose: () => tf.dispose([tq!, tk!, tv!, tg!, mask]),
      };
    },
  };
}
