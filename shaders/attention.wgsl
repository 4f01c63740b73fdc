// Scaled dot-product attention, O = softmax(scale · Q·Kᵀ (+ a causal mask)) · V, over BH independent
// [T, D] heads, without the [TQ, TK] score matrix: FlashAttention's recurrences, a lane a row.
// forward: a lane a query row i keeps its running max m, the sum l of exp(s − m) and the output
// row, rescaled when the max grows, over the keys j (j ≤ i with CAUSAL); writes O and the row's
// logsumexp m + log l for backward.
// delta: a lane a row, Δ_i = dO_i · O_i.
// backward_q: a lane a query row, dQ_i = scale · Σ_j P_ij (dO_i·V_j − Δ_i) K_j, P_ij = exp(s_ij − L_i).
// backward_kv: a lane a key row, dV_j = Σ_i P_ij dO_i, dK_j = scale · Σ_i P_ij (dO_i·V_j − Δ_i) Q_i.
// Each pass recomputes the scores it needs. Constants: D (Q's and K's head size), DV (V's), CAUSAL.
// Parameters (src/gpu/layouts.ts): BH, TQ, TK; scale.
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<storage, read_write> LSE: array<f32>;

// the last key a query row sees: every key, or with CAUSAL those up to its own position
fn key_end(i: u32) -> u32 {
  if (CAUSAL) { return min(i + 1u, p_TK()); }
  return p_TK();
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = linear_id(gid, nwg, 64u);
  let TQ = p_TQ(); let TK = p_TK();
  if (row >= p_BH() * TQ) { return; }
  let h = row / TQ;
  let i = row - h * TQ;
  let sc = p_scale();
  var q: array<f32, D>;
  for (var d = 0u; d < D; d++) { q[d] = Q[row * D + d] * sc; }
  var acc: array<f32, DV>;
  var m = bitcast<f32>(0xff800000u | (TK & 0u)); // −∞ (a constant −∞ is not valid WGSL)
  var l = 0.0;
  let kb = h * TK;
  for (var j = 0u; j < key_end(i); j++) {
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s = fma(q[d], K[(kb + j) * D + d], s); }
    if (s > m) {
      // the new max: what was summed so far shrinks by exp(m − s)
      let f = exp(m - s);
      l = l * f + 1.0;
      for (var d = 0u; d < DV; d++) { acc[d] = acc[d] * f + V[(kb + j) * DV + d]; }
      m = s;
    } else {
      let e = exp(s - m);
      l += e;
      for (var d = 0u; d < DV; d++) { acc[d] = fma(e, V[(kb + j) * DV + d], acc[d]); }
    }
  }
  for (var d = 0u; d < DV; d++) { O[row * DV + d] = acc[d] / l; }
  LSE[row] = m + log(l);
}

@group(0) @binding(1) var<storage, read> DO: array<f32>;
@group(0) @binding(2) var<storage, read> OB: array<f32>;
@group(0) @binding(3) var<storage, read_write> DELTA: array<f32>;

@compute @workgroup_size(64)
fn delta(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = linear_id(gid, nwg, 64u);
  if (row >= p_BH() * p_TQ()) { return; }
  var s = 0.0;
  for (var d = 0u; d < DV; d++) { s = fma(DO[row * DV + d], OB[row * DV + d], s); }
  DELTA[row] = s;
}

@group(0) @binding(1) var<storage, read> QB: array<f32>;
@group(0) @binding(2) var<storage, read> KB: array<f32>;
@group(0) @binding(3) var<storage, read> VB: array<f32>;
@group(0) @binding(4) var<storage, read> DOB: array<f32>;
@group(0) @binding(5) var<storage, read> LSEB: array<f32>;
@group(0) @binding(6) var<storage, read> DELTAB: array<f32>;
@group(0) @binding(7) var<storage, read_write> DOUT: array<f32>;
@group(0) @binding(8) var<storage, read_write> DOUT2: array<f32>;

@compute @workgroup_size(64)
fn backward_q(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = linear_id(gid, nwg, 64u);
  let TQ = p_TQ(); let TK = p_TK();
  if (row >= p_BH() * TQ) { return; }
  let h = row / TQ;
  let i = row - h * TQ;
  let sc = p_scale();
  var q: array<f32, D>;
  for (var d = 0u; d < D; d++) { q[d] = QB[row * D + d] * sc; }
  var go: array<f32, DV>;
  for (var d = 0u; d < DV; d++) { go[d] = DOB[row * DV + d]; }
  let L = LSEB[row];
  let dl = DELTAB[row];
  var dq: array<f32, D>;
  let kb = h * TK;
  for (var j = 0u; j < key_end(i); j++) {
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s = fma(q[d], KB[(kb + j) * D + d], s); }
    var dp = 0.0;
    for (var d = 0u; d < DV; d++) { dp = fma(go[d], VB[(kb + j) * DV + d], dp); }
    let ds = exp(s - L) * (dp - dl);
    for (var d = 0u; d < D; d++) { dq[d] = fma(ds, KB[(kb + j) * D + d], dq[d]); }
  }
  for (var d = 0u; d < D; d++) { DOUT[row * D + d] = dq[d] * sc; }
}

@compute @workgroup_size(64)
fn backward_kv(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let col = linear_id(gid, nwg, 64u);
  let TQ = p_TQ(); let TK = p_TK();
  if (col >= p_BH() * TK) { return; }
  let h = col / TK;
  let j = col - h * TK;
  let sc = p_scale();
  var k: array<f32, D>;
  for (var d = 0u; d < D; d++) { k[d] = KB[col * D + d]; }
  var v: array<f32, DV>;
  for (var d = 0u; d < DV; d++) { v[d] = VB[col * DV + d]; }
  var dk: array<f32, D>;
  var dv: array<f32, DV>;
  let qb = h * TQ;
  // with CAUSAL only the query rows at j or after see key j
  var i0 = 0u;
  if (CAUSAL) { i0 = j; }
  for (var i = i0; i < TQ; i++) {
    let r = qb + i;
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s = fma(QB[r * D + d] * sc, k[d], s); }
    let p = exp(s - LSEB[r]);
    var dp = 0.0;
    for (var d = 0u; d < DV; d++) {
      let g = DOB[r * DV + d];
      dp = fma(g, v[d], dp);
      dv[d] = fma(p, g, dv[d]);
    }
    let ds = p * (dp - DELTAB[r]) * sc;
    for (var d = 0u; d < D; d++) { dk[d] = fma(ds, QB[r * D + d], dk[d]); }
  }
  for (var d = 0u; d < D; d++) { DOUT[col * D + d] = dk[d]; }
  for (var d = 0u; d < DV; d++) { DOUT2[col * DV + d] = dv[d]; }
}
