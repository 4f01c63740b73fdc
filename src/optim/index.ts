export { Adam, type AdamOptions, AdamW } from './adam.js';
export * as lr_scheduler from './lr_scheduler.js';
export { Optimizer, type OptimizerState } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
