// CPU reference of shaders/sgd.wgsl: torch.optim.SGD, float64, updates p and buf in place.
/** One torch.optim.SGD step in float64 on p with gradients g and momentum buffer buf, updated in place; `first` on the first step (the buffer starts as the gradient). */
export function sgd(
  p: Float64Array,
  g: Float64Array,
  buf: Float64Array,
  first: boolean,
  o: { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean },
): void {
  for (let i = 0; i < p.length; i++) {
    let d = g[i]! + o.weightDecay * p[i]!;
    if (o.momentum !== 0) {
      buf[i] = first ? d : o.momentum * buf[i]! + (1 - o.dampening) * d;
      d = o.nesterov ? d + o.momentum * buf[i]! : buf[i]!;
    }
    p[i] = p[i]! - o.lr * d;
  }
}
