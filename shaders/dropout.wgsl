// Inverted dropout: element i is kept when stream_unit(k0, k1, i) ≥ p and scaled by 1/(1−p).
// The mask is recomputed from the key in backward, never stored. Parameters: n, k0, k1; p.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  let p = p_p();
  let keep = stream_unit(p_k0(), p_k1(), i) >= p;
  Y[i] = select(0.0, X[i] / (1.0 - p), keep);
}
