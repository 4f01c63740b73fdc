// Transposed convolution, register-blocked implicit GEMM (also the input gradient of conv2d):
//   Y[n,co,oh,ow] = Σ X[n,ci,ih,iw] · W[ci,co,kh,kw] over oh = ih·sh − ph + kh, ow = iw·sw − pw + kw (+ bias[co]).
// Output pixels are split into sh·sw parity classes (workgroup z): in class (qh,qw) every pixel
// has (oh+ph) mod sh = qh, so only taps kh ≡ qh (mod sh) contribute and none is wasted.
// Rows = co, columns = pixels of one class. Specialisation: TM, TN, WGX, WGY, BIAS, EPI, SG (rows shared
// across lanes, as in matmul.wgsl). Software adapters' 4×4 stride-2 kernels: shaders/software/conv_transpose_rows.wgsl.
// Parameters: N, CI, H, W, CO, OH, OW, KH, KW, SH, SW, PH, PW (src/gpu/layouts.ts).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read> BIASV: array<f32>;

const RL = select(TM, (TM + 7u) / 8u, SG);

@compute @workgroup_size(WGX, WGY, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  sg_init();
  let N = p_N(); let CI = p_CI(); let H = p_H(); let Wd = p_W();
  let CO = p_CO(); let OH = p_OH(); let OW = p_OW(); let KH = p_KH(); let KW = p_KW();
  let sh = p_SH(); let sw = p_SW(); let ph = p_PH(); let pw = p_PW();
  let qh = wid.z / sw;
  let qw = wid.z % sw;
  // first output row/col of this class: the smallest oh ≥ 0 with (oh + ph) mod sh == qh
  let oh0 = (qh + sh - ph % sh) % sh;
  let ow0 = (qw + sw - pw % sw) % sw;
  let OHq = select(0u, (OH - oh0 + sh - 1u) / sh, oh0 < OH);
  let OWq = select(0u, (OW - ow0 + sw - 1u) / sw, ow0 < OW);
  let P = N * OHq * OWq;
  if (P == 0u) { return; }
  let c0 = wid.y * (WGY * TM) + lid.y;
  let p0 = wid.x * (WGX * TN) + lid.x;
  var cCol: array<u32, RL>;
  for (var h = 0u; h < RL; h++) { cCol[h] = min(select(c0 + h * WGY, c0 + lane8() + 8u * h, SG), CO - 1u) * KH * KW; }
  var xBase: array<u32, TN>;
  var ihq: array<i32, TN>; // (oh + ph − qh) / sh: the input row for tap kh = qh, minus u for kh = qh + u·sh
  var iwq: array<i32, TN>;
  var outOff: array<u32, TN>;
  for (var j = 0u; j < TN; j++) {
    let p = min(p0 + j * WGX, P - 1u);
    let tw = p % OWq;
    let t = p / OWq;
    let th = t % OHq;
    let n = t / OHq;
    let oh = oh0 + th * sh;
    let ow = ow0 + tw * sw;
    xBase[j] = n * CI * H * Wd;
    ihq[j] = i32((oh + ph - qh) / sh);
    iwq[j] = i32((ow + pw - qw) / sw);
    outOff[j] = n * CO * OH * OW + oh * OW + ow;
  }
  var acc: array<array<f32, TN>, TM>;
  var al: array<f32, RL>;
  var b: array<f32, TN>;
  var off: array<u32, TN>;
  var ok: array<bool, TN>;
  let HW = H * Wd;
  let KHW = KH * KW;
  let wStride = CO * KHW;
  // taps outside, channels inside: a column's address and bounds test are worked out once per tap
  for (var kh = qh; kh < KH; kh += sh) {
    let uh = i32((kh - qh) / sh);
    for (var kw = qw; kw < KW; kw += sw) {
      let uw = i32((kw - qw) / sw);
      for (var j = 0u; j < TN; j++) {
        let ih = ihq[j] - uh;
        let iw = iwq[j] - uw;
        ok[j] = u32(ih) < H && u32(iw) < Wd; // negative values wrap to large ones
        off[j] = select(0u, xBase[j] + u32(ih) * Wd + u32(iw), ok[j]);
      }
      var wOff = kh * KW + kw;
      var xOff = 0u;
      for (var ci = 0u; ci < CI; ci++) {
        for (var h = 0u; h < RL; h++) { al[h] = Wt[wOff + cCol[h]]; }
        for (var j = 0u; j < TN; j++) { b[j] = select(0.0, X[off[j] + xOff], ok[j]); }
        for (var i = 0u; i < TM; i++) {
          var a: f32;
          if (SG) { a = share8(al[i / 8u], i % 8u); } else { a = al[i]; }
          for (var j = 0u; j < TN; j++) { acc[i][j] = fma(a, b[j], acc[i][j]); }
        }
        wOff += wStride;
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
      if (p0 + j * WGX < P) { Y[outOff[j] + c * OHW] = act_value(acc[i][j] + bias, EPI, p_slope()); }
    }
  }
}
