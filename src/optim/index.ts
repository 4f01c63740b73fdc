export { Adam, type AdamOptions } from './adam.js';
export { Optimizer, type OptimizerState } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
