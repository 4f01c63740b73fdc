// Binary cross-entropy, mean over all p_n() elements, forward and backward each one kernel. With
// WANT_DX the forward also writes dX for an upstream gradient of 1 (the backward of a loss that is
// the root), the same expression as the backward's, so the backward then runs no kernel.
// LOGITS: inputs are logits, loss max(x,0) − x·y + log1p(exp(−|x|)); else probabilities, loss
// −(y·max(log p, −100) + (1−y)·max(log(1−p), −100)) as PyTorch's BCELoss, NaN for p outside [0,1].
// Backward: g = upstream gradient (one element); dX and, with WANT_DY, dY.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<f32>;
@group(0) @binding(3) var<storage, read_write> L: array<f32>;

fn log1p_(v: f32) -> f32 {
  // log(1+v) for v in [0,1] without the cancellation of log(1.0 + v) for small v
  let u = 1.0 + v;
  if (u == 1.0) { return v; }
  return log(u) * v / (u - 1.0);
}

fn elem_loss(x: f32, y: f32) -> f32 {
  if (LOGITS) {
    return max(x, 0.0) - x * y + log1p_(exp(-abs(x)));
  }
  if (!(x >= 0.0 && x <= 1.0)) { return bitcast<f32>(0x7fc00000u | (p_n() & 0u)); } // NaN, not a constant (WGSL rejects NaN constants)
  let lp = max(log(x), -100.0);
  let lq = max(log(1.0 - x), -100.0);
  return -(y * lp + (1.0 - y) * lq);
}

/** dℓ/dx of one element times `scale` (the upstream gradient over n). */
fn elem_dx(x: f32, y: f32, scale: f32) -> f32 {
  if (LOGITS) {
    let e = exp(-abs(x));
    let sig = select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
    return (sig - y) * scale;
  }
  return (x - y) / max((1.0 - x) * x, 1e-12) * scale;
}

@group(0) @binding(4) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(256)
fn forward(@builtin(local_invocation_index) lid: u32) {
  let n = p_n();
  var acc = 0.0;
  let scale = 1.0 / f32(n);
  for (var i = lid; i < n; i += 256u) {
    acc += elem_loss(X[i], T[i]);
    if (WANT_DX) { DX[i] = elem_dx(X[i], T[i], scale); }
  }
  let total = workgroup_sum(acc, lid, 256u, 0u);
  if (lid == 0u) { L[0] = total / f32(n); }
}

@group(0) @binding(1) var<storage, read> XB: array<f32>;
@group(0) @binding(2) var<storage, read> TB: array<f32>;
@group(0) @binding(3) var<storage, read> GB: array<f32>;
@group(0) @binding(5) var<storage, read_write> DY: array<f32>;

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  let n = p_n();
  if (i >= n) { return; }
  let scale = GB[0] / f32(n);
  let x = XB[i];
  let y = TB[i];
  DX[i] = elem_dx(x, y, scale);
  if (WANT_DY) {
    if (LOGITS) { DY[i] = -x * scale; } else { DY[i] = (max(log(1.0 - x), -100.0) - max(log(x), -100.0)) * scale; }
  }
}
