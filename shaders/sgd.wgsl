// SGD with momentum, dampening, Nesterov and L2 weight decay as torch.optim.SGD, over a flat range.
// pu: 0 n, 1 first step (momentum buffer starts as the gradient). pf: 0 lr, 1 momentum,
// 2 dampening, 3 weight decay, 4 nesterov (0/1)
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> B: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= pu(0u)) { return; }
  let p = P[i];
  var d = G[i] + pf(3u) * p;
  let mom = pf(1u);
  if (mom != 0.0) {
    var b = d;
    if (pu(1u) == 0u) { b = mom * B[i] + (1.0 - pf(2u)) * d; }
    B[i] = b;
    d = select(b, d + mom * b, pf(4u) != 0.0);
  }
  P[i] = p - pf(0u) * d;
}
