// Inverted dropout: element i is kept when stream_unit(k0, k1, i) ≥ p and scaled by 1/(1−p).
// The mask is recomputed from the key in backward, never stored. pu: 0 n, 1 k0, 2 k1; pf: 0 p.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= pu(0u)) { return; }
  let p = pf(0u);
  let keep = stream_unit(pu(1u), pu(2u), i) >= p;
  Y[i] = select(0.0, X[i] / (1.0 - p), keep);
}
