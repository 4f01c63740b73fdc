// Batched C[b] = op(A[b]) · op(B[b]) (+ bias), register-blocked: each lane computes TM rows × TN
// columns of C. Columns j*WGX + lx of the workgroup's tile are the lane's (neighbouring lanes,
// neighbouring columns); rows are i*WGY + ly.
// With SG (subgroups of ≥ 8 lanes, WGY = 1) every lane of a workgroup has the same TM rows, so
// the row operand is loaded once per group of 8 lanes — lane l of the group loads rows l, l+8, …
// — and handed to the others with share8 (a subgroup shuffle). Each lane then loads TN + TM/8
// values per k instead of TN + TM: on CPU adapters, where every per-lane load is a gather, that
// is most of the cost (bench/NOTES.md).
// Specialisation: TA, TB (operands stored transposed: A as [K,M], B as [N,K]), BIAS, TM, TN, WGX,
// WGY, SG, TC (C stored transposed: the caller swapped the operands to put a long side on lanes),
// EPI (an activation after the bias, act_value's code; 0 none), ADDC (binding 4 holds a tensor of
// C's shape added to the result: a gradient accumulated so far; no bias then), KB (with TB: read
// KB consecutive k of each of the lane's rows of B at once, 0 = one at a time; src/gpu/planner.ts).
// Parameters (src/gpu/layouts.ts): M, N, K; strideA, strideB, strideC the batch strides (0 =
// broadcast); LD the row stride of an operand stored along K (the whole K); chunkK the split-K chunk
// length or 0: with split-K each batch index z is a chunk of K (z·chunkK onwards; the last may be shorter).
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> BIASV: array<f32>;

// rows each lane loads per k: all TM of its own, or with SG its share of them
const RL = select(TM, (TM + 7u) / 8u, SG);
// KB's array length (at least 1: WGSL has no empty arrays)
const KBA = max(KB, 1u);

// the inner sum's length for batch index z: K, or with split-K (chunkK > 0) chunk z's part of LD
fn inner_len(z: u32) -> u32 {
  return select(p_K(), min(p_K(), p_LD() - z * p_chunkK()), p_chunkK() > 0u);
}

@compute @workgroup_size(WGX, WGY, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32> /*SG_LANE*/) {
  /*SG_INIT*/
  let M = p_M();
  let N = p_N();
  let LD = p_LD();
  let K = inner_len(wid.z);
  let aBase = wid.z * p_strideA();
  let bBase = wid.z * p_strideB();
  let cBase = wid.z * p_strideC();
  let m0 = wid.y * (WGY * TM) + lid.y;
  let n0 = wid.x * (WGX * TN) + lid.x;
  // Out-of-range rows/columns read a valid clamped address; their results are never stored.
  var aRow: array<u32, RL>;
  var bCol: array<u32, TN>;
  for (var h = 0u; h < RL; h++) {
    let m = min(select(m0 + h * WGY, m0 + lane8() + 8u * h, SG), M - 1u);
    aRow[h] = select(aBase + m * LD, aBase + m, TA);
  }
  for (var j = 0u; j < TN; j++) {
    let n = min(n0 + j * WGX, N - 1u);
    bCol[j] = select(bBase + n, bBase + n * LD, TB);
  }
  let aStep = select(1u, M, TA);
  let bStep = select(N, 1u, TB);
  var acc: array<array<f32, TN>, TM>;
  var al: array<f32, RL>;
  var b: array<f32, TN>;
  if (KB > 0u) {
    // B stored along K (TB): each lane's columns are rows of B, K apart; read KB consecutive k of
    // each at once, so every cache line is used up before the next
    var bb: array<array<f32, KBA>, TN>;
    for (var k0 = 0u; k0 < K; k0 += KB) {
      for (var j = 0u; j < TN; j++) {
        for (var kk = 0u; kk < KB; kk++) {
          let k = k0 + kk;
          bb[j][kk] = select(0.0, B[bCol[j] + min(k, K - 1u) * bStep], k < K);
        }
      }
      for (var kk = 0u; kk < KB; kk++) {
        let k = k0 + kk;
        for (var h = 0u; h < RL; h++) { al[h] = select(0.0, A[aRow[h] + min(k, K - 1u) * aStep], k < K); }
        for (var i = 0u; i < TM; i++) {
          var a: f32;
          if (SG) { a = share8(al[i / 8u], i % 8u); } else { a = al[i]; }
          for (var j = 0u; j < TN; j++) { acc[i][j] = fma(a, bb[j][kk], acc[i][j]); }
        }
      }
    }
  } else {
    for (var k = 0u; k < K; k++) {
      for (var h = 0u; h < RL; h++) { al[h] = A[aRow[h] + k * aStep]; }
      for (var j = 0u; j < TN; j++) { b[j] = B[bCol[j] + k * bStep]; }
      for (var i = 0u; i < TM; i++) {
        var a: f32;
        if (SG) { a = share8(al[i / 8u], i % 8u); } else { a = al[i]; }
        for (var j = 0u; j < TN; j++) { acc[i][j] = fma(a, b[j], acc[i][j]); }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i * WGY;
    if (m >= M) { break; }
    for (var j = 0u; j < TN; j++) {
      let n = n0 + j * WGX;
      if (n < N) {
        var v = acc[i][j];
        let ci = cBase + select(m * N + n, n * M + m, TC);
        if (BIAS) { v += BIASV[select(n, m, TC)]; }
        if (ADDC) { v += BIASV[ci]; } // a gradient accumulated so far, in the bias binding (no bias then)
        v = act_value(v, EPI, p_slope());
        C[ci] = v;
      }
    }
  }
}

// Four columns a lane, both operands read four floats at a time (main4; the planner's vec4Gemm,
// software adapters). On llvmpipe a storage load that differs across lanes is a loop over the lanes,
// and a vec4 load pays that loop once for four floats; loops marked `// unroll` are written out when
// the pipeline is built (src/gpu/pipelines.ts), so the accumulators stay in registers and each is
// blended with the loop mask once per 4 k rather than once per k (bench/NOTES.md). Each lane
// computes TM rows × 4 consecutive columns; the TM rows are the workgroup's (WGY = 1). The row
// operand is read by the 8 lanes of each group and handed round with share8: stored along K (not TA)
// lane l reads rows l, l+8, … 4 k at a time; with TA it reads rows 4l … 4l+3 of each 32 at every k.
// The column operand: stored along N (not TB) a lane reads its 4 columns at each k; with TB it reads
// 4 k of each of its 4 columns. Same sums in the same order as `main`. The planner only chooses it
// when every vec4 it reads is whole and aligned: rows stored along K with LD and the split-K chunk
// multiples of 4, rows stored along M or N with M or N one; K's tail past a multiple of 4 (only for
// operands stored along M or N) reads as 0. TM is a multiple of 8 (of 32 with TA); TN is 4.
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;

// vec4 loads of the row operand per k step of 4: TM/8 along K, or TM/32 at each of the 4 k with TA;
// the arrays are sized for both branches, since the one not taken is still checked once unrolled
const RV = select(TM / 8u, TM / 32u, TA);
const RVA = max(TM / 8u, 1u);

@compute @workgroup_size(WGX, 1, 1)
fn main4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32> /*SG_LANE*/) {
  /*SG_INIT*/
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

// Split-K's last step, one lane per output: C[o] = act(Σ_c A[c·M·N + o] + bias[o mod N]) over the
// p_K() chunk results in order (the same sums as reduce.sum_thread, then the bias and the
// activation as the elementwise kernels would apply them), written to SCO.
@group(0) @binding(2) var<storage, read_write> SCO: array<f32>;
@group(0) @binding(3) var<storage, read> SCB: array<f32>;

@compute @workgroup_size(256)
fn sum_chunks(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let MN = p_M() * p_N();
  let o = linear_id(gid, nwg, 256u);
  if (o >= MN) { return; }
  var acc = 0.0;
  for (var c = 0u; c < p_K(); c++) { acc += A[c * MN + o]; }
  if (BIAS) { acc += SCB[o % p_N()]; }
  if (ADDC) { acc += SCB[o]; }
  SCO[o] = act_value(acc, EPI, p_slope());
}

// One column, batch 1 (the D head's [B, 6272]·[6272, 1]): C[m] = act(A[m, :]·b + bias (+ C's
// addend)), one workgroup per row. The row's products are shared out over DOT_WG lanes (dot_rows4:
// four floats a load, K a multiple of 4) and added up in workgroup memory. One dispatch where
// split-K took two (its chunks, then sum_chunks). b is B read as K consecutive floats: [K, 1] and
// [1, K] are the same memory.
const DOT_WG = 64u;

// the row's lane sums added up, then the bias, the addend and the activation
fn dot_finish(lid: u32, m: u32, valid: bool, acc: f32) {
  let total = workgroup_sum(acc, lid, DOT_WG, 0u);
  if (lid == 0u && valid) {
    var v = total;
    if (BIAS) { v += BIASV[0]; }
    if (ADDC) { v += BIASV[m]; }
    C[m] = act_value(v, EPI, p_slope());
  }
}

@compute @workgroup_size(DOT_WG)
fn dot_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m = wid.x + wid.y * nwg.x;
  let valid = m < p_M();
  let K = p_K();
  var acc = 0.0;
  if (valid) {
    let base = m * K;
    for (var k = lid; k < K; k += DOT_WG) { acc = fma(A[base + k], B[k], acc); }
  }
  dot_finish(lid, m, valid, acc);
}

@compute @workgroup_size(DOT_WG)
fn dot_rows4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m = wid.x + wid.y * nwg.x;
  let valid = m < p_M();
  let K4 = p_K() / 4u;
  var a4 = vec4<f32>(0.0);
  if (valid) {
    let base = m * K4;
    for (var k = lid; k < K4; k += DOT_WG) { a4 = fma(A4[base + k], B4[k], a4); }
  }
  dot_finish(lid, m, valid, (a4.x + a4.y) + (a4.z + a4.w));
}
