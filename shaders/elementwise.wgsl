// Elementwise kernels. Specialisation: OP (see the op codes in src/ops/elementwise.ts), BCAST.
// binary:        out[i] = a[ia] OP b[ib]; with BCAST the indices come from the output index and
//                per-operand strides (0 on broadcast dims), up to 6 dims; else ia = ib = i.
// binary_scalar: out[i] = a[i] OP s (or s OP a[i] when scalarFirst is 1).
// unary:         out[i] = f(x[i]);  unary_grad: gx[i] = g[i] * f'(x[i], y[i]). abs, pow (exponent
//                p_s()) and clamp (to [p_s(), p_s2()]) read their parameters.
// where:         out[i] = select(b[ib], a[ia], cond[ic] != 0), three broadcast operands (strides sa, sb, sc).
// masked_fill:   out[i] = select(a[ia], p_s(), mask[ib] != 0) (with INV: mask[ib] == 0), the mask broadcast (strides sb).
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

fn apply_binary(a: f32, b: f32) -> f32 {
  switch OP {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    default: { return a; }
  }
}

@compute @workgroup_size(256)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  let n = p_n();
  if (i >= n) { return; }
  if (!BCAST) {
    C[i] = apply_binary(A[i], B[i]);
    return;
  }
  // nd output dims p_dims(d), a's strides p_sa(d), b's p_sb(d) (innermost last)
  let ia = strided_offset(i, p_nd(), P_dims, P_sa);
  let ib = strided_offset(i, p_nd(), P_dims, P_sb);
  C[i] = apply_binary(A[ia], B[ib]);
}

@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(256)
fn binary_scalar(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  let s = p_s();
  if (p_scalarFirst() == 1u) { Y[i] = apply_binary(s, X[i]); } else { Y[i] = apply_binary(X[i], s); }
}

fn apply_unary(x: f32) -> f32 {
  switch OP {
    case 0u: { return -x; }
    case 1u: { return exp(x); }
    case 2u: { return log(x); }
    case 3u: { return sqrt(x); }
    case 4u: { return x * x; }
    case 5u: { return x; }
    case 6u: { return abs(x); }
    case 7u: { return pow_s(x, p_s()); }
    case 8u: { return min(max(x, p_s()), p_s2()); }
    default: { return x; }
  }
}

// x^e as torch.pow with a float exponent: |x|^e with the sign of x for odd integer e, NaN for a
// negative base and a non-integer e; 1 for e = 0 (0^0 too)
fn pow_s(x: f32, e: f32) -> f32 {
  if (e == 0.0) { return 1.0; }
  if (e == 1.0) { return x; }
  if (e == 2.0) { return x * x; }
  let m = pow(abs(x), e);
  if (x >= 0.0) { return m; }
  if (floor(e) != e) { return bitcast<f32>(0x7fc00000u | (p_n() & 0u)); }
  return select(m, -m, (e % 2.0) != 0.0);
}

@compute @workgroup_size(256)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  Y[i] = apply_unary(X[i]);
}

@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> XI: array<f32>;
@group(0) @binding(3) var<storage, read> YO: array<f32>;
@group(0) @binding(4) var<storage, read_write> GX: array<f32>;

@compute @workgroup_size(256)
fn unary_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  let g = G[i];
  var r: f32;
  switch OP {
    case 0u: { r = -g; }
    case 1u: { r = g * YO[i]; }
    case 2u: { r = g / XI[i]; }
    case 3u: { r = g * 0.5 / YO[i]; }
    case 4u: { r = 2.0 * g * XI[i]; }
    // abs: sign(x) (0 at 0, as torch); pow: e·x^(e−1); clamp: g inside [min, max], 0 outside
    case 6u: { r = g * sign(XI[i]); }
    case 7u: { r = g * p_s() * pow_s(XI[i], p_s() - 1.0); }
    case 8u: { r = select(0.0, g, XI[i] >= p_s() && XI[i] <= p_s2()); }
    default: { r = g; }
  }
  GX[i] = r;
}

@group(0) @binding(1) var<storage, read> WA: array<f32>;
@group(0) @binding(2) var<storage, read> WB: array<f32>;
@group(0) @binding(3) var<storage, read> WC: array<f32>;
@group(0) @binding(4) var<storage, read_write> WO: array<f32>;

@compute @workgroup_size(256)
fn where3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  let ia = strided_offset(i, p_nd(), P_dims, P_sa);
  let ib = strided_offset(i, p_nd(), P_dims, P_sb);
  let ic = strided_offset(i, p_nd(), P_dims, P_sc);
  WO[i] = select(WB[ib], WA[ia], WC[ic] != 0.0);
}

@compute @workgroup_size(256)
fn masked_fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  let ia = strided_offset(i, p_nd(), P_dims, P_sa);
  let ib = strided_offset(i, p_nd(), P_dims, P_sb);
  // INV: the value where the mask is zero instead
  C[i] = select(A[ia], p_s(), (B[ib] != 0.0) != INV);
}
