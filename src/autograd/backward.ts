// The reverse-mode sweep: from a root, in reverse topological order, each node's rule turns the
// gradient of its output into gradients of its inputs; leaves that require grad accumulate theirs
// in `.grad`. A rule runs in its own scope (its temporaries are freed when it returns) with grad
// mode off, so it is written with ordinary ops and never disposes anything itself.
import { fmtShape, WgslgradError } from '../errors.js';
import { ones } from '../ops/creation.js';
import { add, addInto } from '../ops/elementwise.js';
import { clone } from '../ops/shape.js';
import { SweepSlots } from '../optim/slots.js';
import { keep, ruleScope } from '../scope.js';
import type { GradNode, Tensor } from '../tensor.js';
import { isRootOne, rootOne } from './one.js';
import { isFolded, noGrad } from './tape.js';

/** Options of Tensor.backward. */
export interface BackwardOptions {
  /** Keep the graph for a second backward through it (PyTorch's retain_graph). */
  retainGraph?: boolean;
}

/** The tensors whose gradients reach `root`, inputs before the ops that use them. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: Array<[Tensor, number]> = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    if (t._freedBy) {
      throw new WgslgradError(
        'backward',
        `the graph through the output ${fmtShape(t.shape)} of ${t._freedBy} was freed by an earlier backward(); call the first backward with { retainGraph: true } to run backward through it again`,
      );
    }
    const node = t._node;
    if (node && i < node.inputs.length) {
      top[1]++;
      const c = node.inputs[i]!;
      if (node.needs[i] && !seen.has(c)) {
        seen.add(c);
        stack.push([c, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/** a + b in a new tensor, or in `into` when given; a and b are disposed (gradients the sweep owns). */
function accumulate(a: Tensor, b: Tensor, into: Tensor | null = null): Tensor {
  const sum = into ? addInto(a, b, into) : add(a, b);
  a.dispose();
  b.dispose();
  return sum;
}

/** Reverse-mode sweep from `root`; accumulates into `.grad` of leaves that require grad. */
export function backward(root: Tensor, grad: Tensor | undefined, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad)
    throw new WgslgradError('backward', `the tensor ${fmtShape(root.shape)} does not require grad (no input of the ops that made it has requiresGrad)`);
  if (grad && grad.shape.join() !== root.shape.join())
    throw new WgslgradError('backward', `gradient has shape ${fmtShape(grad.shape)}, expected the output's ${fmtShape(root.shape)}`);
  if (!grad && root.size !== 1)
    throw new WgslgradError('backward', `called on a tensor of shape ${fmtShape(root.shape)}; pass a gradient or reduce to a scalar first`);
  const order = topoOrder(root);
  const slots = new SweepSlots(order);
  // every gradient in the map is owned by the sweep (the caller's `grad` is aliased)
  const grads = new Map<Tensor, Tensor>();
  noGrad(() => {
    try {
      // a scalar op's output starts from the shared 1 (no fill); a leaf root gets its own, as it becomes .grad
      grads.set(root, grad ? grad.alias() : root._node ? rootOne().alias(root.shape) : ones(root.shape));
      for (let k = order.length - 1; k >= 0; k--) {
        const t = order[k]!;
        const g = grads.get(t);
        if (!g) continue;
        grads.delete(t);
        const node = t._node;
        if (!node) {
          // a leaf; the shared 1 never becomes a .grad that a caller could write into
          const own = isRootOne(g) ? clone(g) : g;
          if (own !== g) g.dispose();
          t.grad = keep(t.grad ? accumulate(t.grad, own) : own);
          continue;
        }
        runRule(node, g, grads, slots);
        if (!opts.retainGraph) {
          t._node = null;
          t._freedBy = node.op;
        }
      }
    } finally {
      for (const g of grads.values()) g.dispose();
    }
  });
}

/** Runs `node`'s rule on its output's gradient `g` and adds what it returns to its inputs' gradients in `grads`. */
function runRule(node: GradNode, g: Tensor, grads: Map<Tensor, Tensor>, slots: SweepSlots): void {
  // where each input's last gradient may go: its parameter's optimiser slot (a rule with backwardInto
  // writes it there; the sweep adds a total into it otherwise)
  const outs = slots.outsFor(node);
  const rule = node.backwardInto;
  // what has been accumulated for each input so far, for rules that add it in their own kernel (an
  // input that appears twice gets none: both of its gradients would take it in)
  const once = (x: Tensor): boolean => node.inputs.indexOf(x) === node.inputs.lastIndexOf(x);
  const acc = rule ? node.inputs.map((x, j) => (node.needs[j] && once(x) ? (grads.get(x) ?? null) : null)) : null;
  const gs = ruleScope(
    () => (rule ? rule(g, node.needs, acc!, outs ?? NONE) : node.backward(g, node.needs)),
    (r) => r.filter((_, j) => node.needs[j]),
  );
  if (!gs.some((x, j) => x === g && node.needs[j])) g.dispose();
  for (let j = 0; j < node.inputs.length; j++) {
    const gx = gs[j];
    if (!gx || !node.needs[j]) continue;
    const x = node.inputs[j]!;
    if (gx.shape.join() !== x.shape.join())
      throw new WgslgradError('backward', `${node.op}: gradient of shape ${fmtShape(gx.shape)} for an input of shape ${fmtShape(x.shape)}`);
    const prior = grads.get(x);
    if (prior && isFolded(gx)) {
      if (prior !== acc?.[j]) throw new WgslgradError('backward', `${node.op}: a gradient folded in another than the accumulated one`);
      prior.dispose();
      grads.set(x, gx);
    } else if (prior) {
      // the total goes into the slot the rule left unwritten (a rule that does not fold acc)
      const into = outs?.[j] && gx !== outs[j] && prior !== outs[j] ? outs[j] : null;
      grads.set(x, accumulate(prior, gx, into));
      if (into) outs![j] = null;
    } else grads.set(x, gx);
    if (outs?.[j] === gx) outs[j] = null;
  }
  if (outs) for (const o of outs) o?.dispose(); // slots nobody wrote
}

/** the `outs` of a node none of whose inputs has an optimiser slot */
const NONE: ReadonlyArray<Tensor | null> = Object.freeze([]);
