// Softmax cross-entropy with class-index targets, mean over rows, as torch's F.cross_entropy.
// forward: one workgroup; each lane takes rows, loss_n = logsumexp(x_n) − x_n[t_n] (max-shifted);
//   a target that is not an integer in [0, C) makes the loss NaN.
// backward: dx[n,c] = (softmax(x_n)[c] − [c = t_n]) · g / N.   Parameters: N rows, C classes.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<f32>;
@group(0) @binding(3) var<storage, read_write> L: array<f32>;

fn row_lse(base: u32, C: u32) -> f32 {
  var m = X[base];
  for (var c = 1u; c < C; c++) { m = max(m, X[base + c]); }
  var s = 0.0;
  for (var c = 0u; c < C; c++) { s += exp(X[base + c] - m); }
  return m + log(s);
}

@compute @workgroup_size(256)
fn forward(@builtin(local_invocation_index) lid: u32) {
  let N = p_N(); let C = p_C();
  var acc = 0.0;
  for (var n = lid; n < N; n += 256u) {
    let t = T[n];
    if (!(t >= 0.0 && t < f32(C) && floor(t) == t)) { acc += bitcast<f32>(0x7fc00000u | (N & 0u)); continue; }
    acc += row_lse(n * C, C) - X[n * C + u32(t)];
  }
  let total = workgroup_sum(acc, lid, 256u, 0u);
  if (lid == 0u) { L[0] = total / f32(N); }
}

@group(0) @binding(1) var<storage, read> XB: array<f32>;
@group(0) @binding(2) var<storage, read> TB: array<f32>;
@group(0) @binding(3) var<storage, read> GB: array<f32>;
@group(0) @binding(4) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = linear_id(gid, nwg, 256u);
  let N = p_N(); let C = p_C();
  if (n >= N) { return; }
  let base = n * C;
  var m = XB[base];
  for (var c = 1u; c < C; c++) { m = max(m, XB[base + c]); }
  var s = 0.0;
  for (var c = 0u; c < C; c++) { s += exp(XB[base + c] - m); }
  let scale = GB[0] / f32(N);
  let t = TB[n];
  for (var c = 0u; c < C; c++) {
    let p = exp(XB[base + c] - m) / s;
    DX[base + c] = (p - select(0.0, 1.0, f32(c) == t)) * scale;
  }
}
