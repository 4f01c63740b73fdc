// Scaled dot-product attention, O = softmax(scale · Q·Kᵀ (+ a causal mask)) · V, over BH independent
// [T, D] heads, without the [TQ, TK] score matrix: FlashAttention's recurrences, a lane a row.
// forward: a lane a query row i keeps its running max m, the sum l of exp(s − m) and the output
// row, rescaled when the max grows, over the keys j (j ≤ i with CAUSAL); writes O and the row's
// logsumexp m + log l for backward.
// delta: a lane a row, Δ_i = dO_i · O_i.
// backward_q: a lane a query row, dQ_i = scale · Σ_j P_ij (dO_i·V_j − Δ_i) K_j, P_ij = exp(s_ij − L_i).
// backward_kv: a lane a key row, dV_j = Σ_i P_ij dO_i, dK_j = scale · Σ_i P_ij (dO_i·V_j − Δ_i) Q_i.
// Each pass recomputes the scores it needs. Constants: D (Q's and K's head size), DV (V's), CAUSAL.
// Rows are found through strides, so the heads can be read where a layer left them: row t of head
// h of batch b of Q starts at qOff + b·qB + h·qH + t·qT (a head's D values contiguous), and likewise
// K, V and O (dO is laid out as O, dQ as Q, dK as K, dV as V): [B·H, T, D] tensors, or the one
// [B, T, 3E] tensor of a self-attention's packed projections (src/ops/attention.ts).
// Parameters (src/gpu/layouts.ts): BH, H, TQ, TK, the strides and offsets; scale.
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<storage, read_write> LSE: array<f32>;

// where row t of head bh (= b·H + h) starts in Q, K, V (or dQ, dK, dV) and O (or dO)
fn q_at(bh: u32, t: u32) -> u32 { let b = bh / p_H(); return p_qOff() + b * p_qB() + (bh - b * p_H()) * p_qH() + t * p_qT(); }
fn k_at(bh: u32, t: u32) -> u32 { let b = bh / p_H(); return p_kOff() + b * p_kB() + (bh - b * p_H()) * p_kH() + t * p_kT(); }
fn v_at(bh: u32, t: u32) -> u32 { let b = bh / p_H(); return p_vOff() + b * p_vB() + (bh - b * p_H()) * p_vH() + t * p_vT(); }
fn o_at(bh: u32, t: u32) -> u32 { let b = bh / p_H(); return p_oOff() + b * p_oB() + (bh - b * p_H()) * p_oH() + t * p_oT(); }

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
  let qa = q_at(h, i);
  for (var d = 0u; d < D; d++) { q[d] = Q[qa + d] * sc; }
  var acc: array<f32, DV>;
  var m = bitcast<f32>(0xff800000u | (TK & 0u)); // −∞ (a constant −∞ is not valid WGSL)
  var l = 0.0;
  for (var j = 0u; j < key_end(i); j++) {
    let ka = k_at(h, j);
    let va = v_at(h, j);
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s = fma(q[d], K[ka + d], s); }
    if (s > m) {
      // the new max: what was summed so far shrinks by exp(m − s)
      let f = exp(m - s);
      l = l * f + 1.0;
      for (var d = 0u; d < DV; d++) { acc[d] = acc[d] * f + V[va + d]; }
      m = s;
    } else {
      let e = exp(s - m);
      l += e;
      for (var d = 0u; d < DV; d++) { acc[d] = fma(e, V[va + d], acc[d]); }
    }
  }
  let oa = o_at(h, i);
  for (var d = 0u; d < DV; d++) { O[oa + d] = acc[d] / l; }
  LSE[row] = m + log(l);
}

@group(0) @binding(1) var<storage, read> DO: array<f32>;
@group(0) @binding(2) var<storage, read> OB: array<f32>;
@group(0) @binding(3) var<storage, read_write> DELTA: array<f32>;

@compute @workgroup_size(64)
fn delta(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = linear_id(gid, nwg, 64u);
  let TQ = p_TQ();
  if (row >= p_BH() * TQ) { return; }
  let h = row / TQ;
  let oa = o_at(h, row - h * TQ);
  var s = 0.0;
  for (var d = 0u; d < DV; d++) { s = fma(DO[oa + d], OB[oa + d], s); }
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
  let qa = q_at(h, i);
  for (var d = 0u; d < D; d++) { q[d] = QB[qa + d] * sc; }
  var go: array<f32, DV>;
  let oa = o_at(h, i);
  for (var d = 0u; d < DV; d++) { go[d] = DOB[oa + d]; }
  let L = LSEB[row];
  let dl = DELTAB[row];
  var dq: array<f32, D>;
  for (var j = 0u; j < key_end(i); j++) {
    let ka = k_at(h, j);
    let va = v_at(h, j);
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s = fma(q[d], KB[ka + d], s); }
    var dp = 0.0;
    for (var d = 0u; d < DV; d++) { dp = fma(go[d], VB[va + d], dp); }
    let ds = exp(s - L) * (dp - dl);
    for (var d = 0u; d < D; d++) { dq[d] = fma(ds, KB[ka + d], dq[d]); }
  }
  for (var d = 0u; d < D; d++) { DOUT[qa + d] = dq[d] * sc; }
}

// dK and dV of key row `col` (= head · TK + j), the sums backward_kv and backward_kv_packed share
fn kv_grads(col: u32, dk: ptr<function, array<f32, D>>, dv: ptr<function, array<f32, DV>>) {
  let TQ = p_TQ(); let TK = p_TK();
  let h = col / TK;
  let j = col - h * TK;
  let sc = p_scale();
  var k: array<f32, D>;
  let ka = k_at(h, j);
  for (var d = 0u; d < D; d++) { k[d] = KB[ka + d]; }
  var v: array<f32, DV>;
  let va = v_at(h, j);
  for (var d = 0u; d < DV; d++) { v[d] = VB[va + d]; }
  // with CAUSAL only the query rows at j or after see key j
  var i0 = 0u;
  if (CAUSAL) { i0 = j; }
  for (var i = i0; i < TQ; i++) {
    let r = h * TQ + i;
    let qa = q_at(h, i);
    let oa = o_at(h, i);
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s = fma(QB[qa + d] * sc, k[d], s); }
    let p = exp(s - LSEB[r]);
    var dp = 0.0;
    for (var d = 0u; d < DV; d++) {
      let g = DOB[oa + d];
      dp = fma(g, v[d], dp);
      (*dv)[d] = fma(p, g, (*dv)[d]);
    }
    let ds = p * (dp - DELTAB[r]) * sc;
    for (var d = 0u; d < D; d++) { (*dk)[d] = fma(ds, QB[qa + d], (*dk)[d]); }
  }
}

@compute @workgroup_size(64)
fn backward_kv(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let col = linear_id(gid, nwg, 64u);
  let TK = p_TK();
  if (col >= p_BH() * TK) { return; }
  var dk: array<f32, D>;
  var dv: array<f32, DV>;
  kv_grads(col, &dk, &dv);
  let h = col / TK;
  let ka = k_at(h, col - h * TK);
  let va = v_at(h, col - h * TK);
  for (var d = 0u; d < D; d++) { DOUT[ka + d] = dk[d]; }
  for (var d = 0u; d < DV; d++) { DOUT2[va + d] = dv[d]; }
}

// the same into one gradient (a packed self-attention's, dK and dV both rows of it)
@compute @workgroup_size(64)
fn backward_kv_packed(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let col = linear_id(gid, nwg, 64u);
  let TK = p_TK();
  if (col >= p_BH() * TK) { return; }
  var dk: array<f32, D>;
  var dv: array<f32, DV>;
  kv_grads(col, &dk, &dv);
  let h = col / TK;
  let ka = k_at(h, col - h * TK);
  let va = v_at(h, col - h * TK);
  for (var d = 0u; d < D; d++) { DOUT[ka + d] = dk[d]; }
  for (var d = 0u; d < DV; d++) { DOUT[va + d] = dv[d]; }
}
