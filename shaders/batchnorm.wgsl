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
    Y[idx] = act_value(X[idx] * g + b, ACT, p_slope());
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
  YE[i] = act_value((XE[i] - RMEANE[c]) * invstd * GAMMAE[c] + BETAE[c], ACT, p_slope());
}

@group(0) @binding(1) var<storage, read> GB: array<f32>;      // upstream gradient
@group(0) @binding(2) var<storage, read> XB: array<f32>;      // forward input
@group(0) @binding(3) var<storage, read> YB: array<f32>;      // forward output (for the fused activation)
@group(0) @binding(4) var<storage, read> GAMMAB: array<f32>;
@group(0) @binding(5) var<storage, read> SAVEDB: array<f32>;
@group(0) @binding(6) var<storage, read_write> DX: array<f32>;
@group(0) @binding(7) var<storage, read_write> DGAMMA: array<f32>;
@group(0) @binding(8) var<storage, read_write> DBETA: array<f32>;

// the upstream gradient taken back through the fused activation (from the output: relu and a
// leakyRelu of slope ≥ 0 keep the input's sign); without one, the output is not read
fn g_in(idx: u32) -> f32 {
  if (ACT == 0u) { return GB[idx]; }
  return act_grad_value(GB[idx], YB[idx], ACT, p_slope());
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
  for (var n = 0u; n < N; n++) { Y[n * C + c] = act_value(X[n * C + c] * g + b, ACT, p_slope()); }
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
