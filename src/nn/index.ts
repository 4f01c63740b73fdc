export { type AttentionCallOptions, MultiheadAttention, type MultiheadAttentionOptions } from './attention.js';
export * as init from './init.js';
export {
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Embedding,
  Flatten,
  GELU,
  LayerNorm,
  LeakyReLU,
  Linear,
  MaxPool2d,
  ModuleList,
  ReLU,
  Sequential,
  Sigmoid,
  SiLU,
  Softmax,
  Tanh,
  Unflatten,
} from './layers.js';
export { Module } from './module.js';
export * as utils from './utils.js';
