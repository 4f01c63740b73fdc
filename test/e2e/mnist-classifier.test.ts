import { describe, expect, test } from 'vitest';
import { shiftBatch } from '../../examples/mnist-classifier/main.js';
import { Rng } from '../../examples/mnist-gan/data.js';

describe('classifier augmentation', () => {
  test('shiftBatch moves each image by at most s pixels and fills with the background', () => {
    const B = 50;
    const x = new Float32Array(B * 784).fill(-1);
    for (let b = 0; b < B; b++) x[b * 784 + 14 * 28 + 14] = 1; // one bright pixel per image, centred
    shiftBatch(x, B, 2, new Rng(7));
    const offsets = new Set<string>();
    for (let b = 0; b < B; b++) {
      const img = x.subarray(b * 784, (b + 1) * 784);
      const lit = [...img.keys()].filter((i) => img[i] === 1);
      expect(lit.length).toBe(1);
      expect(img.filter((v) => v === -1).length).toBe(783);
      const r = Math.floor(lit[0]! / 28) - 14;
      const c = (lit[0]! % 28) - 14;
      expect(Math.abs(r)).toBeLessThanOrEqual(2);
      expect(Math.abs(c)).toBeLessThanOrEqual(2);
      offsets.add(`${r},${c}`);
    }
    expect(offsets.size).toBeGreaterThan(10); // the offsets vary over the batch
    const y = Float32Array.from({ length: 784 }, (_, i) => i / 784);
    const before = y.slice();
    shiftBatch(y, 1, 0, new Rng(1));
    expect(y).toEqual(before);
  });
});
