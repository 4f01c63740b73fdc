// conv_transpose.wgsl's 4×4 stride-2 transposed convolutions for software adapters, a row window at
// a time (the variants conv_transpose.main_few and conv_transpose.main_rows,
// src/gpu/variants/software.ts). Compiled after conv_transpose.wgsl's declarations (Y, BIASV):
// layouts.ts gives this file conv_transpose as its base.
// conv_transpose2d's forward (also conv2d's input gradient) for 4×4 kernels of stride 2 to few output
// channels (TM = CO, at most 4: a generator's image layer, a discriminator's first-layer input
// gradient), on software adapters. `main` gives those a lane per 8 pixels of one parity class and
// gathers an input float per FMA. Here a lane computes 4 output rows × TN columns (TN even) of
// every channel. Their taps reach 3 input rows and TN / 2 + 1 = WIN columns, read once a channel ci
// as aligned vec4s (NV of them a row, the window's start picked out by selects, as in
// conv_rows.wgsl), with the 16 taps of each output channel as 4 vec4s (the same for every lane).
// Each output gets its 4 taps (2 rows × 2 columns) in a row. The sums run over ci, then the taps,
// where `main` sums taps, then ci: the results differ from its in the last bits.
// Constants: TM, TN, WIN, NV, WGX, BIAS, EPI. X and W are bound with sizes that are multiples of 16
// bytes (src/ops/conv.ts).
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Wt4: array<vec4<f32>>;

@compute @workgroup_size(WGX, 1, 1)
fn main_few(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let CI = p_CI(); let H = p_H(); let Wd = p_W();
  // blocks of 4 output rows from oh = −ph and TN columns from ow = −pw: block (bh, bw) reads input
  // rows 2·bh − 1 … 2·bh + 1 and columns TN·bw / 2 − 1 … TN·bw / 2 + TN / 2
  let NBH = (p_OH() + p_PH() + 3u) / 4u;
  let NBW = (p_OW() + p_PW() + TN - 1u) / TN;
  let Q = p_N() * NBH * NBW;
  // lanes past the last read the last one's block and store nothing
  let q = min(wid.x * WGX + lid.x, Q - 1u);
  let bw = q % NBW;
  let t0 = q / NBW;
  let bh = t0 % NBH;
  let n = t0 / NBH;
  let ih0 = i32(2u * bh) - 1;
  let iw0 = i32(bw * (TN / 2u)) - 1;
  var acc: array<array<array<f32, TN>, 4>, TM>;
  var xw: array<array<f32, WIN>, 3>;
  var rowAt = n * CI * H * Wd;
  var wAt = 0u; // W[ci, co, kh, 0..3] is vec4 (ci·CO + co)·4 + kh
  for (var ci = 0u; ci < CI; ci++) {
    for (var r = 0u; r < 3u; r++) { // unroll
      let ih = ih0 + i32(r);
      let rowOk = u32(ih) < H; // negative values wrap to large ones
      let start = i32(rowAt) + ih * i32(Wd) + iw0;
      let at = start >> 2u; // floor(start / 4), negative starts too
      let sh = u32(start - at * 4);
      var xv: array<vec4<f32>, NV>;
      for (var v = 0u; v < NV; v++) { // unroll
        xv[v] = X4[u32(max(at + i32(v), 0))];
      }
      for (var u = 0u; u < WIN; u++) { // unroll
        let e = shifted4(xv[u / 4u][u % 4u], xv[(u + 1u) / 4u][(u + 1u) % 4u], xv[(u + 2u) / 4u][(u + 2u) % 4u], xv[(u + 3u) / 4u][(u + 3u) % 4u], sh);
        xw[r][u] = select(0.0, e, rowOk && u32(iw0 + i32(u)) < Wd);
      }
    }
    for (var co = 0u; co < TM; co++) { // unroll
      var w: array<vec4<f32>, 4>;
      for (var kh = 0u; kh < 4u; kh++) { // unroll
        w[kh] = Wt4[wAt + co * 4u + kh];
      }
      // output row t (oh + ph = 4·bh + t) takes taps kh = t % 2 + 2·u from input row r = t / 2 + 1 − u;
      // column c, taps kw = c % 2 + 2·v from window float c / 2 + 1 − v
      for (var t = 0u; t < 4u; t++) { // unroll
        for (var c = 0u; c < TN; c++) { // unroll
          for (var u = 0u; u < 2u; u++) { // unroll
            for (var v = 0u; v < 2u; v++) { // unroll
              acc[co][t][c] = fma(w[t % 2u + 2u * u][c % 2u + 2u * v], xw[t / 2u + 1u - u][c / 2u + 1u - v], acc[co][t][c]);
            }
          }
        }
      }
    }
    rowAt += H * Wd;
    wAt += TM * 4u;
  }
  // the store's indices worked out again rather than kept live through the loop
  let qo = wid.x * WGX + lid.x;
  let NBHo = (p_OH() + p_PH() + 3u) / 4u;
  let NBWo = (p_OW() + p_PW() + TN - 1u) / TN;
  if (qo >= p_N() * NBHo * NBWo) { return; }
  let OHo = p_OH();
  let OWo = p_OW();
  let bwo = qo % NBWo;
  let to = qo / NBWo;
  let oh0 = i32(4u * (to % NBHo)) - i32(p_PH());
  let ow0 = i32(TN * bwo) - i32(p_PW());
  let no = to / NBHo;
  for (var co = 0u; co < TM; co++) { // unroll
    var bias = 0.0;
    if (BIAS) { bias = BIASV[co]; }
    for (var t = 0u; t < 4u; t++) { // unroll
      let oh = oh0 + i32(t);
      if (u32(oh) < OHo) {
        let at = ((no * TM + co) * OHo + u32(oh)) * OWo;
        for (var c = 0u; c < TN; c++) { // unroll
          let ow = ow0 + i32(c);
          if (u32(ow) < OWo) { Y[at + u32(ow)] = act_value(acc[co][t][c] + bias, EPI, p_slope()); }
        }
      }
    }
  }
}

// conv_transpose2d's forward (also conv2d's input gradient) for 4×4 kernels of stride 2 to 8 or more
// output channels, on software adapters with subgroups (the variant conv_transpose.main_rows). `main`
// gathers one input float per column at every (tap, ci): 10 scalar loads per 128 FMAs. Here a lane
// computes TM output channels × TC consecutive columns (TC even) of one output row oh, the rows of
// one parity of oh + ph a workgroup z (the lanes that share taps need the same ones). With
// r = oh + ph, that row takes taps kh = r % 2 from input row r / 2 and kh + 2 from the row above;
// column c (c + pw = 2·m + kw) takes taps kw and kw + 2 from window floats m + 1 and m. So at each ci
// the lane reads its two input rows' windows of WIN floats as aligned vec4s (NV a row, the start
// picked out by selects, as in conv_rows.wgsl) and the two tap rows of its TM channels as vec4s
// (shared through share8): 2 + 2·NV vec4 loads per 4·TM·TC FMAs, each accumulator's 4 in a row.
// The sums run over ci, then the taps, where `main` sums taps, then ci: results differ from its in
// the last bits. Constants: TM (a multiple of 8), TC, WIN, NV, WGX, PWP (= pw mod 2), BIAS, EPI; SG
// is required. X and W are bound with sizes that are multiples of 16 bytes (src/ops/conv.ts).
const RVT = TM / 8u;

@compute @workgroup_size(WGX, 1, 1)
fn main_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  sg_init();
  let CI = p_CI(); let H = p_H(); let Wd = p_W(); let CO = p_CO();
  // workgroup z takes the output rows with (oh + ph) mod 2 = z, so that the lanes sharing taps share kh
  let oh1 = (wid.z + p_PH()) % 2u;
  let OHz = (p_OH() + 1u - oh1) / 2u;
  if (OHz == 0u) { return; }
  let NB = (p_OW() + TC - 1u) / TC;
  let Q = p_N() * OHz * NB;
  // the lane's block (n, oh, b); lanes past the last read the last one's and store nothing
  let q = min(wid.x * WGX + lid.x, Q - 1u);
  let t = q / NB;
  let r = oh1 + 2u * (t % OHz) + p_PH();
  let n = t / OHz;
  let ih0 = i32(r / 2u);
  // the block's first column plus pw is TC·b + pw, of parity PWP: its window starts a float left of its half
  let iw0 = i32(((q - t * NB) * TC + p_PW()) / 2u) - 1;
  // W[ci, co, kh, 0..3] is vec4 (ci·CO + co)·4 + kh
  var wAt: array<u32, RVT>;
  for (var h = 0u; h < TM / 8u; h++) { // unroll
    wAt[h] = min(wid.y * TM + lane8() + 8u * h, CO - 1u) * 4u + wid.z;
  }
  var acc: array<array<f32, TC>, TM>;
  var xw: array<array<f32, WIN>, 2>;
  var wv: array<array<vec4<f32>, RVT>, 2>;
  var rowAt = n * CI * H * Wd;
  for (var ci = 0u; ci < CI; ci++) {
    for (var u = 0u; u < 2u; u++) { // unroll
      // u = 0: input row r / 2 with taps kh = r % 2; u = 1: the row above, taps kh + 2
      let ih = ih0 - i32(u);
      let rowOk = u32(ih) < H; // negative values wrap to large ones
      let start = i32(rowAt) + ih * i32(Wd) + iw0;
      let at = start >> 2u; // floor(start / 4), negative starts too
      let sh = u32(start - at * 4);
      var xv: array<vec4<f32>, NV>;
      for (var v = 0u; v < NV; v++) { // unroll
        xv[v] = X4[u32(max(at + i32(v), 0))];
      }
      for (var e = 0u; e < WIN; e++) { // unroll
        let x = shifted4(xv[e / 4u][e % 4u], xv[(e + 1u) / 4u][(e + 1u) % 4u], xv[(e + 2u) / 4u][(e + 2u) % 4u], xv[(e + 3u) / 4u][(e + 3u) % 4u], sh);
        xw[u][e] = select(0.0, x, rowOk && u32(iw0 + i32(e)) < Wd);
      }
      for (var h = 0u; h < TM / 8u; h++) { // unroll
        wv[u][h] = Wt4[wAt[h] + 2u * u];
      }
    }
    for (var h = 0u; h < TM / 8u; h++) { // unroll
      wAt[h] += CO * 4u;
    }
    for (var i = 0u; i < TM; i++) { // unroll
      var a: array<array<f32, 4>, 2>;
      for (var u = 0u; u < 2u; u++) { // unroll
        for (var k = 0u; k < 4u; k++) { // unroll
          a[u][k] = share8(wv[u][i / 8u][k], i % 8u);
        }
      }
      for (var j = 0u; j < TC; j++) { // unroll
        // column j: c + pw = 2·(m + first half) + kw
        let m = (j + PWP) / 2u;
        let kw = (j + PWP) % 2u;
        for (var u = 0u; u < 2u; u++) { // unroll
          acc[i][j] = fma(a[u][kw], xw[u][m + 1u], acc[i][j]);
          acc[i][j] = fma(a[u][kw + 2u], xw[u][m], acc[i][j]);
        }
      }
    }
    rowAt += H * Wd;
  }
  // the store's indices worked out again rather than kept live through the loop
  let qo = wid.x * WGX + lid.x;
  let NBo = (p_OW() + TC - 1u) / TC;
  let oh1o = (wid.z + p_PH()) % 2u;
  let OHzo = (p_OH() + 1u - oh1o) / 2u;
  if (qo >= p_N() * OHzo * NBo) { return; }
  let to = qo / NBo;
  let ow0 = (qo - to * NBo) * TC;
  let oho = oh1o + 2u * (to % OHzo);
  let no = to / OHzo;
  let COo = p_CO();
  let OWo = p_OW();
  for (var i = 0u; i < TM; i++) { // unroll
    let c = wid.y * TM + i;
    if (c < COo) {
      var bias = 0.0;
      if (BIAS) { bias = BIASV[c]; }
      let at = ((no * COo + c) * p_OH() + oho) * OWo + ow0;
      for (var j = 0u; j < TC; j++) { // unroll
        if (ow0 + j < OWo) { Y[at + j] = act_value(acc[i][j] + bias, EPI, p_slope()); }
      }
    }
  }
}
