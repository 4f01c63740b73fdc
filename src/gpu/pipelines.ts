// Compiled compute pipelines, one per (shader file, entry point, specialisation constants), cached
// per device. Every kernel is prefixed with its constants, shaders/common.wgsl and the subgroup
// helpers, and compiled with the other entry points of its file left out (an entry point's
// constants are given only when it is compiled). The WGSL has one directive of wgslgrad's own:
// `// unroll` after a loop's opening brace writes the loop out before compilation (unrollLoops).
import { WgslgradError } from '../errors.js';
import { SHADERS } from '../shaders.generated.js';
import { gpuState } from './device.js';
import { baseOf, type KernelFile, wgslAccessors } from './layouts.js';

const PRELUDE = SHADERS.common ?? '';

export type Consts = Record<string, number | boolean>;

// Load sharing across lanes (see shaders/matmul.wgsl). With subgroups, share8(v, i) is lane i's v
// within the lane's group of 8 consecutive subgroup lanes (subgroups of 8, 16, 32 or 64 lanes hold
// whole groups of 8), and lane8() is the lane's index in its group. Without subgroups the kernels are
// specialised with SG = false and never use them. A kernel that shares calls sg_init() first: it
// numbers the lanes by an exclusive scan over the subgroup, which at a kernel's start, every lane
// active, is the subgroup_invocation_id builtin (an entry point parameter only a kernel compiled with
// `enable subgroups` may declare).
function sgPrelude(exact8: boolean): string {
  // With subgroups of exactly 8 lanes the source lane is uniform, which CPU implementations
  // turn into one broadcast rather than a per-lane permutation.
  const src = exact8 ? 'i' : '(sgl8_ & ~7u) | i';
  return `
var<private> sgl8_: u32;
fn sg_init() { sgl8_ = subgroupExclusiveAdd(1u); }
fn share8(v: f32, i: u32) -> f32 { return subgroupShuffle(v, ${src}); }
fn lane8() -> u32 { return sgl8_ & 7u; }
`;
}
const NO_SG_PRELUDE = `
fn sg_init() {}
fn share8(v: f32, i: u32) -> f32 { return v; }
fn lane8() -> u32 { return 0u; }
`;

// Loops written out before compilation: `for (var i = 0u; i < LIMIT; i++) { // unroll` with LIMIT a
// literal (`4u`), a specialisation constant (`TM`) or one divided by a literal (`TM / 8u`). The body is
// repeated with i replaced by each value, innermost loops too. Compilers for CPU adapters (llvmpipe)
// keep a loop they judge too long, and then index its arrays per lane through memory (software/matmul4.wgsl main4).
const UNROLL = /for \(var (\w+) = 0u; \1 < (\w+)(?: \/ (\d+)u)?; \1\+\+\) \{ \/\/ unroll\n/;

export function unrollLoops(src: string, consts: Consts): string {
  let out = src;
  for (let m = UNROLL.exec(out); m; m = UNROLL.exec(out)) {
    const [head, name, limitName, divisor] = m as unknown as [string, string, string, string | undefined];
    const lit = /^(\d+)u$/.exec(limitName);
    const base = lit ? Number(lit[1]) : consts[limitName];
    if (typeof base !== 'number') throw new WgslgradError('pipeline', `an unrolled loop's limit ${limitName} is not a literal or a numeric constant`);
    const limit = divisor === undefined ? base : Math.floor(base / Number(divisor));
    const start = m.index + head.length;
    let depth = 1;
    let end = start;
    for (; depth > 0; end++) {
      if (end >= out.length) throw new WgslgradError('pipeline', `an unrolled loop over ${name} has no closing brace`);
      if (out[end] === '{') depth++;
      else if (out[end] === '}') depth--;
    }
    const body = out.slice(start, end - 1);
    const use = new RegExp(`\\b${name}\\b`, 'g');
    let copies = '';
    for (let v = 0; v < limit; v++) copies += `{\n${body.replace(use, `${v}u`)}}\n`;
    out = out.slice(0, m.index) + copies + out.slice(end);
  }
  return out;
}

/** The source with the loops of one entry point's function unrolled (the other functions' stay loops). */
function unrollEntry(src: string, entry: string, consts: Consts): string {
  const at = src.indexOf(`fn ${entry}(`);
  if (at < 0 || !src.includes('// unroll')) return src;
  const next = src.indexOf('\n@compute', at);
  const end = next < 0 ? src.length : next;
  return src.slice(0, at) + unrollLoops(src.slice(at, end), consts) + src.slice(end);
}

/**
 * The source without the other entry points' functions: an entry point's constants are given only
 * when it is compiled, so another's (conv_transpose.wgsl's WIN in `main_few`) would be unresolved
 * where `main` is compiled. Module-scope declarations and helper functions stay.
 */
export function onlyEntry(src: string, entry: string): string {
  const head = /@compute[^\n]*\nfn (\w+)\(/g;
  let out = '';
  let from = 0;
  for (let m = head.exec(src); m; m = head.exec(src)) {
    if (m[1] === entry) continue;
    // the function's body: from its first brace to the one that closes it, braces in comments aside
    let i = src.indexOf('{', m.index);
    let depth = 0;
    for (; i >= 0 && i < src.length; i++) {
      // a comment: on to the line's end (past the source's end on its last line)
      if (src[i] === '/' && src[i + 1] === '/') i = src.indexOf('\n', i) >>> 0;
      else if (src[i] === '{') depth++;
      else if (src[i] === '}' && --depth === 0) break;
    }
    if (i < 0 || i >= src.length) throw new WgslgradError('pipeline', `entry point ${m[1]} has no closing brace`);
    out += src.slice(from, m.index);
    from = i + 1;
    head.lastIndex = from;
  }
  return out + src.slice(from);
}

function constLines(consts: Consts): string {
  let s = '';
  for (const [k, v] of Object.entries(consts)) {
    if (typeof v === 'boolean') s += `const ${k}: bool = ${v};\n`;
    else if (Number.isInteger(v) && v >= 0) s += `const ${k}: u32 = ${v}u;\n`;
    else if (Number.isInteger(v)) s += `const ${k}: i32 = ${v};\n`;
    else s += `const ${k}: f32 = ${v};\n`;
  }
  return s;
}

/**
 * A kernel file's WGSL: the file itself, after its base's declarations and helpers where it has one
 * (layouts.ts: the software adapters' variants of a family share its bindings and functions).
 */
export function kernelSource(file: string): string {
  const src = SHADERS[file];
  if (src === undefined) throw new WgslgradError('pipeline', `no shader named ${file}.wgsl in shaders/`);
  const base = baseOf(file);
  return base ? `${onlyEntry(kernelSource(base), '')}\n${src}` : src;
}

/** A compiled pipeline and the kernel file whose parameter layout its dispatches fill. */
export interface Kernel<K extends KernelFile = KernelFile> {
  readonly file: K;
  readonly gpu: GPUComputePipeline;
}

/** A compiled variant of an entry point: its constants (as given) and its pipeline. */
interface Variant {
  consts: Consts;
  kernel: Kernel;
}

let cache: { device: GPUDevice; pipelines: Map<string, Map<string, Variant[]>> } | null = null;

/** Whether `b` holds exactly the constants of `a` (the same names, the same values). */
function sameConsts(a: Consts, b: Consts): boolean {
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in a) n--;
  return n === 0;
}

/**
 * A compiled pipeline for (shader file, entry point, specialisation constants), cached per device
 * and looked up without building a key: by file, by entry point, then by comparing the constants
 * with each compiled variant's.
 */
export function pipeline<K extends KernelFile>(file: K, entry: string, consts: Consts = {}): Kernel<K> {
  const s = gpuState();
  if (!cache || cache.device !== s.device) cache = { device: s.device, pipelines: new Map() };
  let byEntry = cache.pipelines.get(file);
  if (!byEntry) {
    byEntry = new Map();
    cache.pipelines.set(file, byEntry);
  }
  let variants = byEntry.get(entry);
  if (!variants) {
    variants = [];
    byEntry.set(entry, variants);
  }
  let p: Kernel<K> | undefined;
  for (const v of variants) {
    if (sameConsts(v.consts, consts)) {
      p = v.kernel as Kernel<K>;
      break;
    }
  }
  if (!p) {
    const body = kernelSource(file);
    const sg = s.subgroupShare && consts.SG !== false;
    const code = `${sg ? 'enable subgroups;\n' : ''}${constLines({ ...consts, SG: sg })}${PRELUDE}${wgslAccessors(file)}${sg ? sgPrelude(s.subgroupExact8) : NO_SG_PRELUDE}\n${unrollEntry(onlyEntry(body, entry), entry, consts)}`;
    const module = s.device.createShaderModule({ code, label: `${file}.wgsl` });
    p = { file, gpu: s.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: entry }, label: `${file}.${entry}` }) };
    variants.push({ consts: { ...consts }, kernel: p });
  }
  return p;
}
