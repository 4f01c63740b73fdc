// Sum over any set of dims, times p_scale() (1 for sum, 1/R for mean). The input is described as
// kept dims and reduced dims, each with its sizes and input strides (innermost last, up to 6 each):
// nOut outputs of R terms each, keptNd / redNd dims (parameters in src/gpu/layouts.ts).
// sum_wg: one workgroup of WG lanes per output (large R); sum_thread: one lane per output (small R).
// chunkLen: split length L for sum_wg (0 = none): workgroup z sums terms [z·L, (z+1)·L) of each
// output into Y[z·outputs + o], partial sums that a second pass adds up (few outputs, long sums).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
// with ADDC, a tensor of the output's shape added to the result (a gradient accumulated so far)
@group(0) @binding(3) var<storage, read> ADDV: array<f32>;
// with ACT (act_grad_value's code; 0 none) X is an upstream gradient: each term is first taken
// through the activation's gradient from SA (act_grad in activation.wgsl) and stored in GO, so
// one kernel gives a fused activation's input gradient and its bias's gradient (their sum)
@group(0) @binding(4) var<storage, read> SA: array<f32>;
@group(0) @binding(5) var<storage, read_write> GO: array<f32>;

fn term(i: u32) -> f32 {
  if (ACT == 0u) { return X[i]; }
  let v = act_grad_value(X[i], SA[i], ACT, p_slope());
  GO[i] = v;
  return v;
}

// A flat index i = q·S + k kept as (q, k) while i steps by d = (step / S, step % S): one compare a
// step instead of a division (llvmpipe divides lane by lane). split_first(i, S) starts it.
fn split_first(i: u32, S: u32) -> vec2<u32> { return vec2<u32>(i / S, i % S); }
fn split_next(p: vec2<u32>, d: vec2<u32>, S: u32) -> vec2<u32> {
  let q = p + d;
  let wrap = q.y >= S;
  return vec2<u32>(select(q.x, q.x + 1u, wrap), select(q.y, q.y - S, wrap));
}

fn kept_offset(o: u32) -> u32 { return strided_offset(o, p_keptNd(), P_keptSizes, P_keptStrides); }
fn red_offset(r: u32) -> u32 { return strided_offset(r, p_redNd(), P_redSizes, P_redStrides); }

@compute @workgroup_size(WG)
fn sum_wg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * nwg.x;
  let valid = o < p_nOut();
  let L = p_chunkLen();
  let r0 = wid.z * L;
  let R = select(p_R(), min(p_R(), r0 + L), L > 0u);
  var acc = 0.0;
  if (valid) {
    let base = kept_offset(o);
    if (p_redNd() == 1u) {
      let st = p_redStrides(0u);
      for (var r = r0 + lid; r < R; r += WG) { acc += term(base + r * st); }
    } else if (p_redNd() == 2u) {
      // two reduced dims (a bias's [N, H·W]): the same terms in the same order, the index split
      // carried from term to term instead of a division per term (lavapipe has no vector division),
      // one compare a term (split_next; a loop of WG / inner subtractions before)
      let inner = p_redSizes(1u);
      let st0 = p_redStrides(0u);
      let st1 = p_redStrides(1u);
      let start = r0 + lid;
      let d = split_first(WG, inner);
      var qk = split_first(start, inner);
      for (var r = start; r < R; r += WG) {
        acc += term(base + qk.x * st0 + qk.y * st1);
        qk = split_next(qk, d, inner);
      }
    } else {
      for (var r = r0 + lid; r < R; r += WG) { acc += term(base + red_offset(r)); }
    }
  }
  let total = workgroup_sum(acc, lid, WG, 0u);
  if (lid == 0u && valid) {
    let v = total * p_scale();
    if (ADDC) { Y[wid.z * p_nOut() + o] = v + ADDV[o]; } else { Y[wid.z * p_nOut() + o] = v; }
  }
}

@compute @workgroup_size(256)
fn sum_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = linear_id(gid, nwg, 256u);
  if (o >= p_nOut()) { return; }
  let base = kept_offset(o);
  let R = p_R();
  var acc = 0.0;
  if (p_redNd() == 1u) {
    let st = p_redStrides(0u);
    for (var r = 0u; r < R; r++) { acc += term(base + r * st); }
  } else if (p_redNd() == 2u) {
    let inner = p_redSizes(1u);
    let st0 = p_redStrides(0u);
    let st1 = p_redStrides(1u);
    for (var q = 0u; q * inner < R; q++) {
      for (var k = 0u; k < inner; k++) { acc += term(base + q * st0 + k * st1); }
    }
  } else {
    for (var r = 0u; r < R; r++) { acc += term(base + red_offset(r)); }
  }
  let v = acc * p_scale();
  if (ADDC) { Y[o] = v + ADDV[o]; } else { Y[o] = v; }
}
