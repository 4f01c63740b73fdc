// wg.internal: the planner's tuning and kernel variant tables, for tuning runs, benchmarks and
// tests. Not part of the stable API: names and settings here change as kernels do.

export { type Block, defaultTuning, setTuning, type Tuning, tuning, type VariantMode } from './gpu/tuning.js';
export { allVariants, forcing, TABLES, type TableName, type Variant, VEC4_BLOCK, variantId, type Where } from './gpu/variants/index.js';
