// CPU reference of shaders/adam.wgsl: PyTorch's Adam (and, decoupled, AdamW) formula, float64, updates p, m, v in place.
/** One Adam (or, with `decoupled`, AdamW) step of PyTorch's formula in float64, on parameters p with gradients g and moments m, v, updated in place; t is the step (1 on the first). */
export function adam(
  p: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  t: number,
  o: { lr: number; betas: [number, number]; eps: number; weightDecay: number; decoupled?: boolean },
): void {
  const [b1, b2] = o.betas;
  for (let i = 0; i < p.length; i++) {
    // AdamW: the parameter shrinks by lr·weightDecay first; Adam: L2 decay in the gradient
    if (o.decoupled) p[i] = p[i]! * (1 - o.lr * o.weightDecay);
    const gi = o.decoupled ? g[i]! : g[i]! + o.weightDecay * p[i]!;
    m[i] = b1 * m[i]! + (1 - b1) * gi;
    v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
    const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - b2 ** t) + o.eps;
    p[i] = p[i]! - (o.lr / (1 - b1 ** t)) * (m[i]! / denom);
  }
}
