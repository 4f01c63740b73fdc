// Embedding lookup: Y[i, d] = T[idx[i], d] for B indices into a [V, D] table; an index that is not
// an integer in [0, V) gives NaN rows and is reported in CHECK (src/gpu/checks.ts: code 1, the
// index's bits, V), which the next readback turns into an error naming it.
// grad: dT[v, d] = Σ_{i: idx[i] = v} G[i, d], one lane per table element (deterministic, no atomics).
@group(0) @binding(1) var<storage, read> IDX: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read_write> CHECK: array<atomic<u32>, 4>;

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = linear_id(gid, nwg, 256u);
  let B = p_B(); let V = p_V(); let D = p_D();
  if (k >= B * D) { return; }
  let i = k / D;
  let d = k - i * D;
  let f = IDX[i];
  let valid = f >= 0.0 && f < f32(V) && floor(f) == f;
  let row = select(0u, u32(f), valid);
  if (!valid && d == 0u) {
    atomicStore(&CHECK[1], bitcast<u32>(f));
    atomicStore(&CHECK[2], V);
    atomicStore(&CHECK[0], 1u);
  }
  Y[k] = select(bitcast<f32>(0x7fc00000u | (B & 0u)), T[row * D + d], valid);
}

@group(0) @binding(1) var<storage, read> IDXG: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> DT: array<f32>;

@compute @workgroup_size(256)
fn grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = linear_id(gid, nwg, 256u);
  let B = p_B(); let V = p_V(); let D = p_D();
  if (k >= V * D) { return; }
  let v = f32(k / D);
  let d = k % D;
  var acc = 0.0;
  for (var i = 0u; i < B; i++) {
    if (IDXG[i] == v) { acc += G[i * D + d]; }
  }
  DT[k] = acc;
}
