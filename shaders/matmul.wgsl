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
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  sg_init();
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
// dot_rows4 reads A and B four floats at a time (so does shaders/software/matmul4.wgsl)
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;
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
