// Data movement. permute: out[i] = X[offset] · scale for i < n, the output's nd ≤ 6 dims p_sizes(d)
// read at input strides p_strides(d) (innermost last); the scale is 1 but for mean's gradient.
// copy_slice: for o < outer, j < len: Y[o·dstRow + dstOff + j] = X[o·srcRow + srcOff + j] (concat,
// its backward, clone).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(256)
fn permute(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  let off = strided_offset(i, p_nd(), P_sizes, P_strides);
  Y[i] = X[off] * p_scale();
}

@compute @workgroup_size(256)
fn copy_slice(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  let len = p_len();
  if (i >= p_outer() * len) { return; }
  let o = i / len;
  let j = i - o * len;
  Y[o * p_dstRow() + p_dstOff() + j] = X[o * p_srcRow() + p_srcOff() + j];
}
