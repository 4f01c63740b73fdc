// Adam (PyTorch's torch.optim.Adam, bias-corrected, L2 weight decay) over a flat range of
// parameters, gradients and moments: one dispatch updates every parameter of an optimiser.
// pu: 0 n. pf: 0 lr, 1 β1, 2 β2, 3 eps, 4 weight decay, 5 1−β1^t, 6 sqrt(1−β2^t)
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= pu(0u)) { return; }
  let b1 = pf(1u);
  let b2 = pf(2u);
  let p = P[i];
  let g = G[i] + pf(4u) * p;
  let m = b1 * M[i] + (1.0 - b1) * g;
  let v = b2 * V[i] + (1.0 - b2) * g * g;
  M[i] = m;
  V[i] = v;
  P[i] = p - (pf(0u) / pf(5u)) * m / (sqrt(v) / pf(6u) + pf(3u));
}
