// Prepended to every kernel. Binding 0 of every kernel is its parameter block: 48 u32 followed by
// 16 f32 (256 bytes, one slot of the per-submit parameter arena).
@group(0) @binding(0) var<uniform> P: array<vec4<u32>, 16>;
fn pu(i: u32) -> u32 { return P[i >> 2u][i & 3u]; }
fn pf(i: u32) -> f32 { let j = 48u + i; return bitcast<f32>(P[j >> 2u][j & 3u]); }
// Linear invocation index of a 1-D kernel whose workgroups are folded into x and y.
fn linear_id(gid: vec3<u32>, nwg: vec3<u32>, wg: u32) -> u32 { return gid.x + gid.y * nwg.x * wg; }
