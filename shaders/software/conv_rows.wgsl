// conv2d's forward (and conv_transpose2d's input gradient) for software adapters, chosen by the
// variant conv_rows.forward_rows for 4-wide kernels (KW = 4, the DCGAN convolutions): the sums of conv.wgsl
// `forward`, run over ci, then kh, then kw. Each lane computes TM output channels × TN consecutive
// pixels of one output row. At each (ci, kh) it reads that input row's window of WIN floats once
// and the 4 taps of its TM weight rows as vec4s (the rows shared through share8, as in `forward`),
// then does its 4·TM·TN FMAs from registers. On llvmpipe, where a storage load that differs across
// lanes is a loop over the lanes, that is 7 vec4 loads per 448 FMAs where `forward`, one input float
// per tap and column, makes 40 scalar loads per 512 (bench/NOTES.md). Loops marked `// unroll` are written out when the pipeline is
// built. Constants: TM (a multiple of 8), TN, WGX, SWC (= SW), WIN, NV, BIAS, EPI; SG is required. The input
// is read as vec4s: its binding's size is a multiple of 16 bytes (src/ops/conv.ts).
// Parameters: N, CI, H, W, CO, OH, OW, KH, KW, SH, SW, PH, PW (src/gpu/layouts.ts).
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Wt4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read> BIASV: array<f32>;

// the vec4 weight loads of each lane per (ci, kh). With the constants come WIN = (TN − 1)·SWC + 4,
// the input floats of one lane's TN pixels (SWC apart, 4 taps each) along a row, and NV, the vec4s
// that hold them from any start: (WIN + 6) / 4
const RV = TM / 8u;

@compute @workgroup_size(WGX, 1, 1)
fn forward_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  sg_init();
  let CI = p_CI(); let H = p_H(); let Wd = p_W(); let CO = p_CO(); let KH = p_KH();
  let NB = (p_OW() + TN - 1u) / TN;
  let Q = p_N() * p_OH() * NB;
  // the lane's row block (n, oh, b); lanes past the last read the last one's and store nothing
  let q = min(wid.x * WGX + lid.x, Q - 1u);
  let t = q / NB;
  let oh = t % p_OH();
  let n = t / p_OH();
  let ih0 = i32(oh * p_SH()) - i32(p_PH());
  let iw0 = i32((q - t * NB) * TN * SWC) - i32(p_PW());
  // weight rows in vec4 units: W[co, ci, kh, 0..3] is vec4 co·CI·KH + ci·KH + kh
  var wAt: array<u32, RV>;
  for (var h = 0u; h < TM / 8u; h++) { // unroll
    wAt[h] = min(wid.y * TM + lane8() + 8u * h, CO - 1u) * CI * KH;
  }
  var acc: array<array<f32, TN>, TM>;
  var xw: array<f32, WIN>;
  var wv: array<vec4<f32>, RV>;
  var rowAt = n * CI * H * Wd;
  for (var ci = 0u; ci < CI; ci++) {
    for (var kh = 0u; kh < KH; kh++) {
      let ih = ih0 + i32(kh);
      let rowOk = u32(ih) < H; // negative values wrap to large ones
      // the window's first float, read through the NV aligned vec4s that hold it: vec4 `at` on, the
      // window starting `sh` floats into the first (floats outside the image are masked to 0 below)
      let start = i32(rowAt) + ih * i32(Wd) + iw0;
      let at = start >> 2u; // floor(start / 4), negative starts too
      let sh = u32(start - at * 4);
      var xv: array<vec4<f32>, NV>;
      for (var v = 0u; v < NV; v++) { // unroll
        xv[v] = X4[u32(max(at + i32(v), 0))];
      }
      for (var u = 0u; u < WIN; u++) { // unroll
        let iw = iw0 + i32(u);
        let e = shifted4(xv[u / 4u][u % 4u], xv[(u + 1u) / 4u][(u + 1u) % 4u], xv[(u + 2u) / 4u][(u + 2u) % 4u], xv[(u + 3u) / 4u][(u + 3u) % 4u], sh);
        xw[u] = select(0.0, e, rowOk && u32(iw) < Wd);
      }
      for (var h = 0u; h < TM / 8u; h++) { // unroll
        wv[h] = Wt4[wAt[h]];
        wAt[h] += 1u;
      }
      // accumulator by accumulator, its 4 taps in a row: on llvmpipe the accumulators live in memory,
      // so each is loaded and stored once per (ci, kh) rather than once per tap
      for (var i = 0u; i < TM; i++) { // unroll
        var a: array<f32, 4>;
        for (var kw = 0u; kw < 4u; kw++) { // unroll
          a[kw] = share8(wv[i / 8u][kw], i % 8u);
        }
        for (var j = 0u; j < TN; j++) { // unroll
          for (var kw = 0u; kw < 4u; kw++) { // unroll
            acc[i][j] = fma(a[kw], xw[j * SWC + kw], acc[i][j]);
          }
        }
      }
    }
    rowAt += H * Wd;
  }
  // the store's indices worked out again rather than kept live through the loop (as in matmul main4)
  let qo = wid.x * WGX + lid.x;
  let NBo = (p_OW() + TN - 1u) / TN;
  if (qo >= p_N() * p_OH() * NBo) { return; }
  let to = qo / NBo;
  let ow0 = (qo - to * NBo) * TN;
  let oho = to % p_OH();
  let no = to / p_OH();
  let COo = p_CO();
  let OWo = p_OW();
  for (var i = 0u; i < TM; i++) { // unroll
    let c = wid.y * TM + i;
    if (c < COo) {
      var bias = 0.0;
      if (BIAS) { bias = BIASV[c]; }
      let at = ((no * COo + c) * p_OH() + oho) * OWo + ow0;
      for (var j = 0u; j < TN; j++) { // unroll
        if (ow0 + j < OWo) { Y[at + j] = act_value(acc[i][j] + bias, EPI, p_slope()); }
      }
    }
  }
}
