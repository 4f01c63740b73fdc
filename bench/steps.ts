// Whole training steps, timed per step with a wait for the GPU: the GAN step the example trains with
// (examples/mnist-gan/step.ts) and the same step in TF.js; the char-transformer's step
// (examples/char-transformer).
import { CharGpt } from '../examples/char-transformer/model.js';
import { PRESETS, type PresetName } from '../examples/mnist-gan/presets.js';
import { GanTrainer, presetSetup } from '../examples/mnist-gan/step.js';
import * as wg from '../src/index.js';
import { type Ctx, errLine, gpuTime, type Phase, type Row, randData, report, stats, tfRun, timeRuns, warm } from './harness.js';
import { tfBackend, tfDcgan, tfMlp } from './tfjs.js';

/** R1 DCGAN or R3 MLP GAN at batch B: D step on real + fake, then G step (D frozen), BCE, Adam. */
export async function ganStepBench(ctx: Ctx, name: string, presetName: Extract<PresetName, 'dcgan' | 'mlp'>, B: number, phase: Phase): Promise<void> {
  if (!ctx.wanted(name)) return;
  const preset = PRESETS[presetName];
  const desc = `${preset.report}; batch ${B}: D step on real + fake, then G step, Adam(${preset.lrG}, ${preset.beta1}, ${preset.beta2})`;
  console.log(`\n${name}: ${desc}`);
  const steps = ctx.quick ? 3 : presetName === 'dcgan' ? 5 : 10;
  const realData = randData(B * 784, 21);
  const rows: Row[] = [];
  if (phase === 'own') {
    // op by op (step), and captured once then replayed (replay): each on its own trainer
    for (const mode of ['eager', 'replay'] as const) {
      const { step, dispose } = ganStep(presetName, B, mode, realData);
      rows.push(await timeStep(ctx, name, mode === 'eager' ? 'wgslgrad' : 'wgslgrad-replay', step, steps, B, mode === 'eager'));
      dispose();
    }
  }
  const tf = ctx.tf;
  for (const backend of ['webgpu', 'wasm']) {
    if (phase !== 'tfjs' || !tf) continue;
    if (!(await tfBackend(tf, backend))) {
      rows.push({ workload: name, impl: `tfjs-${backend}`, unsupported: `backend ${backend} did not start` });
      continue;
    }
    if (presetName === 'dcgan' && backend === 'wasm') {
      rows.push({ workload: name, impl: 'tfjs-wasm', unsupported: 'TF.js wasm has no Conv2DBackpropFilter kernel' });
      continue;
    }
    const m = presetName === 'dcgan' ? tfDcgan(tf, B) : tfMlp(tf, B);
    try {
      const st = await timeRuns(
        ctx,
        tfRun(tf, () => m.step(realData)),
        Math.min(steps, 3),
      );
      rows.push({ workload: name, impl: `tfjs-${backend}`, ...st, images_per_s: (B * 1000) / st.median_ms });
    } catch (ex) {
      rows.push({ workload: name, impl: `tfjs-${backend}`, unsupported: errLine(ex) });
    }
    m.dispose();
  }
  report(rows, desc);
}

/**
 * One training step of a fresh trainer for the preset, op by op ('eager', in a scope) or captured at
 * its first call and replayed after it ('replay'); dispose() drops the capture.
 */
export function ganStep(
  presetName: Extract<PresetName, 'dcgan' | 'mlp'>,
  B: number,
  mode: 'eager' | 'replay',
  realData: Float32Array,
): { step: () => void; dispose: () => void } {
  const trainer = new GanTrainer(presetSetup(presetName, { batch: B }));
  const step =
    mode === 'eager'
      ? () => {
          wg.scope(() => {
            trainer.step(realData, null);
          });
        }
      : () => {
          trainer.replay(realData, null);
        };
  return { step, dispose: () => trainer.dropCapture() };
}

/** The char-transformer example's model (4 blocks, 4 heads, width 64, block 16, 27 tokens). */
export const TRANSFORMER = { vocabSize: 27, blockSize: 16, nLayer: 4, nHead: 4, nEmbd: 64, tied: false };

/** The char-transformer's training step at batch B: loss, backward, clipGradNorm(1), AdamW. */
export async function transformerStepBench(ctx: Ctx, name: string, B: number, phase: Phase): Promise<void> {
  if (!ctx.wanted(name) || phase !== 'own') return;
  const c = TRANSFORMER;
  const desc = `char-transformer (${c.nLayer} blocks, ${c.nHead} heads, width ${c.nEmbd}, ${c.blockSize} positions); batch ${B}: cross-entropy, backward, clipGradNorm, AdamW`;
  console.log(`\n${name}: ${desc}`);
  const rows: Row[] = [];
  for (const mode of ['eager', 'replay'] as const) {
    const { step, dispose } = transformerStep(B, mode);
    const r = await timeStep(ctx, name, mode === 'eager' ? 'wgslgrad' : 'wgslgrad-replay', step, ctx.quick ? 3 : 10, B, mode === 'eager');
    // a step's samples are words here, not images
    const { images_per_s, pipelined_images_per_s, ...rest } = r;
    rows.push({ ...rest, words_per_s: images_per_s, pipelined_words_per_s: pipelined_images_per_s });
    dispose();
  }
  report(rows, desc);
}

/** One step of a fresh char-transformer on fixed tokens, op by op or captured and replayed. */
export function transformerStep(B: number, mode: 'eager' | 'replay'): { step: () => void; dispose: () => void } {
  const c = TRANSFORMER;
  wg.manualSeed(5);
  const model = new CharGpt(c);
  const opt = new wg.optim.AdamW(model.parameters(), { lr: 5e-4, betas: [0.9, 0.99] });
  const tok = randData(2 * B * c.blockSize, 51);
  const x = wg.keep(
    wg.tensor(
      Float32Array.from(tok.subarray(0, B * c.blockSize), (v) => Math.floor((v + 1) * 13.5) % 27),
      [B, c.blockSize],
    ),
  );
  const y = wg.keep(
    wg.tensor(
      Float32Array.from(tok.subarray(B * c.blockSize), (v) => Math.floor((v + 1) * 13.5) % 27),
      [B, c.blockSize],
    ),
  );
  const fn = (xi: wg.Tensor, yi: wg.Tensor): wg.Tensor => {
    opt.zeroGrad();
    const loss = model.loss(xi, yi);
    loss.backward();
    wg.nn.utils.clipGradNorm(model.parameters(), 1);
    opt.step();
    return loss;
  };
  const captured = mode === 'replay' ? wg.capture(fn) : null;
  const step = () =>
    wg.scope(() => {
      if (captured) captured(x, y);
      else fn(x, y);
    });
  return {
    step,
    dispose: () => {
      captured?.dispose();
      for (const t of [x, y, ...model.parameters()]) t.dispose();
    },
  };
}

/**
 * A step timed synced (a wait for the GPU after each: median over `steps`) and pipelined (the next
 * step recorded while the GPU runs the last: mean over PIPELINED steps with one wait at the end),
 * with the CPU time to record and submit one step and its dispatches.
 */
async function timeStep(ctx: Ctx, name: string, impl: string, step: () => void, steps: number, B: number, profile: boolean): Promise<Row> {
  // two warm-up steps: the first makes the Adam states and the gradients (and captures, for a
  // replay), the second may still grow the pool once, since those now stay alive across the step
  for (let i = 0; i < 2; i++) {
    step();
    await wg.sync();
  }
  await warm(ctx, async () => {
    step();
    await wg.sync();
  });
  // an op-by-op step is handed the same buffers once the pool's free lists settle (a few steps),
  // and then finds all its bind groups cached: time it from there, as a long training run sees it
  for (let i = 0, calm = 0; i < (ctx.quick ? 2 : SETTLE_MAX) && calm < 2; i++) {
    const made = wg.engineStats().bindGroups;
    step();
    await wg.sync();
    calm = wg.engineStats().bindGroups === made ? calm + 1 : 0; // two steps in a row with none
  }
  const before = wg.engineStats();
  const ts: number[] = [];
  const rec: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    rec.push(performance.now() - t0); // recording the step and submitting it, on the CPU
    await wg.sync();
    ts.push(performance.now() - t0);
  }
  const after = wg.engineStats();
  const pipelinedSteps = ctx.quick ? 3 : PIPELINED;
  const p0 = performance.now();
  for (let i = 0; i < pipelinedSteps; i++) step();
  await wg.sync();
  const pipelinedMs = (performance.now() - p0) / pipelinedSteps;
  const st = stats(ts);
  const dispatches = (after.dispatches - before.dispatches) / steps;
  const recordMs = stats(rec).median_ms;
  const r: Row = {
    workload: name,
    impl,
    ...st,
    images_per_s: (B * 1000) / st.median_ms,
    pipelined_ms: pipelinedMs,
    pipelined_steps: pipelinedSteps,
    pipelined_images_per_s: (B * 1000) / pipelinedMs,
    submits_per_step: (after.submits - before.submits) / steps,
    new_buffers_per_step: (after.created - before.created) / steps,
    new_bind_groups_per_step: (after.bindGroups - before.bindGroups) / steps,
    copies_per_step: (after.copies - before.copies) / steps,
    dispatches_per_step: dispatches,
    record_ms: recordMs,
    record_us_per_dispatch: (recordMs * 1000) / dispatches,
  };
  // kernel times come from the op-by-op step (a replay runs the same kernels)
  const gpu = profile ? await gpuTime(name, step) : null;
  if (gpu !== null) r.gpu_ms = gpu;
  return r;
}

/** At most this many more warm-up steps wait for two steps in a row that make no bind group. */
const SETTLE_MAX = 16;

/** Steps of the pipelined timing (issue: throughput over 50 steps). */
const PIPELINED = 50;
