// PNG output (pngjs): image grids and raw RGBA canvases, written atomically.
import { WgslgradError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

/** Writes an RGBA8 image as PNG to `path` (atomically, atomic.ts). */
export async function writePng(path: string, rgba: Uint8Array, width: number, height: number): Promise<void> {
  if (rgba.length !== width * height * 4)
    throw new WgslgradError('writePng', `got ${rgba.length} bytes, a ${width}×${height} RGBA image needs ${width * height * 4}`);
  const { PNG } = await import('pngjs');
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  const bytes = PNG.sync.write(png);
  await writeFileAtomic(path, bytes, 'writePng');
}

/** Options of {@link imageGrid} and {@link saveImageGrid}. */
export interface GridOptions {
  /** images per row (default: ceil(sqrt(n))) */
  cols?: number;
  /** pixels between tiles (default 2) */
  pad?: number;
  /** value range of the data mapped to black..white (default [-1, 1]) */
  range?: [number, number];
}

/** Lays out n grey images of h×w (row-major, n·h·w values) in a grid; returns RGBA and its size. */
export function imageGrid(
  data: Float32Array,
  n: number,
  h: number,
  w: number,
  opts: GridOptions = {},
): {
  /** width × height × 4 bytes */
  rgba: Uint8Array;
  /** the grid's width in pixels */
  width: number;
  /** the grid's height in pixels */
  height: number;
} {
  if (data.length !== n * h * w) throw new WgslgradError('imageGrid', `got ${data.length} values, ${n} images of ${h}×${w} need ${n * h * w}`);
  const cols = opts.cols ?? Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const pad = opts.pad ?? 2;
  const [lo, hi] = opts.range ?? [-1, 1];
  const width = cols * (w + pad) + pad;
  const height = rows * (h + pad) + pad;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = 40;
    rgba[4 * i + 3] = 255;
  }
  for (let k = 0; k < n; k++) {
    const ox = pad + (k % cols) * (w + pad);
    const oy = pad + Math.floor(k / cols) * (h + pad);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = Math.round(Math.min(1, Math.max(0, (data[(k * h + y) * w + x]! - lo) / (hi - lo))) * 255);
        const p = ((oy + y) * width + ox + x) * 4;
        rgba[p] = rgba[p + 1] = rgba[p + 2] = v;
      }
    }
  }
  return { rgba, width, height };
}

/** Writes a grid of grey images as PNG. */
export async function saveImageGrid(path: string, data: Float32Array, n: number, h: number, w: number, opts: GridOptions = {}): Promise<void> {
  const g = imageGrid(data, n, h, w, opts);
  await writePng(path, g.rgba, g.width, g.height);
}
