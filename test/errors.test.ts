import { describe, expect, test } from 'vitest';
import * as wg from '../src/index.js';
import { expectError } from './helpers.js';

describe('bad input raises WgslgradError naming the op, what it got and what it expected', () => {
  const a = () => wg.zeros([2, 3]);
  test('shape mismatches', () => {
    expectError(() => wg.matmul(a(), wg.zeros([4, 5])), 'matmul', '[2,3]', '[4,5]', '3 vs 4');
    expectError(() => wg.add(a(), wg.zeros([4])), 'add', '[2,3]', '[4]', 'do not broadcast');
    expectError(() => wg.linear(a(), wg.zeros([5, 4])), 'linear', 'input has 3 features', 'weight expects 4');
    expectError(() => wg.linear(a(), wg.zeros([5, 3]), wg.zeros([4])), 'linear', 'bias has shape [4], expected [5]');
    expectError(() => wg.bceWithLogits(a(), wg.zeros([3, 2])), 'bceWithLogits', 'targets have shape [3,2]', "input's [2,3]");
    expectError(() => wg.concat([a(), wg.zeros([2, 4])], 0), 'concat', 'tensors[1] has shape [2,4]');
    expectError(() => a().reshape([4, 2]), 'reshape', '[2,3]', '[4,2]');
  });
  test('wrong rank and bad dims', () => {
    expectError(() => wg.matmul(wg.zeros([2]), a()), 'matmul', 'first operand has shape [2]', 'expected 2-D');
    expectError(() => wg.linear(a(), wg.zeros([3])), 'linear', 'weight has shape [3]', 'expected 2-D');
    expectError(() => a().sum(2), 'sum', 'dim 2 out of range', 'rank 2');
    expectError(() => a().mean([0, -2]), 'mean', 'dim -2 given twice');
    expectError(() => a().transpose(0, 5), 'transpose', 'dim 5 out of range');
    expectError(() => wg.zeros([2, -1]), 'zeros', 'shape must be an array of non-negative integers');
  });
  test('non-finite data in tensor() when asked to validate, and a wrong data length', () => {
    expectError(() => wg.tensor([1, NaN, 3], [3], { validate: true }), 'tensor', 'value 1 is NaN');
    expectError(() => wg.tensor([1, 2, Infinity], [3], { validate: true }), 'tensor', 'value 2 is Infinity');
    expect(wg.tensor([1, NaN], [2]).shape).toEqual([2]); // not validated unless asked
    expectError(() => wg.tensor([1, 2, 3], [2, 2]), 'tensor', 'data has 3 values', 'shape [2,2] needs 4');
    expectError(() => wg.tensor(['a', 'b'] as unknown as number[], [2]), 'tensor', 'element 0 is "a" (string), expected a number');
    expectError(() => wg.tensor([1, null] as unknown as number[]), 'tensor', 'element 1 is null (null)');
  });
  test('layer arguments are checked when the layer is made', async () => {
    expectError(() => new wg.nn.Conv2d(1, 2, 0), 'Conv2d', 'kernelSize must be an integer ≥ 1', 'got 0');
    expectError(() => new wg.nn.ConvTranspose2d(1, 2, 4, { stride: 0 }), 'ConvTranspose2d', 'stride must be an integer ≥ 1');
    expectError(() => new wg.nn.Conv2d(1, 2, [3, 1.5] as [number, number]), 'Conv2d', 'kernelSize', '[3,1.5]');
    // the library keeps working
    expect(Array.from(await new wg.nn.Conv2d(1, 1, 1, { bias: false }).forward(wg.ones([1, 1, 2, 2])).toArray()).length).toBe(4);
  });
  test('non-tensor arguments', () => {
    expectError(() => wg.matmul(a(), null as unknown as wg.Tensor), 'matmul', 'second operand must be a Tensor');
    expectError(() => wg.relu([1, 2] as unknown as wg.Tensor), 'relu', 'input must be a Tensor');
  });
});
