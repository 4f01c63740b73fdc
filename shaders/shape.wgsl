// Data movement. permute: out[i] = X[base + offset] · scale for i < n, the output's nd ≤ 6 dims
// p_sizes(d) read at input strides p_strides(d) (innermost last); the scale is 1 but for mean's
// gradient. scatter: the inverse, Y[base + offset] = X[i] (a strided slice's gradient, into zeros).
// copy_slice: for o < outer, j < len: Y[o·dstRow + dstOff + j] = X[o·srcRow + srcOff + j] (concat,
// narrow, their backwards, clone).
// index_select: Y[o, k, i] = X[o, idx[k], i] over [outer, D, inner], K indices; an index that is not
//   an integer in [0, D) gives NaN and is reported in CHECK (code 2; src/gpu/checks.ts).
// index_add: Y[o, v, i] = Σ_{k: idx[k] = v} X[o, k, i], a lane an output (deterministic, no atomics).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(256)
fn permute(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  let off = strided_offset(i, p_nd(), P_sizes, P_strides);
  Y[i] = X[p_base() + off] * p_scale();
}

@compute @workgroup_size(256)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  Y[p_base() + strided_offset(i, p_nd(), P_sizes, P_strides)] = X[i];
}

@group(0) @binding(1) var<storage, read> XS: array<f32>;
@group(0) @binding(2) var<storage, read> IDX: array<f32>;
@group(0) @binding(3) var<storage, read_write> YS: array<f32>;
@group(0) @binding(4) var<storage, read_write> CHECK: array<atomic<u32>, 4>;

@compute @workgroup_size(256)
fn index_select(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = linear_id(gid, nwg, 256u);
  if (e >= p_n()) { return; }
  let D = p_D(); let inner = p_inner(); let K = p_K();
  let o = e / (K * inner);
  let rem = e - o * K * inner;
  let k = rem / inner;
  let i = rem - k * inner;
  let f = IDX[k];
  let valid = f >= 0.0 && f < f32(D) && floor(f) == f;
  if (!valid) {
    atomicStore(&CHECK[1], bitcast<u32>(f));
    atomicStore(&CHECK[2], D);
    atomicStore(&CHECK[0], 2u);
  }
  YS[e] = select(bitcast<f32>(0x7fc00000u | (D & 0u)), XS[(o * D + select(0u, u32(f), valid)) * inner + i], valid);
}

@compute @workgroup_size(256)
fn index_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = linear_id(gid, nwg, 256u);
  if (e >= p_n()) { return; }
  let D = p_D(); let inner = p_inner(); let K = p_K();
  let o = e / (D * inner);
  let rem = e - o * D * inner;
  let v = f32(rem / inner);
  let i = rem % inner;
  var acc = 0.0;
  for (var k = 0u; k < K; k++) {
    if (IDX[k] == v) { acc += XS[(o * K + k) * inner + i]; }
  }
  YS[e] = acc;
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
