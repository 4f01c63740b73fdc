// wgslgrad's public API.
import './methods.js';

export type { BackwardOptions } from './autograd/backward.js';
export { isGradEnabled, noGrad } from './autograd/tape.js';
export { type CapturedStep, capture, type StepInput } from './capture.js';
export * as cpu from './cpu/index.js';
export { WgslgradError } from './errors.js';
export { type AdapterDescription, type Backend, destroy, INSTALL_HINT, type InitInfo, type InitOptions, init } from './gpu/device.js';
export { emptyPool, engineStats, flush, type KernelTime, memory, profileKernels, sync, traceKernels } from './gpu/engine.js';
/** The planner's tuning and kernel variant tables (tuning runs, benchmarks, tests): not a stable API. */
export * as internal from './internal.js';
export * as io from './io/index.js';
export * as nn from './nn/index.js';
export { leakyRelu, relu, sigmoid, tanh } from './ops/activation.js';
export { type BatchNormOptions, batchNorm } from './ops/batchnorm.js';
export { bce, bceWithLogits } from './ops/bce.js';
export { type Conv2dOptions, type ConvTranspose2dOptions, conv2d, convTranspose2d } from './ops/conv.js';
export { full, manualSeed, ones, type RandomOptions, rand, randn, type TensorOptions, tensor, zeros } from './ops/creation.js';
export { crossEntropy } from './ops/cross_entropy.js';
export { type DropoutOptions, dropout } from './ops/dropout.js';
export { add, div, exp, log, mul, neg, sqrt, square, sub } from './ops/elementwise.js';
export { embedding } from './ops/embedding.js';
export { linear, matmul } from './ops/matmul.js';
export { mean, sum } from './ops/reduce.js';
export { clone, concat, reshape, transpose } from './ops/shape.js';
export * as optim from './optim/index.js';
export { keep, scope } from './scope.js';
export { type Shape, Tensor } from './tensor.js';
