// The gradient a backward starts from when called on a scalar with no gradient given: one value 1,
// made once per device and shared, so a step's backward calls fill nothing. Ops that can compute
// their input gradient in the forward pass (bce) hand it over when the gradient they get back is
// this very value (isRootOne), so their backward runs no kernel.
import { gpuState } from '../gpu/device.js';
import { fillInto } from '../ops/creation.js';
import { keep } from '../scope.js';
import { Tensor } from '../tensor.js';

let one: { device: GPUDevice; t: Tensor } | null = null;

/** The shared scalar 1 (kept out of every scope; never written after it is made). */
export function rootOne(): Tensor {
  const { device } = gpuState();
  if (!one || one.device !== device) one = { device, t: keep(fillInto(Tensor.empty([]), 1)) };
  return one.t;
}

/** Whether g is the shared 1 a backward started from (an alias of it: the same storage). */
export function isRootOne(g: Tensor): boolean {
  return one !== null && g.size === 1 && !g.disposed && one.device === gpuState().device && g.storage === one.t.storage;
}
