// matmul.wgsl's main four columns a lane, for software adapters (the variant matmul.main4,
// src/gpu/variants/software.ts). Compiled after matmul.wgsl's declarations and helpers (its
// bindings, A4 and B4, inner_len): layouts.ts gives this file matmul as its base.
// Four columns a lane, both operands read four floats at a time (main4). On llvmpipe a storage load that differs across lanes is a loop over the lanes,
// and a vec4 load pays that loop once for four floats; loops marked `// unroll` are written out when
// the pipeline is built (src/gpu/pipelines.ts), so the accumulators stay in registers and each is
// blended with the loop mask once per 4 k rather than once per k (bench/NOTES.md). Each lane
// computes TM rows × 4 consecutive columns; the TM rows are the workgroup's (WGY = 1). The row
// operand is read by the 8 lanes of each group and handed round with share8: stored along K (not TA)
// lane l reads rows l, l+8, … 4 k at a time; with TA it reads rows 4l … 4l+3 of each 32 at every k.
// The column operand: stored along N (not TB) a lane reads its 4 columns at each k; with TB it reads
// 4 k of each of its 4 columns. Same sums in the same order as `main`. Its variant only plans it
// when every vec4 it reads is whole and aligned: rows stored along K with LD and the split-K chunk
// multiples of 4, rows stored along M or N with M or N one; K's tail past a multiple of 4 (only for
// operands stored along M or N) reads as 0. TM is a multiple of 8 (of 32 with TA); TN is 4.

// vec4 loads of the row operand per k step of 4: TM/8 along K, or TM/32 at each of the 4 k with TA;
// the arrays are sized for both branches, since the one not taken is still checked once unrolled
const RV = select(TM / 8u, TM / 32u, TA);
const RVA = max(TM / 8u, 1u);

@compute @workgroup_size(WGX, 1, 1)
fn main4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  sg_init();
  let M = p_M();
  let N = p_N();
  let LD = p_LD();
  let K = inner_len(wid.z);
  let aBase = wid.z * p_strideA();
  let bBase = wid.z * p_strideB();
  let m0 = wid.y * TM;
  let n0 = (wid.x * WGX + lid.x) * 4u;
  let l = lane8();
  // first float of each row vec4 at k = 0 (out-of-range rows and columns read clamped ones, never stored)
  var aOff: array<u32, RVA>;
  if (TA) {
    for (var h = 0u; h < TM / 32u; h++) { // unroll
      aOff[h] = aBase + min(m0 + 32u * h + 4u * l, M - 4u);
    }
  } else {
    for (var h = 0u; h < TM / 8u; h++) { // unroll
      aOff[h] = aBase + min(m0 + l + 8u * h, M - 1u) * LD;
    }
  }
  var bOff: array<u32, 4>;
  for (var q = 0u; q < 4u; q++) { // unroll
    if (TB) {
      bOff[q] = bBase + min(n0 + q, N - 1u) * LD;
    } else {
      bOff[q] = bBase + min(n0, N - 4u);
    }
  }
  var acc: array<vec4<f32>, TM>;
  var ra: array<vec4<f32>, RVA * 4u>;
  var rb: array<vec4<f32>, 4>;
  // in vec4 units: rows and columns that step along M or N move M / 4 or N / 4 a k
  let M4 = M / 4u;
  let N4 = N / 4u;
  var aAt: array<u32, RVA>;
  for (var h = 0u; h < TM / 8u; h++) { // unroll
    aAt[h] = aOff[h] / 4u;
  }
  var bAt: array<u32, 4>;
  for (var q = 0u; q < 4u; q++) { // unroll
    bAt[q] = bOff[q] / 4u;
  }
  for (var k = 0u; k < K; k += 4u) {
    if (TA) {
      for (var h = 0u; h < TM / 32u; h++) { // unroll
        for (var kk = 0u; kk < 4u; kk++) { // unroll
          ra[kk * RV + h] = select(vec4<f32>(0.0), A4[aAt[h] + min(k + kk, K - 1u) * M4], k + kk < K);
        }
      }
    } else {
      for (var h = 0u; h < TM / 8u; h++) { // unroll
        ra[h] = A4[aAt[h]];
        aAt[h] += 1u;
      }
    }
    for (var q = 0u; q < 4u; q++) { // unroll
      if (TB) {
        rb[q] = B4[bAt[q]];
        bAt[q] += 1u;
      } else if (TA) {
        // Aᵀ·B, the one layout where K need not be a multiple of 4: rows past K read as 0
        rb[q] = select(vec4<f32>(0.0), B4[bAt[0] + min(q, K - 1u - k) * N4], k + q < K);
      } else {
        rb[q] = B4[bAt[0] + q * N4];
      }
    }
    if (!TB) { bAt[0] += 4u * N4; }
    // the lane's 4 columns at k + kk
    var bk: array<vec4<f32>, 4>;
    for (var kk = 0u; kk < 4u; kk++) { // unroll
      if (TB) {
        bk[kk] = vec4<f32>(rb[0][kk], rb[1][kk], rb[2][kk], rb[3][kk]);
      } else {
        bk[kk] = rb[kk];
      }
    }
    // row by row, its 4 k in a row: one accumulator live at a time (the others spilled) on llvmpipe
    for (var i = 0u; i < TM; i++) { // unroll
      for (var kk = 0u; kk < 4u; kk++) { // unroll
        let a = select(share8(ra[i / 8u][kk], i % 8u), share8(ra[kk * RV + i / 32u][i % 4u], (i % 32u) / 4u), TA);
        acc[i] = fma(vec4<f32>(a), bk[kk], acc[i]);
      }
    }
  }
  // the store's indices worked out again rather than kept through the loop: on llvmpipe every
  // value is a vector register, and fewer of them live across the loop took 1024³ from ~42 to ~38 ms
  let Mo = p_M();
  let No = p_N();
  let mo = wid.y * TM;
  let no = (wid.x * WGX + lid.x) * 4u;
  let co = wid.z * p_strideC();
  for (var i = 0u; i < TM; i++) { // unroll
    let m = mo + i;
    if (m < Mo) {
      for (var q = 0u; q < 4u; q++) { // unroll
        let n = no + q;
        if (n < No) {
          var v = acc[i][q];
          let ci = co + select(m * No + n, n * Mo + m, TC);
          if (BIAS) { v += BIASV[select(n, m, TC)]; }
          if (ADDC) { v += BIASV[ci]; }
          C[ci] = act_value(v, EPI, p_slope());
        }
      }
    }
  }
}

