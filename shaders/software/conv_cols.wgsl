// A conv weight gradient as one GEMM, on software adapters (src/ops/conv.ts weightGradGemm, chosen
// by the variant conv_cols.columns). `columns` writes the GEMM's two operands in one dispatch:
// - the input's columns C[q, k] = X[n, b, gh·SH − PH + kh, gw·SW − PW + kw] (0 outside the image),
//   q = (b·KH + kh)·KW + kw, k = (n·GH + gh)·GW + gw: im2col with the batch along the columns; a
//   lane per (q, n) writes its GH·GW values, so the index divisions are paid once per 49 (R1's
//   7 × 7) rather than per value;
// - the output gradient G [N, A, GH·GW] as G' [A, N·GH·GW]: the lanes after those, one per (a, n),
//   each copying its GH·GW floats.
// Then D[a, q] = Σ_k G'[a, k] · C[q, k] is matmul's x·Wᵀ.
// Parameters: N, A, B, XH, XW, GH, GW, KH, KW, SH, SW, PH, PW (src/gpu/layouts.ts).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<storage, read> G: array<f32>;
@group(0) @binding(4) var<storage, read_write> GP: array<f32>;

@compute @workgroup_size(64)
fn columns(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 64u);
  let N = p_N(); let GH = p_GH(); let GW = p_GW(); let KH = p_KH(); let KW = p_KW();
  let S = GH * GW;
  let colLanes = p_B() * KH * KW * N;
  if (i >= colLanes) {
    // G' (lanes past the columns')
    let j = i - colLanes;
    let A = p_A();
    if (j >= A * N) { return; }
    let a = j / N;
    let n = j - a * N;
    let src = (n * A + a) * S;
    let dst = j * S;
    for (var e = 0u; e < S; e++) {
      GP[dst + e] = G[src + e];
    }
    return;
  }
  let XH = p_XH(); let XW = p_XW(); let SH = p_SH(); let SW = p_SW();
  let q = i / N;
  let n = i - q * N;
  let kw = q % KW;
  let kh = (q / KW) % KH;
  let b = q / (KW * KH);
  let plane = (n * p_B() + b) * XH * XW;
  var out = i * S;
  let ih0 = i32(kh) - i32(p_PH());
  let iw0 = i32(kw) - i32(p_PW());
  for (var gh = 0u; gh < GH; gh++) {
    let ih = ih0 + i32(gh * SH);
    let rowOk = u32(ih) < XH; // negative values wrap to large ones
    let xRow = plane + min(u32(max(ih, 0)), XH - 1u) * XW;
    for (var gw = 0u; gw < GW; gw++) {
      let iw = iw0 + i32(gw * SW);
      let ok = rowOk && u32(iw) < XW;
      C[out] = select(0.0, X[xRow + min(u32(max(iw, 0)), XW - 1u)], ok);
      out += 1u;
    }
  }
}
