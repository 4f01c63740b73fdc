// Prepended to every kernel. Binding 0 of every kernel is its parameter block: 48 u32 followed by
// 16 f32 (256 bytes, one slot of the per-submit parameter arena). Kernels read it by name through
// the accessors generated from src/gpu/layouts.ts (p_n(), p_dims(d), P_dims), not through pu/pf.
@group(0) @binding(0) var<uniform> PARAMS_: array<vec4<u32>, 16>;
fn pu(i: u32) -> u32 { return PARAMS_[i >> 2u][i & 3u]; }
fn pf(i: u32) -> f32 { let j = 48u + i; return bitcast<f32>(PARAMS_[j >> 2u][j & 3u]); }
// Linear invocation index of a 1-D kernel whose workgroups are folded into x and y.
fn linear_id(gid: vec3<u32>, nwg: vec3<u32>, wg: u32) -> u32 { return gid.x + gid.y * nwg.x * wg; }
// The sum of v over a workgroup of n lanes (n its size, a power of two ≤ 256; lid its
// local_invocation_index), a tree in workgroup memory: every lane calls it, every lane gets the
// total. `slot` (0 or 1) is the half of the array the tree uses: a kernel that sums twice gives its
// second sum the other slot, because no barrier follows the read of the total (a lane may still be
// reading it while a faster one starts the next sum). A barrier there would not do on every
// driver: Debian 12's Mesa 22 OpenGL ES compiler moved that read past the barrier, and its lanes
// read the next sum's partials (bench/NOTES.md, "Batchnorm on Mesa 22's OpenGL ES"). Only kernels
// that call it get the array.
var<workgroup> wg_sum_: array<f32, 512>;
fn workgroup_sum(v: f32, lid: u32, n: u32, slot: u32) -> f32 {
  let b = slot * 256u;
  wg_sum_[b + lid] = v;
  workgroupBarrier();
  for (var s = n / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { wg_sum_[b + lid] += wg_sum_[b + lid + s]; }
    workgroupBarrier();
  }
  return wg_sum_[b];
}
// Counter-based random stream (see src/cpu/creation.ts): element i of stream (k0, k1) is
// pcg(pcg(pcg(k0) ^ k1) ^ i); stream_unit maps its top 24 bits to [0, 1).
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn stream_unit(k0: u32, k1: u32, i: u32) -> f32 { return f32(pcg(pcg(pcg(k0) ^ k1) ^ i) >> 8u) * (1.0 / 16777216.0); }
// Offset of element i of a strided view: the view's dims are pu(sizes + d) and its strides
// pu(strides + d), d < nd, innermost last (shape kernels, broadcasting, reductions).
fn strided_offset(i: u32, nd: u32, sizes: u32, strides: u32) -> u32 {
  var rem = i;
  var off = 0u;
  for (var d = 0u; d < nd; d++) {
    let k = nd - 1u - d;
    let size = pu(sizes + k);
    off += (rem % size) * pu(strides + k);
    rem = rem / size;
  }
  return off;
}
// Of four consecutive floats a, b, c, d, the one `sh` (0–3) places on: how the row-window kernels
// (conv_rows.wgsl, conv_transpose.wgsl `main_few`) pick a window's floats out of aligned vec4s.
fn shifted4(a: f32, b: f32, c: f32, d: f32, sh: u32) -> f32 {
  return select(select(a, b, sh == 1u), select(c, d, sh == 3u), sh >= 2u);
}

// An activation by code (0 none, 1 relu, 2 leakyRelu with `slope`, 3 tanh, 4 sigmoid, 5 gelu, 6 gelu
// with the tanh approximation, 7 silu): the activation kernels and the fused epilogues of matmul,
// convolution and batchnorm (EPI, ACT) share it, so a fused layer computes exactly what the
// separate activation would.
fn act_value(x: f32, code: u32, slope: f32) -> f32 {
  switch code {
    case 1u: { return max(x, 0.0); }
    case 2u: { return select(x * slope, x, x > 0.0); }
    case 3u: { return tanh(x); }
    case 4u: { return sigmoid_(x); }
    case 5u: { return 0.5 * x * (1.0 + erf_(x * 0.70710678118654752)); }
    case 6u: { return 0.5 * x * (1.0 + tanh(0.79788456080286536 * (x + 0.044715 * x * x * x))); }
    case 7u: { return x * sigmoid_(x); }
    default: { return x; }
  }
}

// stable for large |x|: never exp of a large positive number
fn sigmoid_(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

// erf(x) to within 1.2e-7 (Numerical Recipes' erfc through a Chebyshev fit, odd in x)
fn erf_(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r - 1.0, 1.0 - r, x >= 0.0);
}

// g · act'(…) from `s`: the forward input (relu family, gelu, silu) or output (tanh, sigmoid), as
// act_grad in activation.wgsl; the reduce kernels call it too (an activation's gradient with its
// bias's sum).
fn act_grad_value(g: f32, s: f32, code: u32, slope: f32) -> f32 {
  switch code {
    case 1u: { return select(0.0, g, s > 0.0); }
    case 2u: { return select(g * slope, g, s > 0.0); }
    case 3u: { return g * (1.0 - s * s); }
    case 4u: { return g * s * (1.0 - s); }
    // Φ(x) + x·φ(x)
    case 5u: { return g * (0.5 * (1.0 + erf_(s * 0.70710678118654752)) + s * 0.39894228040143268 * exp(-0.5 * s * s)); }
    case 6u: {
      let u = 0.79788456080286536 * (s + 0.044715 * s * s * s);
      let th = tanh(u);
      return g * (0.5 * (1.0 + th) + 0.5 * s * (1.0 - th * th) * 0.79788456080286536 * (1.0 + 0.134145 * s * s));
    }
    case 7u: {
      let sg = sigmoid_(s);
      return g * sg * (1.0 + s * (1.0 - sg));
    }
    default: { return g; }
  }
}

// act_value and act_grad_value on four values (the kernels that read four floats a load)
fn act_value4(x: vec4<f32>, code: u32, slope: f32) -> vec4<f32> {
  return vec4<f32>(act_value(x.x, code, slope), act_value(x.y, code, slope), act_value(x.z, code, slope), act_value(x.w, code, slope));
}
fn act_grad_value4(g: vec4<f32>, s: vec4<f32>, code: u32, slope: f32) -> vec4<f32> {
  return vec4<f32>(act_grad_value(g.x, s.x, code, slope), act_grad_value(g.y, s.y, code, slope), act_grad_value(g.z, s.z, code, slope), act_grad_value(g.w, s.w, code, slope));
}
