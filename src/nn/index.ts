export * as init from './init.js';
export {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Embedding,
  Flatten,
  LeakyReLU,
  Linear,
  ReLU,
  Sequential,
  Sigmoid,
  Tanh,
  Unflatten,
} from './layers.js';
export { Module } from './module.js';
export * as utils from './utils.js';
