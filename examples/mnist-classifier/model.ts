// The small CNN used to score generated digits. Its 128-d penultimate features feed the Fréchet distance.
import * as wg from '../../src/index.js';

const { nn } = wg;

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** examples/mnist-classifier/classifier.safetensors in the source tree, from src or from build/. */
function weightsPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'examples', 'mnist-classifier', 'classifier.safetensors');
}
export const WEIGHTS = weightsPath();

export class Classifier extends nn.Module {
  body = new nn.Sequential(
    new nn.Conv2d(1, 16, 5, { padding: 2 }),
    new nn.BatchNorm2d(16),
    new nn.ReLU(),
    new nn.Conv2d(16, 32, 4, { stride: 2, padding: 1 }),
    new nn.BatchNorm2d(32),
    new nn.ReLU(),
    new nn.Conv2d(32, 64, 4, { stride: 2, padding: 1 }),
    new nn.BatchNorm2d(64),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(64 * 7 * 7, 128),
    new nn.ReLU(),
  );
  drop = new nn.Dropout(0.3);
  head = new nn.Linear(128, 10);
  /** images [B, 784] in [-1, 1] → 128 features */
  features(x: wg.Tensor): wg.Tensor {
    return this.body.forward(x.reshape([x.shape[0]!, 1, 28, 28]));
  }
  forward(x: wg.Tensor): wg.Tensor {
    return this.head.forward(this.drop.forward(this.features(x)));
  }
}
