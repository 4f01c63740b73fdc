// The safetensors format: 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}, raw
// little-endian data. Written to a unique temp file, flushed and renamed (atomic.ts), so a crash
// never leaves half a file. Reading checks what the reference implementation checks: the header,
// every tensor's dtype, shape and byte range, ranges that cover the data without gaps or overlaps,
// and string metadata.
import { fmtShape, WgslgradError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import { keep } from '../scope.js';
import { Tensor } from '../tensor.js';
import { writeFileAtomic } from './atomic.js';

/** Tensors stored as int64 (PyTorch's dtype for BatchNorm's num_batches_tracked); they hold whole numbers. */
const int64 = new WeakSet<Tensor>();

/** @internal Marks a tensor to be written as I64 (values rounded), as PyTorch stores it. */
export function storeAsInt64(t: Tensor): Tensor {
  int64.add(t);
  return t;
}

/** Bytes per element of the dtypes read; all are converted to float32. */
const DTYPES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, F64: 8 };

/** Little-endian elements of `dtype` → float32. */
function toF32(dtype: string, src: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  if (dtype === 'F32') new Uint8Array(out.buffer).set(src.subarray(0, n * 4));
  else if (dtype === 'F64') for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
  else if (dtype === 'I64') for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
  else if (dtype === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = dv.getUint16(i * 2, true) << 16;
  } else {
    // F16: sign, 5-bit exponent, 10-bit fraction
    for (let i = 0; i < n; i++) {
      const h = dv.getUint16(i * 2, true);
      const e = (h >> 10) & 0x1f;
      const f = h & 0x3ff;
      const v = e === 0 ? f * 2 ** -24 : e === 31 ? (f ? Number.NaN : Number.POSITIVE_INFINITY) : (1 + f / 1024) * 2 ** (e - 15);
      out[i] = h & 0x8000 ? -v : v;
    }
  }
  return out;
}

const OP_SAVE = 'saveSafetensors';
const OP_LOAD = 'loadSafetensors';

/** Serialises float32 tensors (read back from the GPU) into safetensors bytes. */
export async function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  if (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors) || tensors instanceof Tensor)
    throw new WgslgradError(
      OP_SAVE,
      `tensors must be an object of named tensors, got ${tensors === null ? 'null' : Array.isArray(tensors) ? 'an array' : tensors instanceof Tensor ? 'one Tensor' : typeof tensors}`,
    );
  if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)))
    throw new WgslgradError(OP_SAVE, `metadata must be an object of strings, got ${metadata === null ? 'null' : typeof metadata}`);
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string') throw new WgslgradError(OP_SAVE, `metadata value ${k} is ${typeof v}, expected a string`);
    header.__metadata__ = metadata;
  }
  let off = 0;
  const datas: Uint8Array[] = [];
  for (const name of names) {
    const t = tensors[name];
    if (!(t instanceof Tensor)) throw new WgslgradError(OP_SAVE, `${name} is not a Tensor`);
    if (name === '__metadata__') throw new WgslgradError(OP_SAVE, 'a tensor cannot be named __metadata__');
    const f = await t.toArray();
    let data: Uint8Array;
    if (int64.has(t)) {
      const b = new BigInt64Array(f.length);
      for (let i = 0; i < f.length; i++) b[i] = BigInt(Math.round(f[i]!));
      data = new Uint8Array(b.buffer);
    } else data = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    header[name] = { dtype: int64.has(t) ? 'I64' : 'F32', shape: [...t.shape], data_offsets: [off, off + data.byteLength] };
    off += data.byteLength;
    datas.push(data);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8); // data starts 8-byte aligned
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const d of datas) {
    out.set(d, p);
    p += d.byteLength;
  }
  return out;
}

/** What {@link readSafetensors} and {@link decodeSafetensors} return. */
export interface SafetensorsContent {
  /** the tensors by name, on the GPU, float32 */
  tensors: Record<string, Tensor>;
  /** the file's __metadata__ strings */
  metadata: Record<string, string>;
  /** tensors stored in another dtype (F16, BF16, I64, F64), by name: converted to float32 on reading */
  converted: Record<string, string>;
}

/** Parses safetensors bytes into tensors on the GPU; every inconsistency is a WgslgradError. */
export function decodeSafetensors(bytes: Uint8Array, what = 'data'): SafetensorsContent {
  if (bytes.length < 8) throw new WgslgradError(OP_LOAD, `${what} is truncated: ${bytes.length} bytes, a safetensors file has at least 8`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (hlen > bytes.length - 8)
    throw new WgslgradError(OP_LOAD, `${what}: the header says it is ${hlen} bytes but only ${bytes.length - 8} follow (truncated file?)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
  } catch (e) {
    throw new WgslgradError(OP_LOAD, `${what}: the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new WgslgradError(OP_LOAD, `${what}: the header is not a JSON object`);
  const dataLen = bytes.length - 8 - hlen;
  const meta = header.__metadata__ ?? {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta))
    throw new WgslgradError(OP_LOAD, `${what}: __metadata__ is ${JSON.stringify(meta)}, expected an object of strings`);
  for (const [k, v] of Object.entries(meta))
    if (typeof v !== 'string') throw new WgslgradError(OP_LOAD, `${what}: __metadata__ value ${k} is ${JSON.stringify(v)}, expected a string`);
  const metadata = meta as Record<string, string>;
  // the tensors' byte ranges must tile the data: sorted by start, each begins where the last ended
  const ranges = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, info]) => ({ name, offs: ((info ?? {}) as { data_offsets?: unknown }).data_offsets }))
    .filter(
      (r): r is { name: string; offs: [number, number] } => Array.isArray(r.offs) && r.offs.length === 2 && r.offs.every((o) => Number.isInteger(o) && o >= 0),
    )
    .sort((a, b) => a.offs[0] - b.offs[0] || a.offs[1] - b.offs[1]);
  let end = 0;
  for (const r of ranges) {
    if (r.offs[0] < end)
      throw new WgslgradError(OP_LOAD, `${what}: tensor ${r.name}'s data_offsets [${r.offs}] overlap the tensor before it (which ends at ${end})`);
    if (r.offs[0] > end) throw new WgslgradError(OP_LOAD, `${what}: tensor ${r.name}'s data_offsets [${r.offs}] leave a gap after byte ${end}`);
    end = Math.max(end, r.offs[1]);
  }
  if (ranges.length && end < dataLen) throw new WgslgradError(OP_LOAD, `${what}: the tensors cover ${end} bytes of data, the file holds ${dataLen}`);
  const tensors: Record<string, Tensor> = {};
  const converted: Record<string, string> = {};
  const made: Tensor[] = [];
  try {
    for (const [name, info] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const { dtype, shape, data_offsets: offs } = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof dtype !== 'string' || !(dtype in DTYPES))
        throw new WgslgradError(OP_LOAD, `${what}: tensor ${name} has dtype ${JSON.stringify(dtype)}, expected one of ${Object.keys(DTYPES).join(', ')}`);
      const size = DTYPES[dtype]!;
      if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
        throw new WgslgradError(OP_LOAD, `${what}: tensor ${name} has shape ${JSON.stringify(shape)}`);
      if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0))
        throw new WgslgradError(OP_LOAD, `${what}: tensor ${name} has data_offsets ${JSON.stringify(offs)}`);
      const [b, e] = offs as [number, number];
      const n = (shape as number[]).reduce((a, c) => a * c, 1);
      if (e < b || e - b !== n * size)
        throw new WgslgradError(
          OP_LOAD,
          `${what}: tensor ${name} of shape ${fmtShape(shape as number[])} (${dtype}) needs ${n * size} bytes, its data_offsets [${b}, ${e}] give ${e - b}`,
        );
      if (e > dataLen) throw new WgslgradError(OP_LOAD, `${what}: tensor ${name} ends at byte ${e} of the data, which has only ${dataLen} (truncated file?)`);
      const start = bytes.byteOffset + 8 + hlen + b;
      const copy = toF32(dtype, new Uint8Array(bytes.buffer, start, n * size), n);
      if (dtype !== 'F32') converted[name] = dtype;
      const t = keep(tensor(copy, shape as number[]));
      made.push(t);
      tensors[name] = t;
    }
  } catch (err) {
    for (const t of made) t.dispose();
    throw err;
  }
  return { tensors, metadata, converted };
}

/** Writes tensors (and string metadata) as a safetensors file: to `path.tmp`, then renamed. */
export async function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new WgslgradError(OP_SAVE, `path must be a non-empty string, got ${JSON.stringify(path) ?? typeof path}`);
  await writeFileAtomic(path, await encodeSafetensors(tensors, metadata), OP_SAVE);
}

/** Reads a safetensors file with its metadata. */
export async function readSafetensors(path: string): Promise<SafetensorsContent> {
  if (typeof path !== 'string' || path === '') throw new WgslgradError(OP_LOAD, `path must be a non-empty string, got ${JSON.stringify(path) ?? typeof path}`);
  const fs = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (e) {
    throw new WgslgradError(OP_LOAD, `cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeSafetensors(bytes, path);
}

/** Reads a safetensors file into tensors by name. */
export async function loadSafetensors(path: string): Promise<Record<string, Tensor>> {
  return (await readSafetensors(path)).tensors;
}
