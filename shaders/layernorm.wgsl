// Layer normalisation over the last D values of each of M rows, as torch.nn.functional.layer_norm:
// y = (x − mean)·rstd·γ + β with the biased variance, rstd = 1/sqrt(var + eps).
// forward: a lane a row, mean and variance in two passes (no cancellation); saves mean and rstd
//   ([2M]) for backward. AFFINE: γ and β are given (else 1 and 0).
// backward_input: a lane a row, dx = rstd/D·(D·ĝ − Σĝ − x̂·Σ ĝ·x̂) with ĝ = g·γ.
// backward_params: a lane a feature d, dγ[d] = Σ_rows g·x̂, dβ[d] = Σ_rows g.
// Parameters (src/gpu/layouts.ts): M, D; eps.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> GAMMA: array<f32>;
@group(0) @binding(3) var<storage, read> BETA: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
@group(0) @binding(5) var<storage, read_write> SAVED: array<f32>;

fn gamma(d: u32) -> f32 {
  if (AFFINE) { return GAMMA[d]; }
  return 1.0;
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = linear_id(gid, nwg, 64u);
  let M = p_M(); let D = p_D();
  if (r >= M) { return; }
  let base = r * D;
  var s = 0.0;
  for (var d = 0u; d < D; d++) { s += X[base + d]; }
  let mean = s / f32(D);
  var s2 = 0.0;
  for (var d = 0u; d < D; d++) { let e = X[base + d] - mean; s2 += e * e; }
  let rstd = inverseSqrt(s2 / f32(D) + p_eps());
  for (var d = 0u; d < D; d++) {
    let xh = (X[base + d] - mean) * rstd;
    if (AFFINE) { Y[base + d] = xh * GAMMA[d] + BETA[d]; } else { Y[base + d] = xh; }
  }
  SAVED[r] = mean;
  SAVED[M + r] = rstd;
}

@group(0) @binding(1) var<storage, read> GB: array<f32>;
@group(0) @binding(2) var<storage, read> XB: array<f32>;
@group(0) @binding(3) var<storage, read> SAVEDB: array<f32>;
@group(0) @binding(4) var<storage, read> GAMMAB: array<f32>;
@group(0) @binding(5) var<storage, read_write> DX: array<f32>;

fn gamma_b(d: u32) -> f32 {
  if (AFFINE) { return GAMMAB[d]; }
  return 1.0;
}

@compute @workgroup_size(64)
fn backward_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = linear_id(gid, nwg, 64u);
  let M = p_M(); let D = p_D();
  if (r >= M) { return; }
  let base = r * D;
  let mean = SAVEDB[r];
  let rstd = SAVEDB[M + r];
  var sg = 0.0;
  var sgx = 0.0;
  for (var d = 0u; d < D; d++) {
    let gh = GB[base + d] * gamma_b(d);
    sg += gh;
    sgx += gh * (XB[base + d] - mean) * rstd;
  }
  let k = rstd / f32(D);
  for (var d = 0u; d < D; d++) {
    let xh = (XB[base + d] - mean) * rstd;
    DX[base + d] = k * (f32(D) * GB[base + d] * gamma_b(d) - sg - xh * sgx);
  }
}

@group(0) @binding(4) var<storage, read_write> DGAMMA: array<f32>;
@group(0) @binding(5) var<storage, read_write> DBETA: array<f32>;

@compute @workgroup_size(64)
fn backward_params(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let d = linear_id(gid, nwg, 64u);
  let M = p_M(); let D = p_D();
  if (d >= D) { return; }
  var sgx = 0.0;
  var sg = 0.0;
  for (var r = 0u; r < M; r++) {
    let g = GB[r * D + d];
    sg += g;
    sgx += g * (XB[r * D + d] - SAVEDB[r]) * SAVEDB[M + r];
  }
  DGAMMA[d] = sgx;
  DBETA[d] = sg;
}
