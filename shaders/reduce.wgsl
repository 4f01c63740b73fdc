// Sum over any set of dims, times pf(0) (1 for sum, 1/R for mean). The input is described as kept
// dims and reduced dims, each with its sizes and input strides (innermost last, up to 6 each).
// pu(0): outputs, pu(1): R (elements reduced per output), pu(2): kept ndim, pu(3): reduced ndim,
// pu(4+d): kept sizes, pu(10+d): kept strides, pu(16+d): reduced sizes, pu(22+d): reduced strides.
// sum_wg: one workgroup of WG lanes per output (large R); sum_thread: one lane per output (small R).
// pu(28): split length L for sum_wg (0 = none): workgroup z sums terms [z·L, (z+1)·L) of each
// output into Y[z·outputs + o], partial sums that a second pass adds up (few outputs, long sums).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn kept_offset(o: u32) -> u32 { return strided_offset(o, pu(2u), 4u, 10u); }
fn red_offset(r: u32) -> u32 { return strided_offset(r, pu(3u), 16u, 22u); }

@compute @workgroup_size(WG)
fn sum_wg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * nwg.x;
  let valid = o < pu(0u);
  let L = pu(28u);
  let r0 = wid.z * L;
  let R = select(pu(1u), min(pu(1u), r0 + L), L > 0u);
  var acc = 0.0;
  if (valid) {
    let base = kept_offset(o);
    if (pu(3u) == 1u) {
      let st = pu(22u);
      for (var r = r0 + lid; r < R; r += WG) { acc += X[base + r * st]; }
    } else {
      for (var r = r0 + lid; r < R; r += WG) { acc += X[base + red_offset(r)]; }
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u && valid) { Y[wid.z * pu(0u) + o] = partial[0] * pf(0u); }
}

@compute @workgroup_size(256)
fn sum_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = linear_id(gid, nwg, 256u);
  if (o >= pu(0u)) { return; }
  let base = kept_offset(o);
  let R = pu(1u);
  var acc = 0.0;
  if (pu(3u) == 1u) {
    let st = pu(22u);
    for (var r = 0u; r < R; r++) { acc += X[base + r * st]; }
  } else {
    for (var r = 0u; r < R; r++) { acc += X[base + red_offset(r)]; }
  }
  Y[o] = acc * pf(0u);
}
