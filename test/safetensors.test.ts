import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as wg from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'wgslgrad-st-'));

describe('safetensors', () => {
  test('round trip with metadata; the file parsed by hand has the format PyTorch reads', async () => {
    const path = join(dir, 'a.safetensors');
    const w = wg.randn([3, 4], { seed: 1 });
    const b = wg.tensor([1, 2, 3], [3]);
    await wg.io.saveSafetensors(path, { 'main.0.weight': w, 'main.0.bias': b }, { epoch: '3' });
    expect(existsSync(`${path}.tmp`)).toBe(false);
    const bytes = readFileSync(path);
    const hlen = Number(bytes.readBigUInt64LE(0));
    expect((8 + hlen) % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + hlen).toString('utf8'));
    expect(header.__metadata__).toEqual({ epoch: '3' });
    expect(header['main.0.bias']).toEqual({ dtype: 'F32', shape: [3], data_offsets: [0, 12] });
    expect(header['main.0.weight']).toEqual({ dtype: 'F32', shape: [3, 4], data_offsets: [12, 60] });
    expect(bytes.length).toBe(8 + hlen + 60);
    const bias = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + hlen, bytes.byteOffset + 8 + hlen + 12));
    expect(Array.from(bias)).toEqual([1, 2, 3]);
    const { tensors, metadata } = await wg.io.readSafetensors(path);
    expect(metadata).toEqual({ epoch: '3' });
    expect(await tensors['main.0.weight']!.toArray()).toEqual(await w.toArray());
  });
  test('a module and an optimiser state survive a save/load cycle', async () => {
    const m = new wg.nn.Sequential(new wg.nn.Linear(4, 3), new wg.nn.BatchNorm1d(3));
    const path = join(dir, 'm.safetensors');
    await wg.io.saveSafetensors(path, m.stateDict());
    const m2 = new wg.nn.Sequential(new wg.nn.Linear(4, 3), new wg.nn.BatchNorm1d(3));
    m2.loadStateDict(await wg.io.loadSafetensors(path));
    expect(await m2.parameters()[0]!.toArray()).toEqual(await m.parameters()[0]!.toArray());
    const opt = new wg.optim.Adam(m.parameters());
    const st = opt.stateDict();
    await wg.io.saveSafetensors(join(dir, 'o.safetensors'), st.tensors, { step: String(st.step) });
    expect(Object.keys(await wg.io.loadSafetensors(join(dir, 'o.safetensors')))).toContain('exp_avg.0');
  });
  test('truncated files, lying headers, wrong dtypes and missing tensors say which', async () => {
    const path = join(dir, 'b.safetensors');
    await wg.io.saveSafetensors(path, { x: wg.ones([4]) });
    const good = readFileSync(path);
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, good.subarray(0, good.length - 4));
    await expect(wg.io.loadSafetensors(bad)).rejects.toThrow(/loadSafetensors: .*tensor x ends at byte 16 of the data, which has only 12 \(truncated file\?\)/);
    writeFileSync(bad, good.subarray(0, 5));
    await expect(wg.io.loadSafetensors(bad)).rejects.toThrow(/truncated: 5 bytes/);
    const hlen = Number(good.readBigUInt64LE(0));
    const lie = Buffer.from(good);
    lie.writeBigUInt64LE(BigInt(hlen + 1000), 0);
    writeFileSync(bad, lie);
    await expect(wg.io.loadSafetensors(bad)).rejects.toThrow(/the header says it is \d+ bytes but only \d+ follow/);
    const header = JSON.parse(good.subarray(8, 8 + hlen).toString());
    for (const [patch, msg] of [
      [{ dtype: 'F16' }, /tensor x has dtype "F16", expected F32/],
      [{ shape: [5] }, /tensor x of shape \[5\] needs 20 bytes, its data_offsets \[0, 16\] give 16/],
    ] as const) {
      const h = JSON.stringify({ x: { ...header.x, ...patch } }).padEnd(hlen, ' ');
      const f = Buffer.concat([good.subarray(0, 8), Buffer.from(h), good.subarray(8 + hlen)]);
      writeFileSync(bad, f);
      await expect(wg.io.loadSafetensors(bad)).rejects.toThrow(msg);
    }
    await expect(wg.io.loadSafetensors(join(dir, 'nope.safetensors'))).rejects.toThrow(/cannot read/);
    const m = new wg.nn.Linear(4, 1);
    const loaded = await wg.io.loadSafetensors(path);
    expect(() => m.loadStateDict(loaded)).toThrow(/loadStateDict: missing weight, bias; unexpected x/);
  });
});
