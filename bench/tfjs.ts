// TF.js 4.22 on the same Dawn adapter (webgpu backend) and wasm, for side-by-side rows: loading,
// NCHW ↔ NHWC and weight layouts, and the two GAN steps written in TF.js core ops.
import type * as TF from '@tensorflow/tfjs';
import type { Preset } from '../examples/mnist-gan/presets.js';
import { PRESETS } from '../examples/mnist-gan/presets.js';

export type Tf = typeof TF;

/** TF.js with its webgpu backend on a Dawn instance of its own, and wasm; a note when it cannot load. */
export async function loadTfjs(): Promise<{ tf: Tf | null; note: string }> {
  try {
    const { create, globals } = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
    const gpu = create([]);
    const g = globalThis as Record<string, unknown> & { __benchGpu?: GPU; navigator?: object };
    // TF.js's webgpu backend expects a browser's globals (GPUBufferUsage, GPUMapMode, …): this
    // process sets them for it (the library itself sets none)
    for (const [k, v] of Object.entries(globals)) if (!(k in g)) g[k] = v;
    g.__benchGpu = gpu; // Dawn frees its instance when this object is collected
    if (!g.navigator) g.navigator = {};
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    const tf = (await import('@tensorflow/tfjs')) as Tf;
    await import('@tensorflow/tfjs-backend-webgpu');
    await import('@tensorflow/tfjs-backend-wasm');
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    return { tf, note: '' };
  } catch (e) {
    const note = `TF.js not loaded: ${(e as Error).message}`;
    console.log(note);
    return { tf: null, note };
  }
}

/** Switches TF.js to `name`; false when that backend does not start. */
export async function tfBackend(tf: Tf | null, name: string): Promise<boolean> {
  if (!tf) return false;
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

type Shape4 = readonly [number, number, number, number];

/** NCHW data → NHWC (TF.js layout) and back. */
export function nchwToNhwc(d: ArrayLike<number>, [N, C, H, W]: Shape4): Float32Array {
  const o = new Float32Array(d.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) o[((n * H + h) * W + w) * C + c] = d[((n * C + c) * H + h) * W + w]!;
  return o;
}
export function nhwcToNchw(d: ArrayLike<number>, [N, C, H, W]: Shape4): Float32Array {
  const o = new Float32Array(d.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) o[((n * C + c) * H + h) * W + w] = d[((n * H + h) * W + w) * C + c]!;
  return o;
}
/** PyTorch conv weight [CO,CI,KH,KW] → TF conv2d filter [KH,KW,CI,CO]; convT weight [CI,CO,KH,KW] → TF conv2dTranspose filter [KH,KW,CO,CI]. */
export function permuteW(d: ArrayLike<number>, [A, B, KH, KW]: Shape4): Float32Array {
  const o = new Float32Array(d.length);
  for (let a = 0; a < A; a++)
    for (let b = 0; b < B; b++)
      for (let h = 0; h < KH; h++) for (let w = 0; w < KW; w++) o[((h * KW + w) * B + b) * A + a] = d[((a * B + b) * KH + h) * KW + w]!;
  return o;
}
export function unpermuteW(d: ArrayLike<number>, [A, B, KH, KW]: Shape4): Float32Array {
  const o = new Float32Array(d.length);
  for (let a = 0; a < A; a++)
    for (let b = 0; b < B; b++)
      for (let h = 0; h < KH; h++) for (let w = 0; w < KW; w++) o[((a * B + b) * KH + h) * KW + w] = d[((h * KW + w) * B + b) * A + a]!;
  return o;
}

/** A GAN training step in TF.js: D step on real + fake, then G step, Adam for both. */
export interface TfGan {
  step(data: Float32Array): TF.Tensor[];
  dispose(): void;
}

const tfAdam = (tf: Tf, preset: Preset) => tf.train.adam(preset.lrG, preset.beta1, preset.beta2, 1e-8);

function tfGan(
  tf: Tf,
  B: number,
  preset: Preset,
  G: (z: TF.Tensor) => TF.Tensor,
  D: (x: TF.Tensor) => TF.Tensor,
  gVars: TF.Variable[],
  dVars: TF.Variable[],
  xShape: number[],
): TfGan {
  const optG = tfAdam(tf, preset);
  const optD = tfAdam(tf, preset);
  const ones = tf.ones([B, 1]);
  const zeros = tf.zeros([B, 1]);
  return {
    step: (data) => {
      const real = tf.tensor(data, xShape);
      const z = tf.randomNormal([B, preset.z]);
      const lossD = optD.minimize(
        () => tf.add(tf.losses.sigmoidCrossEntropy(ones, D(real)), tf.losses.sigmoidCrossEntropy(zeros, D(G(z)))) as TF.Scalar,
        true,
        dVars,
      );
      const lossG = optG.minimize(() => tf.losses.sigmoidCrossEntropy(ones, D(G(z))) as TF.Scalar, true, gVars);
      return [lossD!, lossG!];
    },
    dispose: () => {
      tf.dispose([...gVars, ...dVars, ones, zeros]);
      optG.dispose();
      optD.dispose();
    },
  };
}

/** R1 in TF.js core ops (NHWC), same layer sizes and step. */
export function tfDcgan(tf: Tf, B: number): TfGan {
  const preset = PRESETS.dcgan;
  const nrm = (shape: number[]) => tf.variable(tf.randomNormal(shape, 0, 0.02));
  const zer = (shape: number[]) => tf.variable(tf.zeros(shape));
  const one = (shape: number[]) => tf.variable(tf.ones(shape));
  const g = {
    l1W: nrm([100, 6272]),
    l1b: zer([6272]),
    bn1g: one([6272]),
    bn1b: zer([6272]),
    t1W: nrm([4, 4, 64, 128]),
    t1b: zer([64]),
    bn2g: one([64]),
    bn2b: zer([64]),
    t2W: nrm([4, 4, 1, 64]),
    t2b: zer([1]),
  };
  const d = { c1W: nrm([4, 4, 1, 64]), c1b: zer([64]), c2W: nrm([4, 4, 64, 128]), c2b: zer([128]), fW: nrm([6272, 1]), fb: zer([1]) };
  const bn = (x: TF.Tensor, gm: TF.Tensor, bt: TF.Tensor, axes: number[]) => {
    const m = tf.moments(x, axes);
    return tf.batchNorm(x, m.mean, m.variance, bt, gm, 1e-5);
  };
  const G = (z: TF.Tensor) => {
    let h: TF.Tensor = tf.relu(bn(tf.add(tf.matMul(z as TF.Tensor2D, g.l1W as TF.Tensor2D), g.l1b), g.bn1g, g.bn1b, [0]));
    h = tf.reshape(h, [B, 7, 7, 128]);
    h = tf.relu(bn(tf.add(tf.conv2dTranspose(h as TF.Tensor4D, g.t1W as TF.Tensor4D, [B, 14, 14, 64], 2, 'same'), g.t1b), g.bn2g, g.bn2b, [0, 1, 2]));
    return tf.tanh(tf.add(tf.conv2dTranspose(h as TF.Tensor4D, g.t2W as TF.Tensor4D, [B, 28, 28, 1], 2, 'same'), g.t2b));
  };
  const D = (x: TF.Tensor) => {
    let h: TF.Tensor = tf.leakyRelu(tf.add(tf.conv2d(x as TF.Tensor4D, d.c1W as TF.Tensor4D, 2, 'same'), d.c1b), 0.2);
    h = tf.leakyRelu(tf.add(tf.conv2d(h as TF.Tensor4D, d.c2W as TF.Tensor4D, 2, 'same'), d.c2b), 0.2);
    return tf.add(tf.matMul(tf.reshape(h, [B, 6272]) as TF.Tensor2D, d.fW as TF.Tensor2D), d.fb); // logits; the loss applies the sigmoid
  };
  return tfGan(tf, B, preset, G, D, Object.values(g), Object.values(d), [B, 28, 28, 1]);
}

/** R3 in TF.js core ops. */
export function tfMlp(tf: Tf, B: number): TfGan {
  const preset = PRESETS.mlp;
  const lin = (i: number, o: number): [TF.Variable, TF.Variable] => {
    const k = 1 / Math.sqrt(i);
    return [tf.variable(tf.randomUniform([i, o], -k, k)), tf.variable(tf.randomUniform([o], -k, k))];
  };
  const gl = [lin(100, 256), lin(256, 512), lin(512, 1024), lin(1024, 784)];
  const dl = [lin(784, 1024), lin(1024, 512), lin(512, 256), lin(256, 1)];
  const G = (z: TF.Tensor) => {
    let h = z;
    gl.forEach(([w, b], i) => {
      h = tf.add(tf.matMul(h as TF.Tensor2D, w as TF.Tensor2D), b);
      h = i < 3 ? tf.leakyRelu(h, 0.2) : tf.tanh(h);
    });
    return h;
  };
  const D = (x: TF.Tensor) => {
    let h = x;
    dl.forEach(([w, b], i) => {
      h = tf.add(tf.matMul(h as TF.Tensor2D, w as TF.Tensor2D), b);
      if (i < 3) h = tf.dropout(tf.leakyRelu(h, 0.2), 0.3);
    });
    return h;
  };
  return tfGan(tf, B, preset, G, D, gl.flat(), dl.flat(), [B, 784]);
}
