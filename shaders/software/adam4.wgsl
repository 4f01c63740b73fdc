// adam.wgsl's update four parameters a lane, for software adapters (the variant adam.main4,
// src/gpu/variants/software.ts). Parameters: adam's (src/gpu/layouts.ts).
// The same update four parameters at a time (n a multiple of 4: every range of the flat buffers is).
@group(0) @binding(1) var<storage, read_write> P4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> G4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> M4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> V4: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n() / 4u) { return; }
  let b1 = p_beta1();
  let b2 = p_beta2();
  // AdamW (DECOUPLED) shrinks the parameter by lr·weightDecay first; Adam adds weightDecay·p to the gradient
  var p = P4[i];
  var g = G4[i];
  if (DECOUPLED) { p = p * (1.0 - p_lr() * p_weightDecay()); } else { g = g + p_weightDecay() * p; }
  let m = b1 * M4[i] + (1.0 - b1) * g;
  let v = b2 * V4[i] + (1.0 - b2) * g * g;
  M4[i] = m;
  V4[i] = v;
  P4[i] = p - (p_lr() / p_bc1()) * m / (sqrt(v) / p_bc2sqrt() + p_eps());
}
