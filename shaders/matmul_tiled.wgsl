// Batched C[b] = op(A[b]) · op(B[b]) (+ bias) through workgroup memory, for hardware GPUs: a
// 16×16-lane workgroup computes a 128×128 tile of C, each lane 8×8 values at rows ly + 16·i and
// columns lx + 16·j (so neighbouring lanes read neighbouring words of workgroup memory). Per step
// of BK along K, the workgroup stages a 128×BK slice of op(A) and a BK×128 slice of op(B), each
// lane loading 8 of each with neighbouring lanes on neighbouring addresses of the operand's
// contiguous dimension. On lavapipe this form is slower than the register-blocked matmul.wgsl
// (barriers and workgroup memory are emulated), so src/ops/matmul.ts picks it only on GPUs.
// Specialisation: TA, TB, BIAS, TC, EPI, ADDC as in matmul.wgsl. Parameters as in matmul.wgsl (no split-K).
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> BIASV: array<f32>;

const BM = 128u;
const BN = 128u;
const BK = 16u;
const LANES = 256u;
var<workgroup> As: array<f32, 2048>; // [BK][BM]
var<workgroup> Bs: array<f32, 2048>; // [BK][BN]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let M = p_M();
  let N = p_N();
  let K = p_K();
  let LD = p_LD();
  let aBase = wid.z * p_strideA();
  let bBase = wid.z * p_strideB();
  let cBase = wid.z * p_strideC();
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  var acc: array<array<f32, 8>, 8>;
  var a: array<f32, 8>;
  var b: array<f32, 8>;
  for (var k0 = 0u; k0 < K; k0 += BK) {
    for (var e = 0u; e < (BM * BK) / LANES; e++) {
      let idx = li + e * LANES;
      // A slice: (m, k); contiguous along k unless TA
      var m = idx / BK;
      var k = idx % BK;
      if (TA) { m = idx % BM; k = idx / BM; }
      let gm = m0 + m;
      let gk = k0 + k;
      var v = 0.0;
      if (gm < M && gk < K) { v = A[select(aBase + gm * LD + gk, aBase + gk * M + gm, TA)]; }
      As[k * BM + m] = v;
      // B slice: (k, n); contiguous along n unless TB
      var n = idx % BN;
      var kb = idx / BN;
      if (TB) { n = idx / BK; kb = idx % BK; }
      let gn = n0 + n;
      let gkb = k0 + kb;
      var w = 0.0;
      if (gn < N && gkb < K) { w = B[select(bBase + gkb * N + gn, bBase + gn * LD + gkb, TB)]; }
      Bs[kb * BN + n] = w;
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      for (var i = 0u; i < 8u; i++) { a[i] = As[k * BM + lid.y + 16u * i]; }
      for (var j = 0u; j < 8u; j++) { b[j] = Bs[k * BN + lid.x + 16u * j]; }
      for (var i = 0u; i < 8u; i++) {
        for (var j = 0u; j < 8u; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 8u; i++) {
    let m = m0 + lid.y + 16u * i;
    if (m >= M) { break; }
    for (var j = 0u; j < 8u; j++) {
      let n = n0 + lid.x + 16u * j;
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
