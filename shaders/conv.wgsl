// Convolution as implicit GEMM, register-blocked: each lane computes TM rows × TN columns, rows
// i*WGY + ly and columns j*WGX + lx of its workgroup's tile (neighbouring lanes, neighbouring pixels).
// Specialisation: TM, TN, WGX, WGY, BIAS, SG, EPI (forward: an activation after the bias). With SG (WGY = 1) the TM rows are the same for all
// lanes of a workgroup and their operand is loaded once per 8 lanes and shared (see matmul.wgsl).
//
// forward: Y[n,co,oh,ow] = Σ_{ci,kh,kw} X[n,ci,oh·sh−ph+kh, ow·sw−pw+kw] · W[co,ci,kh,kw] (+ bias[co])
//   rows = co, columns = (n, oh, ow). Also the input gradient of conv_transpose2d.
//   Parameters: N, CI, H, W, CO, OH, OW, KH, KW, SH, SW, PH, PW (src/gpu/layouts.ts).
//
// weight_grad: D[a,b,kh,kw] = Σ_{n,gh,gw} G[n,a,gh,gw] · X[n,b,gh·sh−ph+kh, gw·sw−pw+kw]
//   rows = a, columns = (b, kh, kw). conv2d: G = output grad, X = input. conv_transpose2d:
//   G = input, X = output grad (its weight [in,out,kh,kw] gets the same formula).
//   The sum over n is split into chunks of p_chunk() images (workgroup z = chunk); chunk z writes its
//   partial sums to D[z, a, b, kh, kw], and the caller adds the chunks up.
//   Parameters: N, A, GH, GW, B, XH, XW, KH, KW, SH, SW, PH, PW, chunk.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read> BIASV: array<f32>;

// rows each lane loads per tap: all TM of its own, or with SG its share of them
const RL = select(TM, (TM + 7u) / 8u, SG);
// row h that this lane loads, of the block starting at r0 (lane's first row)
fn load_row(r0: u32, h: u32) -> u32 { return select(r0 + h * WGY, r0 + lane8() + 8u * h, SG); }

@compute @workgroup_size(WGX, WGY, 1)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  sg_init();
  let N = p_N(); let CI = p_CI(); let H = p_H(); let Wd = p_W();
  let CO = p_CO(); let OH = p_OH(); let OW = p_OW(); let KH = p_KH(); let KW = p_KW();
  let sh = i32(p_SH()); let sw = i32(p_SW()); let ph = i32(p_PH()); let pw = i32(p_PW());
  let P = N * OH * OW;
  let c0 = wid.y * (WGY * TM) + lid.y;
  let p0 = wid.x * (WGX * TN) + lid.x;
  var wRow: array<u32, RL>;
  for (var h = 0u; h < RL; h++) { wRow[h] = min(load_row(c0, h), CO - 1u) * CI * KH * KW; }
  var xBase: array<u32, TN>;
  var ih0: array<i32, TN>;
  var iw0: array<i32, TN>;
  for (var j = 0u; j < TN; j++) {
    let p = min(p0 + j * WGX, P - 1u);
    let ow = p % OW;
    let t = p / OW;
    let oh = t % OH;
    let n = t / OH;
    xBase[j] = n * CI * H * Wd;
    ih0[j] = i32(oh) * sh - ph;
    iw0[j] = i32(ow) * sw - pw;
  }
  var acc: array<array<f32, TN>, TM>;
  var al: array<f32, RL>;
  var b: array<f32, TN>;
  var off: array<u32, TN>;
  var ok: array<bool, TN>;
  let HW = H * Wd;
  let KHW = KH * KW;
  // taps outside, channels inside: a column's address and bounds test are worked out once per tap
  for (var kh = 0u; kh < KH; kh++) {
    for (var kw = 0u; kw < KW; kw++) {
      for (var j = 0u; j < TN; j++) {
        let ih = ih0[j] + i32(kh);
        let iw = iw0[j] + i32(kw);
        ok[j] = u32(ih) < H && u32(iw) < Wd; // negative values wrap to large ones
        off[j] = select(0u, xBase[j] + u32(ih) * Wd + u32(iw), ok[j]);
      }
      var wOff = kh * KW + kw;
      var xOff = 0u;
      for (var ci = 0u; ci < CI; ci++) {
        for (var h = 0u; h < RL; h++) { al[h] = Wt[wRow[h] + wOff]; }
        for (var j = 0u; j < TN; j++) { b[j] = select(0.0, X[off[j] + xOff], ok[j]); }
        for (var i = 0u; i < TM; i++) {
          var a: f32;
          if (SG) { a = share8(al[i / 8u], i % 8u); } else { a = al[i]; }
          for (var j = 0u; j < TN; j++) { acc[i][j] = fma(a, b[j], acc[i][j]); }
        }
        wOff += KHW;
        xOff += HW;
      }
    }
  }
  let OHW = OH * OW;
  for (var i = 0u; i < TM; i++) {
    let c = c0 + i * WGY;
    if (c >= CO) { break; }
    var bias = 0.0;
    if (BIAS) { bias = BIASV[c]; }
    for (var j = 0u; j < TN; j++) {
      let p = p0 + j * WGX;
      if (p < P) {
        let n = p / OHW;
        let r = p - n * OHW;
        Y[(n * CO + c) * OHW + r] = act_value(acc[i][j] + bias, EPI, p_slope());
      }
    }
  }
}

@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> XW: array<f32>;
@group(0) @binding(3) var<storage, read_write> D: array<f32>;

@compute @workgroup_size(WGX, WGY, 1)
fn weight_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  sg_init();
  let N = p_N(); let A = p_A(); let GH = p_GH(); let GW = p_GW();
  let B = p_B(); let XH = p_XH(); let XW_ = p_XW(); let KH = p_KH(); let KW = p_KW();
  let sh = i32(p_SH()); let sw = i32(p_SW()); let ph = i32(p_PH()); let pw = i32(p_PW());
  let COLS = B * KH * KW;
  let r0 = wid.y * (WGY * TM) + lid.y;
  let q0 = wid.x * (WGX * TN) + lid.x;
  var gRow: array<u32, RL>;
  for (var h = 0u; h < RL; h++) { gRow[h] = min(load_row(r0, h), A - 1u) * GH * GW; }
  var xCh: array<u32, TN>;
  var khs: array<i32, TN>;
  var kws: array<i32, TN>;
  for (var j = 0u; j < TN; j++) {
    let q = min(q0 + j * WGX, COLS - 1u);
    kws[j] = i32(q % KW);
    khs[j] = i32((q / KW) % KH);
    xCh[j] = (q / (KW * KH)) * XH * XW_;
  }
  var acc: array<array<f32, TN>, TM>;
  var al: array<f32, RL>;
  var b: array<f32, TN>;
  let GHW = GH * GW;
  let XHW = XH * XW_;
  let nEnd = min(N, (wid.z + 1u) * p_chunk());
  for (var n = wid.z * p_chunk(); n < nEnd; n++) {
    let gN = n * A * GHW;
    let xN = n * B * XHW;
    for (var gh = 0u; gh < GH; gh++) {
      let ihBase = i32(gh) * sh - ph;
      for (var gw = 0u; gw < GW; gw++) {
        let iwBase = i32(gw) * sw - pw;
        let gOff = gN + gh * GW + gw;
        for (var h = 0u; h < RL; h++) { al[h] = G[gOff + gRow[h]]; }
        for (var j = 0u; j < TN; j++) {
          let ih = ihBase + khs[j];
          let iw = iwBase + kws[j];
          let inside = ih >= 0 && ih < i32(XH) && iw >= 0 && iw < i32(XW_);
          let idx = xN + xCh[j] + u32(select(0, ih, inside)) * XW_ + u32(select(0, iw, inside));
          b[j] = select(0.0, XW[idx], inside);
        }
        for (var i = 0u; i < TM; i++) {
          var a: f32;
          if (SG) { a = share8(al[i / 8u], i % 8u); } else { a = al[i]; }
          for (var j = 0u; j < TN; j++) { acc[i][j] = fma(a, b[j], acc[i][j]); }
        }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i * WGY;
    if (r >= A) { break; }
    for (var j = 0u; j < TN; j++) {
      let q = q0 + j * WGX;
      let di = (wid.z * A + r) * COLS + q;
      // ADDC (one chunk only): add a gradient accumulated so far, bound where the forward's bias is
      if (q < COLS) {
        if (ADDC) { D[di] = acc[i][j] + BIASV[di]; } else { D[di] = acc[i][j]; }
      }
    }
  }
}
