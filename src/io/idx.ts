// IDX files (MNIST's format, also Fashion-MNIST's): big-endian magic 0x0801 (labels, 1-D) or
// 0x0803 (images, 3-D), the dims, then unsigned bytes. Plain or gzip-compressed (.gz).
import { WgslgradError } from '../errors.js';

const OP = 'idx';

/** An IDX file's array (MNIST's format): its dims and its unsigned bytes. */
export interface IdxArray {
  /** the dims, outermost first */
  dims: number[];
  /** the values, row-major */
  data: Uint8Array;
}

/** Parses IDX bytes (already decompressed); `what` names the source in errors. */
export function parseIdx(bytes: Uint8Array, what: string): IdxArray {
  if (bytes.length < 4) throw new WgslgradError(OP, `${what}: ${bytes.length} bytes is too short for an IDX file`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, false);
  const type = (magic >> 8) & 0xff;
  const nd = magic & 0xff;
  if (magic >> 16 !== 0 || type !== 0x08 || nd < 1 || nd > 4) {
    throw new WgslgradError(
      OP,
      `${what}: magic number 0x${magic.toString(16).padStart(8, '0')} is not an IDX file of unsigned bytes (expected 0x00000801 or 0x00000803)`,
    );
  }
  if (bytes.length < 4 + 4 * nd) throw new WgslgradError(OP, `${what}: truncated in the header`);
  const dims = Array.from({ length: nd }, (_, i) => dv.getUint32(4 + 4 * i, false));
  const n = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * nd;
  if (bytes.length < start + n)
    throw new WgslgradError(OP, `${what}: truncated: the header promises ${n} values (${dims.join('×')}), the file holds ${bytes.length - start}`);
  return { dims, data: bytes.subarray(start, start + n) };
}

/** An IDX image set with its labels (MNIST's train or t10k split), from {@link loadIdxDataset}. */
export interface IdxDataset {
  /** count × rows × cols pixels, 0–255 */
  images: Uint8Array;
  /** one label a image */
  labels: Uint8Array;
  /** images */
  count: number;
  /** an image's height */
  rows: number;
  /** an image's width */
  cols: number;
  /** the label file read */
  labelsPath: string;
}

async function readMaybeGz(dir: string, base: string): Promise<{ bytes: Uint8Array; path: string }> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  for (const name of [base, `${base}.gz`, base.replace(/-idx(\d)-ubyte$/, '.idx$1-ubyte'), `${base.replace(/-idx(\d)-ubyte$/, '.idx$1-ubyte')}.gz`]) {
    const path = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(path);
    } catch {
      continue;
    }
    if (name.endsWith('.gz')) {
      const { gunzipSync } = await import('node:zlib');
      try {
        bytes = gunzipSync(bytes);
      } catch (e) {
        throw new WgslgradError(OP, `${path}: not a valid gzip file (${(e as Error).message})`);
      }
    }
    return { bytes, path };
  }
  throw new WgslgradError(OP, `${dir}: no ${base} (or ${base}.gz) found`);
}

/** Reads `<split>-images-idx3-ubyte` and `<split>-labels-idx1-ubyte` (or .gz) from dir; split is 'train' or 't10k'. */
export async function loadIdxDataset(dir: string, split: 'train' | 't10k'): Promise<IdxDataset> {
  const fs = await import('node:fs/promises');
  const st = await fs.stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new WgslgradError(OP, `data folder ${dir} does not exist`);
  const im = await readMaybeGz(dir, `${split}-images-idx3-ubyte`);
  const lb = await readMaybeGz(dir, `${split}-labels-idx1-ubyte`);
  const images = parseIdx(im.bytes, im.path);
  const labels = parseIdx(lb.bytes, lb.path);
  if (images.dims.length !== 3) throw new WgslgradError(OP, `${im.path}: has ${images.dims.length} dims, expected 3 (count, rows, cols)`);
  if (labels.dims.length !== 1) throw new WgslgradError(OP, `${lb.path}: has ${labels.dims.length} dims, expected 1`);
  const [count, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) throw new WgslgradError(OP, `${dir}: ${count} images but ${labels.dims[0]} labels`);
  return { images: images.data, labels: labels.data, count, rows, cols, labelsPath: lb.path };
}
