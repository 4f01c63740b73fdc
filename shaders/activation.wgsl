// Activations and their gradients. Specialisation: ACT (0 relu, 1 leakyRelu with p_slope(),
// 2 tanh, 3 sigmoid). act_grad takes the forward input (relu family) or output (tanh, sigmoid).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

fn activate(x: f32) -> f32 {
  switch ACT {
    case 0u: { return max(x, 0.0); }
    case 1u: { return select(x * p_slope(), x, x > 0.0); }
    case 2u: { return tanh(x); }
    case 3u: {
      // stable for large |x|: never exp of a large positive number
      let e = exp(-abs(x));
      return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
    }
    default: { return x; }
  }
}

@compute @workgroup_size(256)
fn act(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  Y[i] = activate(X[i]);
}

@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> S: array<f32>;
@group(0) @binding(3) var<storage, read_write> GX: array<f32>;

@compute @workgroup_size(256)
fn act_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  let g = G[i];
  let s = S[i];
  var r: f32;
  switch ACT {
    case 0u: { r = select(0.0, g, s > 0.0); }
    case 1u: { r = select(g * p_slope(), g, s > 0.0); }
    case 2u: { r = g * (1.0 - s * s); }
    case 3u: { r = g * s * (1.0 - s); }
    default: { r = g; }
  }
  GX[i] = r;
}
