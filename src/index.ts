// wgslgrad's public API.
import './methods.js';

export type { Pair } from './args.js';
export type { BackwardOptions } from './autograd/backward.js';
export { isGradEnabled, noGrad } from './autograd/tape.js';
export { type CapturedStep, capture, type StepInput } from './capture.js';
export * as cpu from './cpu/index.js';
export { WgslgradError } from './errors.js';
export { type AdapterDescription, type Backend, destroy, INSTALL_HINT, type InitInfo, type InitOptions, init } from './gpu/device.js';
export { emptyPool, engineStats, flush, type KernelTime, memory, profileKernels, sync, traceKernels } from './gpu/engine.js';
export { type DeviceLimits, KERNEL_LIMITS, type KernelLimit } from './gpu/limits.js';
/**
 * The planner's tuning and kernel variant tables (tuning runs, benchmarks, tests): not a stable API,
 * left out of the API reference.
 * @internal
 */
export * as internal from './internal.js';
export * as io from './io/index.js';
export * as nn from './nn/index.js';
export { type FusedActivation, type GeluOptions, gelu, leakyRelu, relu, sigmoid, silu, tanh } from './ops/activation.js';
export { argmax, argmin, max, min } from './ops/argmax.js';
export { type AttentionOptions, MAX_FUSED_HEAD, scaledDotProductAttention } from './ops/attention.js';
export { type BatchNormOptions, batchNorm } from './ops/batchnorm.js';
export { bce, bceWithLogits } from './ops/bce.js';
export { type Conv2dOptions, type ConvTranspose2dOptions, conv2d, convTranspose2d } from './ops/conv.js';
export { full, manualSeed, ones, type RandomOptions, rand, randn, type TensorOptions, tensor, zeros } from './ops/creation.js';
export { type CrossEntropyOptions, crossEntropy } from './ops/cross_entropy.js';
export { type DropoutOptions, dropout } from './ops/dropout.js';
export { abs, add, clamp, div, exp, log, maskedFill, mul, neg, pow, sqrt, square, sub, where } from './ops/elementwise.js';
export { embedding } from './ops/embedding.js';
export { type LayerNormOptions, layerNorm } from './ops/layernorm.js';
export { linear, matmul } from './ops/matmul.js';
export { type AvgPoolOptions, avgPool2d, maxPool2d, type PoolOptions } from './ops/pool.js';
export { mean, sum } from './ops/reduce.js';
export { clone, concat, indexSelect, narrow, permute, reshape, slice, stack, transpose } from './ops/shape.js';
export { logSoftmax, softmax } from './ops/softmax.js';
export * as optim from './optim/index.js';
export { keep, scope, type Tracked } from './scope.js';
export { type Shape, Tensor } from './tensor.js';
