// Softmax cross-entropy as torch.nn.functional.cross_entropy over R = N·S rows of C classes
// (input [N, C] or [N, C, d…]: row r = n·S + s reads classes (n·C + c)·S + s), max-shifted.
// Targets: class indices (one a row; a row whose target is p_ignore() counts nowhere; one that is
// not an integer in [0, C) makes the loss NaN) or, with PROBS, probabilities of the input's shape.
// With label smoothing ε the target distribution is (1 − ε)·target + ε/C.
// REDUCE: 0 none (a loss a row, a lane a row), 1 mean (over counted rows; with PROBS over all rows),
// 2 sum; then one workgroup whose lanes take rows, the loss and the count summed in workgroup memory.
// forward also saves the count (CNT) for backward.
// backward: dx[r, c] = scale_r · (softmax_c · Σ y′ − y′_c), scale_r = g / count, g, or g_r.
// Parameters (src/gpu/layouts.ts): N, C, S; ignore, smoothing.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<f32>;
@group(0) @binding(3) var<storage, read_write> L: array<f32>;
@group(0) @binding(4) var<storage, read_write> CNT: array<f32>;

const NAN_BITS = 0x7fc00000u;

fn at(r: u32, c: u32) -> u32 {
  let S = p_S();
  let n = r / S;
  return (n * p_C() + c) * S + (r - n * S);
}

fn row_lse(r: u32, C: u32) -> f32 {
  var m = X[at(r, 0u)];
  for (var c = 1u; c < C; c++) { m = max(m, X[at(r, c)]); }
  var s = 0.0;
  for (var c = 0u; c < C; c++) { s += exp(X[at(r, c)] - m); }
  return m + log(s);
}

// the row's loss and whether it counts: (loss, 1) or (0, 0) for an ignored row
fn row_loss(r: u32) -> vec2<f32> {
  let C = p_C();
  let eps = p_smoothing();
  if (PROBS) {
    let lse = row_lse(r, C);
    var l = 0.0;
    for (var c = 0u; c < C; c++) {
      let y = (1.0 - eps) * T[at(r, c)] + eps / f32(C);
      l += y * (lse - X[at(r, c)]);
    }
    return vec2<f32>(l, 1.0);
  }
  let t = T[r];
  if (t == p_ignore()) { return vec2<f32>(0.0, 0.0); }
  if (!(t >= 0.0 && t < f32(C) && floor(t) == t)) { return vec2<f32>(bitcast<f32>(NAN_BITS | (C & 0u)), 1.0); }
  let lse = row_lse(r, C);
  var l = lse - X[at(r, u32(t))];
  if (eps > 0.0) {
    var sx = 0.0;
    for (var c = 0u; c < C; c++) { sx += X[at(r, c)]; }
    l = lse - (1.0 - eps) * X[at(r, u32(t))] - eps * sx / f32(C);
  }
  return vec2<f32>(l, 1.0);
}

@compute @workgroup_size(256)
fn forward(@builtin(local_invocation_index) lid: u32) {
  let R = p_N() * p_S();
  var acc = 0.0;
  var cnt = 0.0;
  for (var r = lid; r < R; r += 256u) {
    let lc = row_loss(r);
    acc += lc.x;
    cnt += lc.y;
  }
  let total = workgroup_sum(acc, lid, 256u, 0u);
  let count = workgroup_sum(cnt, lid, 256u, 1u);
  if (lid == 0u) {
    if (REDUCE == 1u) { L[0] = total / count; } else { L[0] = total; }
    CNT[0] = count;
  }
}

@compute @workgroup_size(256)
fn forward_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = linear_id(gid, nwg, 256u);
  if (r >= p_N() * p_S()) { return; }
  L[r] = row_loss(r).x;
}

@group(0) @binding(1) var<storage, read> XB: array<f32>;
@group(0) @binding(2) var<storage, read> TB: array<f32>;
@group(0) @binding(3) var<storage, read> GB: array<f32>;
@group(0) @binding(4) var<storage, read> CNTB: array<f32>;
@group(0) @binding(5) var<storage, read_write> DX: array<f32>;

fn atb(r: u32, c: u32) -> u32 {
  let S = p_S();
  let n = r / S;
  return (n * p_C() + c) * S + (r - n * S);
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = linear_id(gid, nwg, 256u);
  let C = p_C();
  if (r >= p_N() * p_S()) { return; }
  let eps = p_smoothing();
  var scale: f32;
  if (REDUCE == 0u) { scale = GB[r]; } else if (REDUCE == 1u) { scale = GB[0] / CNTB[0]; } else { scale = GB[0]; }
  var t = 0.0;
  if (!PROBS) {
    t = TB[r];
    if (t == p_ignore()) {
      for (var c = 0u; c < C; c++) { DX[atb(r, c)] = 0.0; }
      return;
    }
  }
  var m = XB[atb(r, 0u)];
  for (var c = 1u; c < C; c++) { m = max(m, XB[atb(r, c)]); }
  var s = 0.0;
  for (var c = 0u; c < C; c++) { s += exp(XB[atb(r, c)] - m); }
  // Σ y′ over the row: 1 for class targets, the smoothed probabilities' sum otherwise
  var sy = 1.0;
  if (PROBS) {
    sy = 0.0;
    for (var c = 0u; c < C; c++) { sy += (1.0 - eps) * TB[atb(r, c)] + eps / f32(C); }
  }
  for (var c = 0u; c < C; c++) {
    let p = exp(XB[atb(r, c)] - m) / s;
    var y: f32;
    if (PROBS) { y = (1.0 - eps) * TB[atb(r, c)] + eps / f32(C); } else { y = select(0.0, 1.0, f32(c) == t) * (1.0 - eps) + eps / f32(C); }
    DX[atb(r, c)] = (p * sy - y) * scale;
  }
}
