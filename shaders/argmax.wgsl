// max, min, argmax and argmin along one dim of a tensor seen as [outer, D, inner] (as softmax.wgsl):
// a lane a row (o, i) finds the largest (MIN: smallest) of its D values and the first index that
// holds it; a NaN wins, as in torch.max. backward: dx at each input element is g where its index
// is its row's chosen one, 0 elsewhere.
// Parameters (src/gpu/layouts.ts): rows (= outer · inner), D, inner.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> IDX: array<f32>;

fn row_start(r: u32) -> u32 {
  let inner = p_inner();
  let o = r / inner;
  return o * p_D() * inner + (r - o * inner);
}

@compute @workgroup_size(64)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = linear_id(gid, nwg, 64u);
  if (r >= p_rows()) { return; }
  let st = p_inner();
  let base = row_start(r);
  var best = X[base];
  var at = 0u;
  for (var d = 1u; d < p_D(); d++) {
    let x = X[base + d * st];
    // a NaN replaces a number, not an earlier NaN
    if (select(x > best, x < best, MIN) || (x != x && best == best)) {
      best = x;
      at = d;
    }
  }
  Y[r] = best;
  IDX[r] = f32(at);
}

@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> IDXB: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  let D = p_D();
  let inner = p_inner();
  if (i >= p_rows() * D) { return; }
  // element i = (o, d, j): its row r = o·inner + j
  let oj = i / (D * inner);
  let rem = i - oj * D * inner;
  let d = rem / inner;
  let r = oj * inner + (rem - d * inner);
  DX[i] = select(0.0, G[r], IDXB[r] == f32(d));
}
