// Gradient slots. An optimiser keeps its parameters' gradients in one flat buffer, a slot (a 256-
// byte-aligned range) per parameter, and updates them all with one dispatch. The backward sweep has
// a parameter's last gradient of the step written straight into its slot where the op allows it (an
// op's backwardInto), so a step copies no gradient. Kept here: which parameter has which slot, the
// tensors that hold a slot (a .grad the caller kept, a view of it: they get their own copy before
// the slot is written again, as a PyTorch gradient set aside keeps its values), and the sweep's
// count of the gradients each parameter has still to get.
import { allocStorage, copyBuffer, type Storage } from '../gpu/engine.js';
import { type GradNode, Tensor } from '../tensor.js';

/** The tensors on one slot, swept of dead and moved ones when the set has doubled since the last sweep. */
interface Holders {
  refs: Set<WeakRef<Tensor>>;
  sweepAt: number;
}

const slotOf = new WeakMap<Tensor, Storage>();
const holdersOf = new WeakMap<Storage, Holders>();

/** A parameter's slot in its optimiser's flat gradient buffer, if it has one. */
export function gradSlot(p: Tensor): Storage | null {
  return slotOf.get(p) ?? null;
}

/** @internal (tests) how many tensors a parameter's slot counts among its holders, live or not yet swept */
export function slotHolderCount(p: Tensor): number {
  const slot = slotOf.get(p);
  return slot ? (holdersOf.get(slot)?.refs.size ?? 0) : 0;
}

/** Gives parameter `p` the slot `slot` (a storage it owns a reference to), or none; a slot it had is released. */
export function assignSlot(p: Tensor, slot: Storage | null): void {
  slotOf.get(p)?.release();
  if (!slot) {
    slotOf.delete(p);
    return;
  }
  slotOf.set(p, slot);
  const h: Holders = { refs: new Set(), sweepAt: 16 };
  holdersOf.set(slot, h);
  // every tensor made on the slot (by the sweep, or a view of one) is one of its holders
  slot.onTensor = (t) => hold(slot, h, t as Tensor);
}

/**
 * Adds t to a slot's holders. A slot gets a new tensor at every backward, and the old ones die
 * (disposed, collected, or moved off by releaseSlot) without telling it, so when the set has
 * doubled since its last sweep it drops every ref whose tensor is gone or no longer on the slot:
 * the set stays within twice its live holders instead of growing a ref a step.
 */
function hold(slot: Storage, h: Holders, t: Tensor): void {
  h.refs.add(new WeakRef(t));
  if (h.refs.size < h.sweepAt) return;
  for (const ref of h.refs) {
    const x = ref.deref();
    if (!x?.ownsStorage(slot)) h.refs.delete(ref);
  }
  h.sweepAt = Math.max(16, 2 * h.refs.size);
}

/** Before a slot is written again: every live tensor still on it gets a copy of its data in a buffer of its own. */
export function releaseSlot(slot: Storage): void {
  const h = holdersOf.get(slot);
  if (!h || slot.refs <= 1) return;
  for (const ref of h.refs) {
    h.refs.delete(ref);
    const t = ref.deref();
    if (!t?.ownsStorage(slot)) continue;
    const own = allocStorage(Math.max(4, t.size * 4));
    if (t.size) copyBuffer(slot.buffer, slot.offset, own.buffer, own.offset, t.size * 4);
    t._replaceStorage(own);
  }
}

/**
 * The sweep's view of the slots: for each parameter with one, how many of the rules still to run
 * give it a gradient. The last of them may write the parameter's gradient into the slot.
 */
export class SweepSlots {
  private readonly pending = new Map<Tensor, number>();

  /** `order`: the sweep's tensors (their nodes are the rules it will run). */
  constructor(order: readonly Tensor[]) {
    for (const t of order) {
      const n = t._node;
      if (n) n.inputs.forEach((x, j) => n.needs[j] && !x._node && slotOf.has(x) && this.pending.set(x, (this.pending.get(x) ?? 0) + 1));
    }
  }

  /**
   * Where `node`'s rule may write each input's gradient (a rule's `outs`): a tensor on the slot of
   * a parameter whose last gradient this is, that has no .grad to add to and appears once among
   * the node's inputs; null for the others, and null for all when none has a slot.
   */
  outsFor(node: GradNode): Array<Tensor | null> | null {
    if (this.pending.size === 0 || !node.inputs.some((x) => this.pending.has(x))) return null;
    const once = (x: Tensor) => node.inputs.indexOf(x) === node.inputs.lastIndexOf(x);
    const outs = node.inputs.map((x, j) => {
      const slot = node.needs[j] && !x._node && !x.grad ? gradSlot(x) : null;
      if (!slot || this.pending.get(x) !== 1 || !once(x)) return null;
      releaseSlot(slot); // an earlier gradient kept by the caller keeps its values
      return new Tensor(x.shape, slot.retain());
    });
    node.inputs.forEach((x, j) => node.needs[j] && this.pending.has(x) && this.pending.set(x, this.pending.get(x)! - 1));
    return outs;
  }
}
