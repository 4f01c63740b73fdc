// The evaluation of a conditional generator reports how often the classifier sees the digit asked for.
import { expect, test } from 'vitest';
import { defaultDataDir, loadMnist } from '../../examples/mnist-gan/data.js';
import { evaluateGenerator } from '../../examples/mnist-gan/evaluate.js';
import { GanModule } from '../../examples/mnist-gan/presets.js';
import * as wg from '../../src/index.js';

/** A "generator" that draws row `label` of a table of images: one-hot labels [n, 10] · table [10, 784]. */
class Lookup extends GanModule {
  constructor(private readonly table: wg.Tensor) {
    super();
  }
  forward(_noise: wg.Tensor, onehot?: wg.Tensor): wg.Tensor {
    return wg.matmul(onehot!, this.table);
  }
}

test('label accuracy: the share of conditional samples classified as the digit they were asked for', async () => {
  await wg.init();
  const data = await loadMnist(defaultDataDir());
  const test = { images: data.test.images.subarray(0, 300 * 784), labels: data.test.labels.subarray(0, 300), count: 300 };
  // one real test image per digit; the second table answers digit d with the image of d + 1
  const table = (shift: number) => {
    const rows = new Float32Array(10 * 784);
    for (let d = 0; d < 10; d++) {
      const i = test.labels.indexOf((d + shift) % 10);
      rows.set(test.images.subarray(i * 784, (i + 1) * 784), d * 784);
    }
    return wg.keep(wg.tensor(rows, [10, 784]));
  };
  const right = await evaluateGenerator(new Lookup(table(0)), 100, true, test, 100, 1);
  expect(right!.generated.label_accuracy).toBe(1);
  expect(right!.real_test.accuracy).toBeGreaterThan(0.97);
  const wrong = await evaluateGenerator(new Lookup(table(1)), 100, true, test, 100, 1);
  expect(wrong!.generated.label_accuracy).toBe(0);
});
