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
