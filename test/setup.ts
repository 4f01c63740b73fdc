import { beforeAll } from 'vitest';
import * as wg from '../src/index.js';

beforeAll(async () => {
  await wg.init();
});
