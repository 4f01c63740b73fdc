// 2-D max and average pooling over [N·C planes, H, W], as torch.nn.functional.max_pool2d /
// avg_pool2d (floor mode): output (oh, ow) covers input rows oh·SH − PH … + KH − 1 and columns
// likewise. max_forward: a lane an output, the window's largest value (padding is −∞, a NaN wins) and
// its first position in the plane (h·W + w) saved for backward; max_backward: a lane an input
// element, the sum of the gradients of the outputs whose saved position it is. avg_forward: the
// window's sum over its divisor (KH·KW with COUNT_PAD, as count_include_pad, else the values
// inside the input); avg_backward: a lane an input element, Σ g / divisor over the windows that
// hold it. Constant: COUNT_PAD (every entry point: the divisor helper reads it). Parameters
// (src/gpu/layouts.ts): NC, H, W, OH, OW, KH, KW, SH, SW, PH, PW.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> IDX: array<f32>;

// the window of output (oh, ow) clipped to the input: rows [h0, h1), columns [w0, w1)
fn window(oh: u32, ow: u32) -> vec4<i32> {
  let h0 = i32(oh * p_SH()) - i32(p_PH());
  let w0 = i32(ow * p_SW()) - i32(p_PW());
  return vec4<i32>(max(h0, 0), min(h0 + i32(p_KH()), i32(p_H())), max(w0, 0), min(w0 + i32(p_KW()), i32(p_W())));
}

@compute @workgroup_size(256)
fn max_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = linear_id(gid, nwg, 256u);
  let OH = p_OH(); let OW = p_OW(); let W = p_W();
  if (o >= p_NC() * OH * OW) { return; }
  let plane = o / (OH * OW);
  let q = o - plane * OH * OW;
  let oh = q / OW;
  let win = window(oh, q - oh * OW);
  let base = plane * p_H() * W;
  var best = bitcast<f32>(0xff800000u | (W & 0u)); // −∞ (a constant −∞ is not valid WGSL)
  var at = u32(win.x) * W + u32(win.z);
  for (var h = win.x; h < win.y; h++) {
    for (var w = win.z; w < win.w; w++) {
      let i = u32(h) * W + u32(w);
      let v = X[base + i];
      if (v > best || (v != v && best == best)) {
        best = v;
        at = i;
      }
    }
  }
  Y[o] = best;
  IDX[o] = f32(at);
}

// the outputs whose windows hold input row h (or column w): [first, last]
fn covering(h: u32, P: u32, K: u32, S: u32, O: u32) -> vec2<i32> {
  let hp = i32(h + P);
  let first = max(0, (hp - i32(K) + i32(S)) / i32(S));
  let last = min(i32(O) - 1, hp / i32(S));
  return vec2<i32>(first, last);
}

// input element e of a backward pass: its plane, its index in the plane, and the output rows and
// columns whose windows hold it ([first, last] each)
struct Covered { plane: u32, i: u32, rh: vec2<i32>, rw: vec2<i32> }
fn covered(e: u32) -> Covered {
  let H = p_H(); let W = p_W();
  let plane = e / (H * W);
  let i = e - plane * H * W;
  let h = i / W;
  return Covered(plane, i, covering(h, p_PH(), p_KH(), p_SH(), p_OH()), covering(i - h * W, p_PW(), p_KW(), p_SW(), p_OW()));
}

@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> IDXB: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(256)
fn max_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = linear_id(gid, nwg, 256u);
  if (e >= p_NC() * p_H() * p_W()) { return; }
  let c = covered(e);
  let OH = p_OH(); let OW = p_OW();
  var acc = 0.0;
  for (var oh = c.rh.x; oh <= c.rh.y; oh++) {
    for (var ow = c.rw.x; ow <= c.rw.y; ow++) {
      let o = c.plane * OH * OW + u32(oh) * OW + u32(ow);
      if (IDXB[o] == f32(c.i)) { acc += G[o]; }
    }
  }
  DX[e] = acc;
}

fn divisor(win: vec4<i32>) -> f32 {
  if (COUNT_PAD) { return f32(p_KH() * p_KW()); }
  return f32((win.y - win.x) * (win.w - win.z));
}

@compute @workgroup_size(256)
fn avg_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = linear_id(gid, nwg, 256u);
  let OH = p_OH(); let OW = p_OW(); let W = p_W();
  if (o >= p_NC() * OH * OW) { return; }
  let plane = o / (OH * OW);
  let q = o - plane * OH * OW;
  let oh = q / OW;
  let win = window(oh, q - oh * OW);
  let base = plane * p_H() * W;
  var s = 0.0;
  for (var h = win.x; h < win.y; h++) {
    for (var w = win.z; w < win.w; w++) { s += X[base + u32(h) * W + u32(w)]; }
  }
  Y[o] = s / divisor(win);
}

@group(0) @binding(2) var<storage, read_write> DXA: array<f32>;

@compute @workgroup_size(256)
fn avg_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = linear_id(gid, nwg, 256u);
  if (e >= p_NC() * p_H() * p_W()) { return; }
  let c = covered(e);
  let OH = p_OH(); let OW = p_OW();
  var acc = 0.0;
  for (var oh = c.rh.x; oh <= c.rh.y; oh++) {
    for (var ow = c.rw.x; ow <= c.rw.y; ow++) {
      acc += G[c.plane * OH * OW + u32(oh) * OW + u32(ow)] / divisor(window(u32(oh), u32(ow)));
    }
  }
  DXA[e] = acc;
}
