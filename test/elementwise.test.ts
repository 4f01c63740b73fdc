import { describe, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { checkOp, expectClose, gradcheck, randCpu, randInt, randShape, rng, toGpu } from './helpers.js';

const BIN = ['add', 'sub', 'mul', 'div'] as const;

/** A pair of shapes that broadcast: b drops leading dims and has some dims set to 1. */
function broadcastPair(r: () => number): [number[], number[]] {
  const nd = randInt(r, 1, 4);
  const a = randShape(r, nd, 1, 9);
  let b = a.map((d) => (r() < 0.35 ? 1 : d));
  if (r() < 0.3) b = b.slice(randInt(r, 0, nd - 1));
  return r() < 0.5 ? [a, b] : [b, a];
}

describe('binary ops against the CPU reference', () => {
  for (const op of BIN) {
    test(`${op}: same shapes, broadcast shapes, scalars`, async () => {
      const r = rng(op.length * 7 + 1);
      for (let trial = 0; trial < 6; trial++) {
        const [sa, sb] =
          trial === 0
            ? [
                [37, 129],
                [37, 129],
              ]
            : trial === 1
              ? [[1], [1]]
              : broadcastPair(r);
        const a = randCpu(r, sa);
        const b = randCpu(r, sb, op === 'div' ? 0.5 : -1, op === 'div' ? 2 : 1);
        await expectClose(wg[op](toGpu(a), toGpu(b)), cpu[op](a, b), 1e-5, 1e-6, `${op} ${sa} ${sb}`);
        await expectClose(wg[op](toGpu(a), 1.5), cpu[op](a, 1.5), 1e-5, 1e-6, `${op} tensor-scalar`);
        await expectClose(wg[op](2.5, toGpu(b)), cpu[op](2.5, b), 1e-5, 1e-6, `${op} scalar-tensor`);
      }
    });
    test(`${op}: backward by finite differences, with broadcasting`, async () => {
      const r = rng(op.length * 13 + 5);
      for (let trial = 0; trial < 3; trial++) {
        const [sa, sb] =
          trial === 0
            ? [
                [3, 5],
                [3, 5],
              ]
            : broadcastPair(r);
        const a = randCpu(r, sa);
        const b = randCpu(r, sb, op === 'div' ? 0.5 : -1, op === 'div' ? 2 : 1);
        await gradcheck(
          (x, y) => wg[op](x, y),
          (x, y) => cpu[op](x, y),
          [a, b],
        );
        await gradcheck(
          (x) => wg[op](x, 1.7),
          (x) => cpu[op](x, 1.7),
          [a],
        );
        await gradcheck(
          (y) => wg[op](0.6, y),
          (y) => cpu[op](0.6, y),
          [b],
        );
      }
    });
  }
});

const UN = [
  ['neg', -2, 2],
  ['exp', -2, 2],
  ['log', 0.2, 3],
  ['sqrt', 0.2, 3],
  ['square', -2, 2],
] as const;

describe('unary ops against the CPU reference', () => {
  for (const [op, lo, hi] of UN) {
    test(`${op}: forward on random shapes and backward by finite differences`, async () => {
      const r = rng(op.charCodeAt(0));
      for (const shape of [[1], [257], randShape(r, 3), randShape(r, 2, 1, 40)]) {
        const x = randCpu(r, shape, lo, hi);
        await expectClose(wg[op](toGpu(x)), cpu[op](x), 1e-5, 1e-6, `${op} ${shape}`);
      }
      await checkOp(
        (x) => wg[op](x),
        (x) => cpu[op](x),
        [randCpu(r, [4, 5], lo, hi)],
        { rtol: 1e-5, atol: 1e-6, what: op },
      );
    });
  }
});
