// The tape of define-by-run autograd: every op whose inputs require grad records a node on its
// output (the op, its inputs, which of them needed a gradient, its backward rule). Ops import this
// module; the backward sweep (backward.ts) reads the nodes.
import type { GradIntoRule, GradNode, GradRule, Tensor } from '../tensor.js';

let enabled = true;

/** Whether ops record gradients now (false inside {@link noGrad}), as torch.is_grad_enabled(). */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs fn without recording gradients (like torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

const folded = new WeakSet<Tensor>();

/**
 * Marks a rule's gradient as already holding `acc`, the gradient accumulated so far for that input
 * (the rule added it in its own kernel), so the sweep takes it as the new total instead of adding
 * them; with no `acc` it is an ordinary gradient. Returns `grad`.
 */
export function foldedGrad(grad: Tensor, acc: Tensor | null | undefined): Tensor {
  if (acc) folded.add(grad);
  return grad;
}

/** @internal backward.ts: whether a rule's gradient already holds the accumulated one */
export function isFolded(grad: Tensor): boolean {
  return folded.has(grad);
}

/**
 * Attaches a backward rule to `out` if grad mode is on and some input requires grad. Which inputs
 * need a gradient is fixed now (as in PyTorch, flipping requiresGrad later does not change the
 * graph); the rule gets those flags as its second argument.
 */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: GradRule): Tensor {
  return attach(out, op, inputs, backward);
}

/**
 * record for a fused op whose rule can fold the accumulated gradients and write optimiser slots
 * (GradIntoRule): its plain rule is the same with neither.
 */
export function recordInto(out: Tensor, op: string, inputs: Tensor[], backwardInto: GradIntoRule): Tensor {
  return attach(out, op, inputs, (g, needs) => backwardInto(g, needs, NONE, NONE), backwardInto);
}

const NONE: ReadonlyArray<Tensor | null> = Object.freeze([]);

function attach(out: Tensor, op: string, inputs: Tensor[], backward: GradRule, backwardInto?: GradIntoRule): Tensor {
  if (enabled && inputs.some((t) => t.requiresGrad)) {
    const node: GradNode = { op, inputs, needs: inputs.map((t) => t.requiresGrad), backward, backwardInto };
    out._node = node; // which makes out.requiresGrad true
  }
  return out;
}
