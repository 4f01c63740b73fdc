// Bad files and bad command lines: refused with an error naming the file, tensor, flag or value,
// within seconds; a write killed midway leaves the previous file whole; the newest complete
// checkpoint is found after a crash during the folder swap.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadMnist } from '../../examples/mnist-gan/data.js';
import { presetSetup } from '../../examples/mnist-gan/step.js';
import { findCheckpoint, GanRun } from '../../examples/mnist-gan/train.js';
import * as wg from '../../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'wgslgrad-rel-'));
const MAIN = 'build/examples/mnist-gan/main.js';

function idx(magic: number, dims: number[], data: Uint8Array): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([h, Buffer.from(data)]);
}
function dataDir(name: string, label = (i: number) => i % 10): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [split, n] of [
    ['train', 32],
    ['t10k', 20],
  ] as const) {
    writeFileSync(join(dir, `${split}-images-idx3-ubyte`), idx(0x803, [n, 28, 28], new Uint8Array(n * 784).fill(100)));
    writeFileSync(
      join(dir, `${split}-labels-idx1-ubyte`),
      idx(
        0x801,
        [n],
        Uint8Array.from({ length: n }, (_, i) => label(i)),
      ),
    );
  }
  return dir;
}
const good = dataDir('good');

/** A safetensors file of named byte ranges, with a hand-made header. */
function safetensors(header: object, dataBytes: number): Buffer {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const h = Buffer.alloc(8);
  h.writeBigUInt64LE(BigInt(json.length), 0);
  return Buffer.concat([h, Buffer.from(json), Buffer.alloc(dataBytes)]);
}

describe('bad files', () => {
  test('safetensors with overlapping or gapped ranges, bad metadata or a bad path are refused naming the tensor or key', async () => {
    await wg.init();
    const f = join(root, 'bad.safetensors');
    const cases: Array<[object, number, string]> = [
      [
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
        12,
        "tensor b's data_offsets [4,12] overlap the tensor before it (which ends at 8)",
      ],
      [
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } },
        16,
        "tensor b's data_offsets [12,16] leave a gap after byte 8",
      ],
      [{ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8, "tensor a's data_offsets [4,8] leave a gap after byte 0"],
      [{ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 12, 'the tensors cover 4 bytes of data, the file holds 12'],
      [{ __metadata__: { step: 3 }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4, '__metadata__ value step is 3, expected a string'],
      [{ __metadata__: ['x'], a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4, '__metadata__ is ["x"], expected an object of strings'],
      [{ a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 1, 'tensor a has dtype "U8", expected one of F32, F16, BF16, I64, F64'],
      [{ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4, 'tensor a has shape [-1]'],
      [{ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4, 'tensor a has data_offsets [0]'],
    ];
    for (const [header, bytes, msg] of cases) {
      writeFileSync(f, safetensors(header, bytes));
      await expect(wg.io.loadSafetensors(f), msg).rejects.toThrow(msg);
    }
    writeFileSync(f, Buffer.from('not a safetensors file at all'));
    await expect(wg.io.loadSafetensors(f)).rejects.toThrow(/the header says it is \d+ bytes|not valid JSON/);
    await expect(wg.io.loadSafetensors(asAny(undefined))).rejects.toThrow('loadSafetensors: path must be a non-empty string');
    await expect(wg.io.saveSafetensors(f, asAny(undefined))).rejects.toThrow('saveSafetensors: tensors must be an object of named tensors, got undefined');
    await expect(wg.io.saveSafetensors(f, { x: wg.ones([1]) }, asAny({ step: 1 }))).rejects.toThrow('metadata value step is number');
    await expect(wg.io.saveSafetensors(join(root, 'no', 'such', 'dir', 'x.safetensors'), { x: wg.ones([1]) })).rejects.toThrow(
      /saveSafetensors: cannot write .*x\.safetensors/,
    );
    await expect(wg.io.writePng(join(root, 'x.png'), new Uint8Array(3), 2, 2)).rejects.toThrow('writePng: got 3 bytes');
    // and still working
    await wg.io.saveSafetensors(f, { x: wg.tensor([1, 2]) });
    expect(Array.from(await (await wg.io.loadSafetensors(f)).x!.toArray())).toEqual([1, 2]);
  });

  test('IDX labels outside 0–9 are refused naming the file, the index and the label', async () => {
    const dir = dataDir('labels', (i) => (i === 5 ? 12 : i % 10));
    await expect(loadMnist(dir)).rejects.toThrow(/idx: .*train-labels-idx1-ubyte: label 12 at index 5 is not a digit 0–9/);
  });

  test('a write killed midway leaves the previous file whole (SIGKILL during a 200 MB save)', async () => {
    const path = join(root, 'big.safetensors');
    await wg.init();
    await wg.io.saveSafetensors(path, { v: wg.tensor([1, 2, 3]) }, { version: '1' });
    // a child writes 200 MB over it; we kill it once its temp file has begun to grow
    const script = join(root, 'writer.mjs');
    writeFileSync(
      script,
      `import * as wg from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
       await wg.init();
       const parts = {}; for (let i = 0; i < 4; i++) parts['p' + i] = wg.full([12_500_000], i);
       console.log('writing');
       await wg.io.saveSafetensors(${JSON.stringify(path)}, parts, { version: '2' });
       console.log('done');`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    // kill it once its temp file holds part of the 200 MB (the write itself is under way)
    const tmpOf = () => readdirSync(root).find((n) => n.startsWith('big.safetensors.') && n.endsWith('.tmp'));
    const t0 = performance.now();
    let partial = 0;
    // a generous bound: a busy machine may take long to start the child and allocate its 200 MB
    while (performance.now() - t0 < 180_000 && !out.includes('done')) {
      const tmp = tmpOf();
      const size = tmp ? (statSync(join(root, tmp), { throwIfNoEntry: false })?.size ?? 0) : 0;
      if (size > 0) {
        partial = size;
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(out).not.toContain('done');
    expect(partial, 'the writer was killed while writing its temp file').toBeGreaterThan(0);
    const { tensors, metadata } = await wg.io.readSafetensors(path);
    expect(metadata.version).toBe('1');
    expect(Array.from(await tensors.v!.toArray())).toEqual([1, 2, 3]);
  });

  test('resume finds the newest complete checkpoint after a crash between the two renames of the swap', async () => {
    await wg.init();
    const out = join(root, 'swap');
    const data = await loadMnist(good);
    const cfg = {
      ...presetSetup('vanilla', { batch: 8 }),
      epochs: 0,
      steps: 3,
      out,
      sampleEvery: 0,
      sampleEpochs: [],
      logEvery: 1,
      data: good,
      val: 0,
    };
    await new GanRun(cfg, data).run();
    cpSync(join(out, 'checkpoint'), join(out, 'step3'), { recursive: true });
    await new GanRun({ ...cfg, steps: 5 }, data).run().then(() => undefined);
    // simulate the crash: checkpoint/ (step 5) moved to checkpoint.tmp-123 and the step-3 copy as checkpoint.old
    renameSync(join(out, 'checkpoint'), join(out, 'checkpoint.tmp-123'));
    renameSync(join(out, 'step3'), join(out, 'checkpoint.old'));
    expect(existsSync(join(out, 'checkpoint'))).toBe(false);
    expect(await findCheckpoint(out)).toBe(join(out, 'checkpoint.tmp-123'));
    // an incomplete newer folder (no state.json: killed while writing it) is passed over
    renameSync(join(out, 'checkpoint.tmp-123', 'state.json'), join(out, 'state.bak'));
    expect(await findCheckpoint(out)).toBe(join(out, 'checkpoint.old'));
    renameSync(join(out, 'state.bak'), join(out, 'checkpoint.tmp-123', 'state.json'));
    // resuming from the run folder continues from step 5, and the next checkpoint cleans up
    const run = new GanRun({ ...cfg, steps: 6 }, data);
    await run.restore(await findCheckpoint(out));
    expect(run.state.step).toBe(5);
    await run.run();
    expect(readdirNames(out).filter((n) => n.startsWith('checkpoint'))).toEqual(['checkpoint']);
    await expect(findCheckpoint(join(root, 'nothing-here'))).rejects.toThrow('resume: ');
  });
});

const asAny = <T>(v: unknown) => v as T;
const readdirNames = (d: string) => readdirSync(d).sort();

describe('bad command lines', () => {
  const cli = (args: string[]) => {
    return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 240_000 });
  };
  const CLI_CASES: Array<[string[], RegExp]> = [
    [['--bogus', '1'], /error: args: Unknown option '--bogus'.*--help lists the flags/],
    [['--steps', '-5'], /error: args: .*'--steps'.*--help/],
    [['--eval', 'x'], /error: args: .*'x'.*--help/],
    [['--steps', '2.5'], /error: args: --steps 2.5 is not a non-negative integer/],
    [['--lr', 'abc'], /error: args: --lr abc is not a non-negative number/],
    [['--batch', 'many'], /error: args: --batch many is not a non-negative integer/],
    [['--preset', 'nope'], /error: args: --preset nope is not one of/],
    [['--width', '0'], /error: args: --width 0 must be greater than 0/],
    [['--z', '50'], /error: args: --z 50: the acgan models take noise of size 100/],
    [['--batch', '1'], /error: args: --batch 1: batchnorm needs at least 2/],
    [['--out', '/proc/nope', '--steps', '2'], /error: args: --out \/proc\/nope: cannot write there/],
    [['--resume', join(root, 'missing-run')], /error: resume: .*missing-run does not exist/],
    [['--eval', '--data', good], /error: args: --eval needs --resume DIR/],
    [['--data', join(root, 'labels'), '--steps', '1', '--out', join(root, 'o1')], /error: idx: .*label 12 at index 5 is not a digit 0–9/],
    [['--data', join(root, 'absent'), '--out', join(root, 'o2')], /error: idx: data folder .*absent does not exist/],
  ];
  test(`${CLI_CASES.length} bad command lines each end with one error line and exit code 1`, () => {
    expect(existsSync(MAIN), 'npm test builds the examples first').toBe(true);
    dataDir('labels', (i) => (i === 5 ? 12 : i % 10));
    for (const [args, re] of CLI_CASES) {
      const r = cli(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('error:')).length,
        args.join(' '),
      ).toBe(1);
      // no JavaScript stack trace (Dawn's own warnings on a machine without Vulkan name C++ frames: not ours)
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at .*(\.[cm]?js|\.ts|node:internal)/);
    }
  });
});
