export { Module } from './module.js';
export { Linear, Conv2d, ConvTranspose2d, BatchNorm1d, BatchNorm2d, ReLU, LeakyReLU, Tanh, Sigmoid, Dropout, Embedding, Flatten, Unflatten, Sequential } from './layers.js';
export * as init from './init.js';
export * as utils from './utils.js';
