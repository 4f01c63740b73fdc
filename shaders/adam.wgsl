// Adam (PyTorch's torch.optim.Adam, bias-corrected, L2 weight decay) and, with DECOUPLED, AdamW
// (torch.optim.AdamW: decoupled weight decay) over a flat range of
// parameters, gradients and moments: one dispatch updates every parameter of an optimiser.
// Parameters (src/gpu/layouts.ts): n; lr, beta1, beta2, eps, weightDecay, bc1 = 1−β1^t, bc2sqrt = sqrt(1−β2^t).
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  let b1 = p_beta1();
  let b2 = p_beta2();
  // AdamW (DECOUPLED) shrinks the parameter by lr·weightDecay first; Adam adds weightDecay·p to the gradient
  var p = P[i];
  var g = G[i];
  if (DECOUPLED) { p = p * (1.0 - p_lr() * p_weightDecay()); } else { g = g + p_weightDecay() * p; }
  let m = b1 * M[i] + (1.0 - b1) * g;
  let v = b2 * V[i] + (1.0 - b2) * g * g;
  M[i] = m;
  V[i] = v;
  P[i] = p - (p_lr() / p_bc1()) * m / (sqrt(v) / p_bc2sqrt() + p_eps());
}
