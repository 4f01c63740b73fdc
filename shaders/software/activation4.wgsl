// activation.wgsl's act and act_grad four values a lane, for sizes that are multiples of 4, on
// software adapters (the variants activation.act4 and activation.act_grad4: on llvmpipe a vec4
// access costs about 2.2 scalar ones). The same values as act and act_grad.
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y4: array<vec4<f32>>;

@compute @workgroup_size(256)
fn act4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n() / 4u) { return; }
  Y4[i] = act_value4(X4[i], ACT, p_slope());
}

@group(0) @binding(1) var<storage, read> G4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> S4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> GX4: array<vec4<f32>>;

@compute @workgroup_size(256)
fn act_grad4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n() / 4u) { return; }
  GX4[i] = act_grad_value4(G4[i], S4[i], ACT, p_slope());
}
