// The CPU reference of every kernel, float64, same names and argument order as the GPU ops.

export * from './activation.js';
export * from './adam.js';
export * from './argmax.js';
export * from './attention.js';
export * from './batchnorm.js';
export * from './bce.js';
export * from './conv.js';
export * from './creation.js';
export * from './cross_entropy.js';
export * from './dropout.js';
export * from './elementwise.js';
export * from './embedding.js';
export * from './layernorm.js';
export * from './matmul.js';
export * from './pool.js';
export * from './reduce.js';
export * from './sgd.js';
export * from './shape.js';
export * from './softmax.js';
export * from './tensor.js';
