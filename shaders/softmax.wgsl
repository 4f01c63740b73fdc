// softmax and logSoftmax along one dim of a tensor seen as [outer, D, inner] (the dim D long,
// `inner` the size of the dims after it): a lane a row (o, i), its D values `inner` apart.
// forward: the row's max and its sum of exp(x − max) in one pass (the sum rescaled when the max
//   grows), then y = exp(x − max) / sum, or with LOG x − max − log(sum): no exp of a large number.
// backward: softmax dx = y·(g − Σ g·y); logSoftmax dx = g − exp(y)·Σ g.
// Parameters (src/gpu/layouts.ts): rows (= outer · inner), D, inner.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

// the offset of a row's first value and its values' stride
fn row_start(r: u32) -> u32 {
  let inner = p_inner();
  let o = r / inner;
  return o * p_D() * inner + (r - o * inner);
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = linear_id(gid, nwg, 64u);
  if (r >= p_rows()) { return; }
  let D = p_D();
  let st = p_inner();
  let base = row_start(r);
  var m = X[base];
  var s = 1.0;
  for (var d = 1u; d < D; d++) {
    let x = X[base + d * st];
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  let ls = log(s);
  for (var d = 0u; d < D; d++) {
    let at = base + d * st;
    if (LOG) { Y[at] = X[at] - m - ls; } else { Y[at] = exp(X[at] - m) / s; }
  }
}

@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> YB: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = linear_id(gid, nwg, 64u);
  if (r >= p_rows()) { return; }
  let D = p_D();
  let st = p_inner();
  let base = row_start(r);
  var t = 0.0;
  for (var d = 0u; d < D; d++) {
    let at = base + d * st;
    if (LOG) { t += G[at]; } else { t += G[at] * YB[at]; }
  }
  for (var d = 0u; d < D; d++) {
    let at = base + d * st;
    if (LOG) { DX[at] = G[at] - exp(YB[at]) * t; } else { DX[at] = YB[at] * (G[at] - t); }
  }
}
