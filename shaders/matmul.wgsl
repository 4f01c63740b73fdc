// Batched C[b] = op(A[b]) · op(B[b]) (+ bias[n]), register-blocked: each lane computes TM×TN
// outputs, rows i*WGY + ly and columns j*WGX + lx of its workgroup's (WGY*TM)×(WGX*TN) tile, so
// neighbouring lanes read neighbouring columns of B and write neighbouring columns of C.
// Specialisation: TA, TB (operands stored transposed: A as [K,M], B as [N,K]), BIAS, TM, TN, WGX, WGY.
// pu(0)=M pu(1)=N pu(2)=K pu(3)=batch stride of A pu(4)=of B pu(5)=of C (0 = broadcast).
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> BIASV: array<f32>;

@compute @workgroup_size(WGX, WGY, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u);
  let N = pu(1u);
  let K = pu(2u);
  let aBase = wid.z * pu(3u);
  let bBase = wid.z * pu(4u);
  let cBase = wid.z * pu(5u);
  let m0 = wid.y * (WGY * TM) + lid.y;
  let n0 = wid.x * (WGX * TN) + lid.x;
  // Out-of-range rows/columns read a valid clamped address; their results are never stored.
  var aRow: array<u32, TM>;
  var bCol: array<u32, TN>;
  for (var i = 0u; i < TM; i++) {
    let m = min(m0 + i * WGY, M - 1u);
    aRow[i] = select(aBase + m * K, aBase + m, TA);
  }
  for (var j = 0u; j < TN; j++) {
    let n = min(n0 + j * WGX, N - 1u);
    bCol[j] = select(bBase + n, bBase + n * K, TB);
  }
  let aStep = select(1u, M, TA);
  let bStep = select(N, 1u, TB);
  var acc: array<array<f32, TN>, TM>;
  var a: array<f32, TM>;
  var b: array<f32, TN>;
  for (var k = 0u; k < K; k++) {
    for (var i = 0u; i < TM; i++) { a[i] = A[aRow[i] + k * aStep]; }
    for (var j = 0u; j < TN; j++) { b[j] = B[bCol[j] + k * bStep]; }
    for (var i = 0u; i < TM; i++) {
      for (var j = 0u; j < TN; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i * WGY;
    if (m >= M) { break; }
    for (var j = 0u; j < TN; j++) {
      let n = n0 + j * WGX;
      if (n < N) {
        var v = acc[i][j];
        if (BIAS) { v += BIASV[n]; }
        C[cBase + m * N + n] = v;
      }
    }
  }
}
