// batchnorm.wgsl's four training kernels four floats a load, for software adapters (the variants
// batchnorm.*4, src/gpu/variants/software.ts). Compiled after batchnorm.wgsl's declarations and
// helpers (bindings, bn_save, g_in): layouts.ts gives this file batchnorm as its base.
// The same four kernels reading and writing four floats a load, for S a multiple of 4 (stats_apply4,
// backward4: a vec4 is 4 neighbouring values of one channel) or, at S = 1, C a multiple of 4
// (stats_apply_cols4, backward_cols4: a lane per 4 neighbouring channels). On llvmpipe a storage
// access that differs across lanes is a loop over the lanes whatever its width, so a vec4 costs
// about 2.2 scalar ones (bench/NOTES.md). Each lane's sums run over its vec4s' components apart,
// added at the end: the results differ from the scalar kernels' in the last bits. The
// batchnorm.*4 variants choose them. Same bindings.
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> Y4: array<vec4<f32>>;

// (n, s) of a channel's vec4 i = n·S4 + s, carried as i steps by d = (BWG / S4, BWG % S4): a compare
// a step instead of a division (llvmpipe divides lane by lane)
fn bn_next(p: vec2<u32>, d: vec2<u32>, S4: u32) -> vec2<u32> {
  let q = p + d;
  let wrap = q.y >= S4;
  return vec2<u32>(select(q.x, q.x + 1u, wrap), select(q.y, q.y - S4, wrap));
}

fn hsum(v: vec4<f32>) -> f32 { return (v.x + v.y) + (v.z + v.w); }

@compute @workgroup_size(BWG)
fn stats_apply4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let N = p_N(); let C = p_C(); let S4 = p_S() / 4u;
  let c = wid.x;
  let M4 = N * S4;
  let d = vec2<u32>(BWG / S4, BWG % S4);
  let p0 = vec2<u32>(lid / S4, lid % S4);
  var acc = vec4<f32>(0.0);
  var p = p0;
  for (var i = lid; i < M4; i += BWG) {
    acc += X4[(p.x * C + c) * S4 + p.y];
    p = bn_next(p, d, S4);
  }
  let M = f32(4u * M4);
  let mean = workgroup_sum(hsum(acc), lid, BWG, 0u) / M;
  var acc2 = vec4<f32>(0.0);
  p = p0;
  for (var i = lid; i < M4; i += BWG) {
    let e = X4[(p.x * C + c) * S4 + p.y] - mean;
    acc2 += e * e;
    p = bn_next(p, d, S4);
  }
  let varB = workgroup_sum(hsum(acc2), lid, BWG, 1u) / M;
  let invstd = inverseSqrt(varB + p_eps());
  let g = GAMMA[c] * invstd;
  let b = BETA[c] - mean * g;
  p = p0;
  for (var i = lid; i < M4; i += BWG) {
    let idx = (p.x * C + c) * S4 + p.y;
    Y4[idx] = act_value4(X4[idx] * g + b, ACT, p_slope());
    p = bn_next(p, d, S4);
  }
  if (lid == 0u) { bn_save(c, C, mean, invstd, varB, 4u * M4); }
}

@compute @workgroup_size(64)
fn stats_apply_cols4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c4 = linear_id(gid, nwg, 64u);
  let N = p_N(); let C = p_C(); let C4 = C / 4u;
  if (c4 >= C4) { return; }
  var s = vec4<f32>(0.0);
  for (var n = 0u; n < N; n++) { s += X4[n * C4 + c4]; }
  let mean = s / f32(N);
  var s2 = vec4<f32>(0.0);
  for (var n = 0u; n < N; n++) { let e = X4[n * C4 + c4] - mean; s2 += e * e; }
  let varB = s2 / f32(N);
  let invstd = inverseSqrt(varB + p_eps());
  var gv: vec4<f32>;
  var bv: vec4<f32>;
  for (var k = 0u; k < 4u; k++) {
    gv[k] = GAMMA[4u * c4 + k] * invstd[k];
    bv[k] = BETA[4u * c4 + k] - mean[k] * gv[k];
  }
  for (var n = 0u; n < N; n++) { Y4[n * C4 + c4] = act_value4(X4[n * C4 + c4] * gv + bv, ACT, p_slope()); }
  for (var k = 0u; k < 4u; k++) { bn_save(4u * c4 + k, C, mean[k], invstd[k], varB[k], N); }
}

@group(0) @binding(1) var<storage, read> GB4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> XB4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> YB4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> DX4: array<vec4<f32>>;

fn g_in4(idx: u32) -> vec4<f32> {
  if (ACT == 0u) { return GB4[idx]; }
  return act_grad_value4(GB4[idx], YB4[idx], ACT, p_slope());
}

@compute @workgroup_size(BWG)
fn backward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let N = p_N(); let C = p_C(); let S4 = p_S() / 4u;
  let c = wid.x;
  let M4 = N * S4;
  let d = vec2<u32>(BWG / S4, BWG % S4);
  let p0 = vec2<u32>(lid / S4, lid % S4);
  let mean = SAVEDB[c];
  let invstd = SAVEDB[C + c];
  var sg = vec4<f32>(0.0);
  var sgx = vec4<f32>(0.0);
  var p = p0;
  for (var i = lid; i < M4; i += BWG) {
    let idx = (p.x * C + c) * S4 + p.y;
    let g = g_in4(idx);
    sg += g;
    sgx += g * (XB4[idx] - mean) * invstd;
    p = bn_next(p, d, S4);
  }
  let sumG = workgroup_sum(hsum(sg), lid, BWG, 0u);
  let sumGX = workgroup_sum(hsum(sgx), lid, BWG, 1u);
  let M = f32(4u * M4);
  let k = GAMMAB[c] * invstd / M;
  p = p0;
  for (var i = lid; i < M4; i += BWG) {
    let idx = (p.x * C + c) * S4 + p.y;
    let xhat = (XB4[idx] - mean) * invstd;
    DX4[idx] = k * (M * g_in4(idx) - sumG - xhat * sumGX);
    p = bn_next(p, d, S4);
  }
  if (lid == 0u) {
    DGAMMA[c] = sumGX;
    DBETA[c] = sumG;
  }
}

@compute @workgroup_size(64)
fn backward_cols4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c4 = linear_id(gid, nwg, 64u);
  let N = p_N(); let C = p_C(); let C4 = C / 4u;
  if (c4 >= C4) { return; }
  var mean: vec4<f32>;
  var invstd: vec4<f32>;
  var gm: vec4<f32>;
  for (var k = 0u; k < 4u; k++) {
    mean[k] = SAVEDB[4u * c4 + k];
    invstd[k] = SAVEDB[C + 4u * c4 + k];
    gm[k] = GAMMAB[4u * c4 + k];
  }
  var sg = vec4<f32>(0.0);
  var sgx = vec4<f32>(0.0);
  for (var n = 0u; n < N; n++) {
    let idx = n * C4 + c4;
    let g = g_in4(idx);
    sg += g;
    sgx += g * (XB4[idx] - mean) * invstd;
  }
  let kk = gm * invstd / f32(N);
  for (var n = 0u; n < N; n++) {
    let idx = n * C4 + c4;
    DX4[idx] = kk * (f32(N) * g_in4(idx) - sg - (XB4[idx] - mean) * invstd * sgx);
  }
  for (var k = 0u; k < 4u; k++) {
    DGAMMA[4u * c4 + k] = sgx[k];
    DBETA[4u * c4 + k] = sg[k];
  }
}
