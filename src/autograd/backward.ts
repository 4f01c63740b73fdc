// Define-by-run tape: every op that has an input requiring grad records a node on its output.
import { WgslgradError, fmtShape } from './errors.js';
import { keep } from './scope.js';
import type { Tensor } from './tensor.js';

export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Which inputs required grad when the op ran (as in PyTorch, flipping requiresGrad later does not change the graph). */
  needs: boolean[];
  /** Given dL/d(output), returns dL/d(input) for each input (null where not needed). */
  backward: (g: Tensor) => Array<Tensor | null>;
}

let enabled = true;

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

/** Attaches a backward rule to `out` if grad mode is on and some input requires grad. */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: GradNode['backward']): Tensor {
  if (enabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out._node = { op, inputs, needs: inputs.map((t) => t.requiresGrad), backward };
  }
  return out;
}

export interface BackwardOptions {
  /** Keep the graph for a second backward through it (PyTorch's retain_graph). */
  retainGraph?: boolean;
}

/** Reverse-mode sweep from `root`; accumulates into `.grad` of leaves that require grad. */
export function backward(root: Tensor, grad: Tensor | undefined, opts: BackwardOptions, ones: (shape: readonly number[]) => Tensor, add: (a: Tensor, b: Tensor) => Tensor): void {
  if (!root.requiresGrad) throw new WgslgradError('backward', `the tensor ${fmtShape(root.shape)} does not require grad (no input of the ops that made it has requiresGrad)`);
  if (grad && grad.shape.join() !== root.shape.join()) throw new WgslgradError('backward', `gradient has shape ${fmtShape(grad.shape)}, expected the output's ${fmtShape(root.shape)}`);
  if (!grad && root.size !== 1) throw new WgslgradError('backward', `called on a tensor of shape ${fmtShape(root.shape)}; pass a gradient or reduce to a scalar first`);
  // Topological order by iterative DFS.
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: Array<[Tensor, number]> = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const ins = t._node?.inputs ?? [];
    if (i < ins.length) {
      top[1]++;
      const c = ins[i]!;
      if (t._node!.needs[i] && !seen.has(c)) {
        seen.add(c);
        stack.push([c, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  const prev = enabled;
  enabled = false;
  const grads = new Map<Tensor, Tensor>();
  try {
    grads.set(root, grad ?? ones(root.shape));
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t._node;
      if (!node) {
        // a leaf
        keep(g);
        if (t.grad) {
          const sum = keep(add(t.grad, g));
          t.grad.dispose();
          if (g !== grad) g.dispose();
          t.grad = sum;
        } else {
          t.grad = g === grad ? keep(g.alias()) : g;
        }
        continue;
      }
      // the rules read `input.requiresGrad`: show them the flags as they were when the op ran
      const now = node.inputs.map((x) => x.requiresGrad);
      node.inputs.forEach((x, j) => (x.requiresGrad = node.needs[j]!));
      let gs: Array<Tensor | null>;
      try {
        gs = node.backward(g);
      } finally {
        node.inputs.forEach((x, j) => (x.requiresGrad = now[j]!));
      }
      if (g !== grad && !gs.includes(g)) g.dispose();
      for (let j = 0; j < node.inputs.length; j++) {
        const x = node.inputs[j]!;
        const gx = gs[j];
        if (!gx || !node.needs[j]) {
          if (gx && gx !== g) gx.dispose();
          continue;
        }
        if (gx.shape.join() !== x.shape.join()) throw new WgslgradError('backward', `${node.op}: gradient of shape ${fmtShape(gx.shape)} for an input of shape ${fmtShape(x.shape)}`);
        const acc = grads.get(x);
        if (acc) {
          grads.set(x, add(acc, gx));
          acc.dispose();
          gx.dispose();
        } else grads.set(x, gx);
      }
      if (!opts.retainGraph) t._node = null;
    }
  } finally {
    enabled = prev;
    for (const g of grads.values()) g.dispose();
  }
}
