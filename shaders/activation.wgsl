// Activations and their gradients. Specialisation: ACT (1 relu, 2 leakyRelu with p_slope(),
// 3 tanh, 4 sigmoid; act_value in common.wgsl). act_grad takes the forward input (relu family) or
// output (tanh, sigmoid); for relu and leakyRelu with slope ≥ 0 the output's sign is the input's.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;


@compute @workgroup_size(256)
fn act(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  Y[i] = act_value(X[i], ACT, p_slope());
}

@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> S: array<f32>;
@group(0) @binding(3) var<storage, read_write> GX: array<f32>;

@compute @workgroup_size(256)
fn act_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  GX[i] = act_grad_value(G[i], S[i], ACT, p_slope());
}

// act and act_grad four values a lane, for sizes that are multiples of 4 (the planner's vec4Passes:
// on llvmpipe a vec4 access costs about 2.2 scalar ones). The same values as act and act_grad.
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y4: array<vec4<f32>>;

@compute @workgroup_size(256)
fn act4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n() / 4u) { return; }
  let x = X4[i];
  let sl = p_slope();
  Y4[i] = vec4<f32>(act_value(x.x, ACT, sl), act_value(x.y, ACT, sl), act_value(x.z, ACT, sl), act_value(x.w, ACT, sl));
}

@group(0) @binding(1) var<storage, read> G4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> S4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> GX4: array<vec4<f32>>;

@compute @workgroup_size(256)
fn act_grad4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n() / 4u) { return; }
  let g = G4[i];
  let s = S4[i];
  let sl = p_slope();
  GX4[i] = vec4<f32>(act_grad_value(g.x, s.x, ACT, sl), act_grad_value(g.y, s.y, ACT, sl), act_grad_value(g.z, s.z, ACT, sl), act_grad_value(g.w, s.w, ACT, sl));
}
