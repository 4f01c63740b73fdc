import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as wg from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'wgslgrad-st-'));

describe('safetensors', () => {
  test('F16, BF16, I64 and F64 tensors (as PyTorch writes them) are read as float32 and reported; marked tensors are written as I64', async () => {
    const f16 = Buffer.alloc(8);
    [0x3c00, 0xc000, 0x3555, 0x0001].forEach((h, i) => f16.writeUInt16LE(h, 2 * i)); // 1, -2, 0.33325…, 2^-24
    const bf16 = Buffer.alloc(4);
    [0x3f80, 0xc0a0].forEach((h, i) => bf16.writeUInt16LE(h, 2 * i)); // 1, -5
    const i64 = Buffer.alloc(16);
    i64.writeBigInt64LE(7n, 0);
    i64.writeBigInt64LE(-3n, 8);
    const f64 = Buffer.alloc(8);
    f64.writeDoubleLE(0.1, 0);
    const header = {
      a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
      c: { dtype: 'I64', shape: [2], data_offsets: [12, 28] },
      d: { dtype: 'F64', shape: [1], data_offsets: [28, 36] },
    };
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const path = join(dir, 'dtypes.safetensors');
    writeFileSync(path, Buffer.concat([len, Buffer.from(json), f16, bf16, i64, f64]));
    const { tensors, converted } = await wg.io.readSafetensors(path);
    expect(converted).toEqual({ a: 'F16', b: 'BF16', c: 'I64', d: 'F64' });
    expect(Array.from(await tensors.a!.toArray())).toEqual([1, -2, Math.fround(0.333251953125), Math.fround(2 ** -24)]);
    expect(Array.from(await tensors.b!.toArray())).toEqual([1, -5]);
    expect(Array.from(await tensors.c!.toArray())).toEqual([7, -3]);
    expect(Array.from(await tensors.d!.toArray())).toEqual([Math.fround(0.1)]);
    // BatchNorm's num_batches_tracked goes out as I64, as PyTorch keeps it
    const bn = new wg.nn.BatchNorm1d(3);
    bn.forward(wg.randn([4, 3], { seed: 1 }));
    bn.forward(wg.randn([4, 3], { seed: 2 }));
    const p2 = join(dir, 'bn.safetensors');
    await wg.io.saveSafetensors(p2, bn.stateDict());
    const raw = readFileSync(p2);
    const h = JSON.parse(raw.subarray(8, 8 + Number(raw.readBigUInt64LE(0))).toString());
    expect(h.num_batches_tracked).toMatchObject({ dtype: 'I64', shape: [] });
    const back = await wg.io.readSafetensors(p2);
    expect(await back.tensors.num_batches_tracked!.item()).toBe(2);
    expect(back.converted).toEqual({ num_batches_tracked: 'I64' });
  });
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
      [{ dtype: 'I8' }, /tensor x has dtype "I8", expected one of F32, F16, BF16, I64, F64/],
      [{ shape: [5] }, /tensor x of shape \[5\] \(F32\) needs 20 bytes, its data_offsets \[0, 16\] give 16/],
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
