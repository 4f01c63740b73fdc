// wgslgrad's public API.
export { init, destroy, INSTALL_HINT, type InitOptions, type InitInfo, type AdapterDescription, type Backend } from './gpu/device.js';
export { memory, flush, sync, engineStats, emptyPool } from './gpu/engine.js';
export { WgslgradError } from './errors.js';
export { Tensor, type Shape } from './tensor.js';
export { scope, keep } from './scope.js';
export { noGrad, isGradEnabled } from './autograd.js';
export { tensor, zeros, ones, full, rand, randn, manualSeed, type TensorOptions, type RandomOptions } from './ops/creation.js';
export { add, sub, mul, div, neg, exp, log, sqrt, square } from './ops/elementwise.js';
export { relu, leakyRelu, tanh, sigmoid } from './ops/activation.js';
export { sum, mean } from './ops/reduce.js';
export { reshape, transpose, concat, clone } from './ops/shape.js';
export { matmul, linear } from './ops/matmul.js';
export { bceWithLogits, bce } from './ops/bce.js';
export * as cpu from './cpu/index.js';
export { conv2d, convTranspose2d, type Conv2dOptions, type ConvTranspose2dOptions } from './ops/conv.js';
export { batchNorm, type BatchNormOptions } from './ops/batchnorm.js';
export { dropout, type DropoutOptions } from './ops/dropout.js';
export { embedding } from './ops/embedding.js';
