// relu, leakyRelu, tanh, sigmoid and their gradients. Kernels: shaders/activation.wgsl.
// CPU reference: src/cpu/activation.ts.
import { record } from '../autograd/tape.js';
import { WgslgradError } from '../errors.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { Tensor } from '../tensor.js';
import { assertTensor } from './util.js';

/** The activation kernel's ACT specialisation for each op. */
const ACT_KERNEL = { relu: 0, leakyRelu: 1, tanh: 2, sigmoid: 3 } as const;
type ActName = keyof typeof ACT_KERNEL;

function activation(name: ActName, x: Tensor, slope = 0): Tensor {
  assertTensor(name, 'input', x);
  const y = Tensor.empty(x.shape);
  if (y.size) dispatch(pipeline('activation', 'act', { ACT: ACT_KERNEL[name] }), [x.binding, y.binding], { n: y.size, slope }, groups1d(y.size));
  // relu family differentiates from the input, tanh/sigmoid from the output
  const saved = name === 'relu' || name === 'leakyRelu' ? x : y;
  return record(y, name, [x], (g) => {
    const gx = Tensor.empty(x.shape);
    if (gx.size)
      dispatch(pipeline('activation', 'act_grad', { ACT: ACT_KERNEL[name] }), [g.binding, saved.binding, gx.binding], { n: gx.size, slope }, groups1d(gx.size));
    return [gx];
  });
}

export const relu = (x: Tensor): Tensor => activation('relu', x);
export const tanh = (x: Tensor): Tensor => activation('tanh', x);
export const sigmoid = (x: Tensor): Tensor => activation('sigmoid', x);
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  if (typeof slope !== 'number' || !Number.isFinite(slope)) throw new WgslgradError('leakyRelu', `slope must be a finite number, got ${slope}`);
  return activation('leakyRelu', x, slope);
}
