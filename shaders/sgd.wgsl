// SGD with momentum, dampening, Nesterov and L2 weight decay as torch.optim.SGD, over a flat range.
// Parameters: n, firstStep (the momentum buffer starts as the gradient); lr, momentum, dampening,
// weightDecay, nesterov (0/1).
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> B: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  let p = P[i];
  var d = G[i] + p_weightDecay() * p;
  let mom = p_momentum();
  if (mom != 0.0) {
    var b = d;
    if (p_firstStep() == 0u) { b = mom * B[i] + (1.0 - p_dampening()) * d; }
    B[i] = b;
    d = select(b, d + mom * b, p_nesterov() != 0.0);
  }
  P[i] = p - p_lr() * d;
}
