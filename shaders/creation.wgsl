// Filling and counter-based random numbers, reproducible from a seed on any device:
// element i of a stream with key (p_k0(), p_k1()) uses stream_unit of shaders/common.wgsl, the same
// function as src/cpu/creation.ts. rand: [lo, hi); randn: Box–Muller from hash(2i), hash(2i+1).
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;

fn rnd_unit(i: u32) -> f32 { return stream_unit(p_k0(), p_k1(), i); }

@compute @workgroup_size(256)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  Y[i] = p_a();
}

@compute @workgroup_size(256)
fn rand(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  Y[i] = p_a() + (p_b() - p_a()) * rnd_unit(i);
}

@compute @workgroup_size(256)
fn randn(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg, 256u);
  if (i >= p_n()) { return; }
  let u1 = 1.0 - rnd_unit(2u * i);      // (0, 1]
  let u2 = rnd_unit(2u * i + 1u);
  let z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
  Y[i] = p_a() + p_b() * z;
}
