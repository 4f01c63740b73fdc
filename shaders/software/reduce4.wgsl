// reduce.wgsl's sum_wg four terms a load, for software adapters (the variant reduce.sum_wg4,
// src/gpu/variants/software.ts). Compiled after reduce.wgsl's declarations and helpers (Y, ADDV,
// split_first, kept_offset): layouts.ts gives this file reduce as its base.
// sum_wg four terms a load (src/ops/reduce.ts): two reduced dims, the
// inner one contiguous and a multiple of 4 long, the outer stride and the output's offset
// multiples of 4, no split (a conv bias's gradient over [N, H·W] with H·W a multiple of 4). Each
// lane's sums run over the vec4s' components apart, added at the end: the result differs from
// sum_wg's in the last bits. On llvmpipe a vec4 load costs about 2.2 scalar ones (bench/NOTES.md).
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> SA4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> GO4: array<vec4<f32>>;

fn term4(i: u32) -> vec4<f32> {
  if (ACT == 0u) { return X4[i]; }
  let v = act_grad_value4(X4[i], SA4[i], ACT, p_slope());
  GO4[i] = v;
  return v;
}

@compute @workgroup_size(WG)
fn sum_wg4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * nwg.x;
  let valid = o < p_nOut();
  var acc = vec4<f32>(0.0);
  if (valid) {
    let base = kept_offset(o) / 4u;
    let inner = p_redSizes(1u) / 4u;
    let st0 = p_redStrides(0u) / 4u;
    let R = p_R() / 4u;
    let d = split_first(WG, inner);
    var qk = split_first(lid, inner);
    for (var r = lid; r < R; r += WG) {
      acc += term4(base + qk.x * st0 + qk.y);
      qk = split_next(qk, d, inner);
    }
  }
  let total = workgroup_sum((acc.x + acc.y) + (acc.z + acc.w), lid, WG, 0u);
  if (lid == 0u && valid) {
    let v = total * p_scale();
    if (ADDC) { Y[o] = v + ADDV[o]; } else { Y[o] = v; }
  }
}
