// Embedding lookup with its scatter-add backward. Indices are a float tensor of integer values
// (any shape); the output is [...indices.shape, D]. Kernel: shaders/embedding.wgsl.
// CPU reference: src/cpu/embedding.ts.
import { recordInto } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { checkBuffer } from '../gpu/checks.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { Tensor } from '../tensor.js';
import { assertTensor } from './util.js';

/**
 * Rows of `table` [V, D] picked by `indices` (integer-valued floats in [0, V), any shape): [...indices.shape, D],
 * as torch.nn.functional.embedding. The gradient adds into the picked rows; an index out of range
 * is reported by a WgslgradError at the next readback.
 */
export function embedding(indices: Tensor, table: Tensor): Tensor {
  assertTensor('embedding', 'indices', indices);
  assertTensor('embedding', 'table', table);
  if (table.ndim !== 2) throw new WgslgradError('embedding', `table has shape ${fmtShape(table.shape)}, expected [num, dim]`);
  if (indices.requiresGrad) throw new WgslgradError('embedding', 'indices cannot require grad (they are integers)');
  const [V, D] = table.shape as [number, number];
  if (V > 1 << 24) throw new WgslgradError('embedding', `table has ${V} rows; float32 indices are exact only up to 2^24`);
  const B = indices.size;
  const y = Tensor.empty([...indices.shape, D]);
  if (y.size) dispatch(pipeline('embedding', 'forward'), [indices.binding, table.binding, y.binding, checkBuffer()], { B, V, D }, groups1d(y.size));
  return recordInto(y, 'embedding', [indices, table], (g, _needs, acc, outs) => {
    // into the table's optimiser slot when the sweep gives one and has nothing accumulated for it
    // (the kernel writes every row, those no index picked as zeros)
    const dt = (!acc[1] && outs[1]) || Tensor.empty([V, D]);
    if (dt.size) dispatch(pipeline('embedding', 'grad'), [indices.binding, g.binding, dt.binding], { B, V, D }, groups1d(dt.size));
    return [null, dt];
  });
}
