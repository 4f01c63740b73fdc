// Batch normalisation over [N, C, S] (S = H·W, or 1 for [N, C]), one workgroup of BWG lanes per channel
// (the planner's bnLanes: 32 on software adapters, 256 on GPUs); its sums are common.wgsl's workgroup_sum.
// stats_apply (training): mean and biased variance of channel c over N·S values (two passes over
//   the data, no cancellation), y = (x − mean)·invstd·γ + β, saves mean and invstd for backward,
//   and updates the running mean and the running (unbiased) variance with momentum p_momentum(), eps p_eps().
// apply_eval: y = (x − running_mean)/sqrt(running_var + eps)·γ + β.
// backward: per channel Σg and Σg·x̂ (one workgroup), then dx = γ·invstd/M·(M·g − Σg − x̂·Σg·x̂),
//   dγ = Σg·x̂, dβ = Σg. ACT (0 none, 1 relu, 2 leakyRelu slope p_slope()) fuses an activation after
//   the affine step; backward then takes y to mask g.
// Parameters (src/gpu/layouts.ts): N, C, S; momentum, eps, slope.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> GAMMA: array<f32>;
@group(0) @binding(3) var<storage, read> BETA: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
@group(0) @binding(5) var<storage, read_write> SAVED: array<f32>;   // [2C]: mean, invstd
@group(0) @binding(6) var<storage, read_write> RMEAN: array<f32>;
@group(0) @binding(7) var<storage, read_write> RVAR: array<f32>;
@group(0) @binding(8) var<storage, read_write> NBT: array<f32>;   // num_batches_tracked, + 1 per call

fn act(v: f32) -> f32 {
  if (ACT == 1u) { return max(v, 0.0); }
  if (ACT == 2u) { return select(v * p_slope(), v, v > 0.0); }
  return v;
}

// The training kernels' bookkeeping for channel c of M values: mean and invstd saved for backward,
// the running mean and the running (unbiased) variance moved by p_momentum(), and one more batch
// tracked (counted once, at channel 0).
fn bn_save(c: u32, C: u32, mean: f32, invstd: f32, varB: f32, M: u32) {
  SAVED[c] = mean;
  SAVED[C + c] = invstd;
  let m = p_momentum();
  let unbiased = select(varB, varB * f32(M) / f32(M - 1u), M > 1u);
  RMEAN[c] = (1.0 - m) * RMEAN[c] + m * mean;
  RVAR[c] = (1.0 - m) * RVAR[c] + m * unbiased;
  if (c == 0u) { NBT[0] += 1.0; }
}

@compute @workgroup_size(BWG)
fn stats_apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let N = p_N(); let C = p_C(); let S = p_S();
  let c = wid.x;
  let M = N * S;
  var acc = 0.0;
  for (var i = lid; i < M; i += BWG) {
    let n = i / S;
    acc += X[(n * C + c) * S + (i - n * S)];
  }
  let mean = workgroup_sum(acc, lid, BWG, 0u) / f32(M);
  var acc2 = 0.0;
  for (var i = lid; i < M; i += BWG) {
    let n = i / S;
    let d = X[(n * C + c) * S + (i - n * S)] - mean;
    acc2 += d * d;
  }
  let varB = workgroup_sum(acc2, lid, BWG, 1u) / f32(M);
  let invstd = inverseSqrt(varB + p_eps());
  let g = GAMMA[c] * invstd;
  let b = BETA[c] - mean * g;
  for (var i = lid; i < M; i += BWG) {
    let n = i / S;
    let idx = (n * C + c) * S + (i - n * S);
    Y[idx] = act(X[idx] * g + b);
  }
  if (lid == 0u) { bn_save(c, C, mean, invstd, varB, M); }
}

@group(0) @binding(1) var<storage, read> XE: array<f32>;
@group(0) @binding(2) var<storage, read> GAMMAE: array<f32>;
@group(0) @binding(3) var<storage, read> BETAE: array<f32>;
@group(0) @binding(4) var<storage, read_write> YE: array<f32>;
@group(0) @binding(5) var<storage, read> RMEANE: array<f32>;
@group(0) @binding(6) var<storage, read> RVARE: array<f32>;

@compute @workgroup_size(256)
fn apply_eval(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  let N = p_N(); let C = p_C(); let S = p_S();
  if (i >= N * C * S) { return; }
  let c = (i / S) % C;
  let invstd = inverseSqrt(RVARE[c] + p_eps());
  YE[i] = act((XE[i] - RMEANE[c]) * invstd * GAMMAE[c] + BETAE[c]);
}

@group(0) @binding(1) var<storage, read> GB: array<f32>;      // upstream gradient
@group(0) @binding(2) var<storage, read> XB: array<f32>;      // forward input
@group(0) @binding(3) var<storage, read> YB: array<f32>;      // forward output (for the fused activation)
@group(0) @binding(4) var<storage, read> GAMMAB: array<f32>;
@group(0) @binding(5) var<storage, read> SAVEDB: array<f32>;
@group(0) @binding(6) var<storage, read_write> DX: array<f32>;
@group(0) @binding(7) var<storage, read_write> DGAMMA: array<f32>;
@group(0) @binding(8) var<storage, read_write> DBETA: array<f32>;

fn g_in(idx: u32) -> f32 {
  let g = GB[idx];
  if (ACT == 1u) { return select(0.0, g, YB[idx] > 0.0); }
  if (ACT == 2u) { return select(g * p_slope(), g, YB[idx] > 0.0); }
  return g;
}

@compute @workgroup_size(BWG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let N = p_N(); let C = p_C(); let S = p_S();
  let c = wid.x;
  let M = N * S;
  let mean = SAVEDB[c];
  let invstd = SAVEDB[C + c];
  var sg = 0.0;
  var sgx = 0.0;
  for (var i = lid; i < M; i += BWG) {
    let n = i / S;
    let idx = (n * C + c) * S + (i - n * S);
    let g = g_in(idx);
    sg += g;
    sgx += g * (XB[idx] - mean) * invstd;
  }
  let sumG = workgroup_sum(sg, lid, BWG, 0u);
  let sumGX = workgroup_sum(sgx, lid, BWG, 1u);
  let k = GAMMAB[c] * invstd / f32(M);
  for (var i = lid; i < M; i += BWG) {
    let n = i / S;
    let idx = (n * C + c) * S + (i - n * S);
    let xhat = (XB[idx] - mean) * invstd;
    DX[idx] = k * (f32(M) * g_in(idx) - sumG - xhat * sumGX);
  }
  if (lid == 0u) {
    DGAMMA[c] = sumGX;
    DBETA[c] = sumG;
  }
}

// [N, C] input (S = 1): one lane per channel: one lane per channel, looping over the batch
// (neighbouring lanes read neighbouring channels; no barriers). Same bindings as above.
@compute @workgroup_size(64)
fn stats_apply_cols(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = linear_id(gid, nwg, 64u);
  let N = p_N(); let C = p_C();
  if (c >= C) { return; }
  var s = 0.0;
  for (var n = 0u; n < N; n++) { s += X[n * C + c]; }
  let mean = s / f32(N);
  var s2 = 0.0;
  for (var n = 0u; n < N; n++) { let d = X[n * C + c] - mean; s2 += d * d; }
  let varB = s2 / f32(N);
  let invstd = inverseSqrt(varB + p_eps());
  let g = GAMMA[c] * invstd;
  let b = BETA[c] - mean * g;
  for (var n = 0u; n < N; n++) { Y[n * C + c] = act(X[n * C + c] * g + b); }
  bn_save(c, C, mean, invstd, varB, N);
}

@compute @workgroup_size(64)
fn backward_cols(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = linear_id(gid, nwg, 64u);
  let N = p_N(); let C = p_C();
  if (c >= C) { return; }
  let mean = SAVEDB[c];
  let invstd = SAVEDB[C + c];
  var sg = 0.0;
  var sgx = 0.0;
  for (var n = 0u; n < N; n++) {
    let idx = n * C + c;
    let g = g_in(idx);
    sg += g;
    sgx += g * (XB[idx] - mean) * invstd;
  }
  let k = GAMMAB[c] * invstd / f32(N);
  for (var n = 0u; n < N; n++) {
    let idx = n * C + c;
    DX[idx] = k * (f32(N) * g_in(idx) - sg - (XB[idx] - mean) * invstd * sgx);
  }
  DGAMMA[c] = sgx;
  DBETA[c] = sg;
}

// The same four kernels reading and writing four floats a load, for S a multiple of 4 (stats_apply4,
// backward4: a vec4 is 4 neighbouring values of one channel) or, at S = 1, C a multiple of 4
// (stats_apply_cols4, backward_cols4: a lane per 4 neighbouring channels). On llvmpipe a storage
// access that differs across lanes is a loop over the lanes whatever its width, so a vec4 costs
// about 2.2 scalar ones (bench/NOTES.md). Each lane's sums run over its vec4s' components apart,
// added at the end: the results differ from the scalar kernels' in the last bits. The planner's
// bnVec4 chooses them. Same bindings.
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> Y4: array<vec4<f32>>;

fn act4(v: vec4<f32>) -> vec4<f32> {
  if (ACT == 1u) { return max(v, vec4<f32>(0.0)); }
  if (ACT == 2u) { return select(v * p_slope(), v, v > vec4<f32>(0.0)); }
  return v;
}

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
    Y4[idx] = act4(X4[idx] * g + b);
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
  for (var n = 0u; n < N; n++) { Y4[n * C4 + c4] = act4(X4[n * C4 + c4] * gv + bv); }
  for (var k = 0u; k < 4u; k++) { bn_save(4u * c4 + k, C, mean[k], invstd[k], varB[k], N); }
}

@group(0) @binding(1) var<storage, read> GB4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> XB4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> YB4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> DX4: array<vec4<f32>>;

fn g_in4(idx: u32) -> vec4<f32> {
  let g = GB4[idx];
  if (ACT == 1u) { return select(vec4<f32>(0.0), g, YB4[idx] > vec4<f32>(0.0)); }
  if (ACT == 2u) { return select(g * p_slope(), g, YB4[idx] > vec4<f32>(0.0)); }
  return g;
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
