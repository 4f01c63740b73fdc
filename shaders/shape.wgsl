// Data movement. permute: out[i] = X[offset] · pf(0), the output's dims pu(2+d) read at input
// strides pu(8+d) (d < pu(1) ≤ 6, innermost last); the scale is 1 but for mean's gradient. copy_slice: for o < pu(0), j < pu(1):
// Y[o*pu(4) + pu(5) + j] = X[o*pu(2) + pu(3) + j] (concat, its backward, clone).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(256)
fn permute(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= pu(0u)) { return; }
  let off = strided_offset(i, pu(1u), 2u, 8u);
  Y[i] = X[off] * pf(0u);
}

@compute @workgroup_size(256)
fn copy_slice(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  let len = pu(1u);
  if (i >= pu(0u) * len) { return; }
  let o = i / len;
  let j = i - o * len;
  Y[o * pu(4u) + pu(5u) + j] = X[o * pu(2u) + pu(3u) + j];
}
