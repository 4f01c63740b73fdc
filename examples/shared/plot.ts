// Line charts and image composites drawn into RGBA buffers, written with wg.io.writePng.
import * as wg from '../../src/index.js';

// 3×5 bitmap font: each glyph is 5 rows of 3 bits (most significant bit = left column).
const FONT: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 1, 1, 1],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2],
  '-': [0, 0, 7, 0, 0],
  '(': [1, 2, 2, 2, 1],
  ')': [4, 2, 2, 2, 4],
  ':': [0, 2, 0, 2, 0],
  '/': [1, 1, 2, 4, 4],
  ' ': [0, 0, 0, 0, 0],
  '=': [0, 7, 0, 7, 0],
  ',': [0, 0, 0, 2, 4],
  '|': [2, 2, 2, 2, 2],
  A: [2, 5, 7, 5, 5],
  B: [6, 5, 6, 5, 6],
  C: [7, 4, 4, 4, 7],
  D: [6, 5, 5, 5, 6],
  E: [7, 4, 6, 4, 7],
  F: [7, 4, 6, 4, 4],
  G: [7, 4, 5, 5, 7],
  H: [5, 5, 7, 5, 5],
  I: [7, 2, 2, 2, 7],
  J: [1, 1, 1, 5, 7],
  K: [5, 5, 6, 5, 5],
  L: [4, 4, 4, 4, 7],
  M: [5, 7, 7, 5, 5],
  N: [6, 5, 5, 5, 5],
  O: [7, 5, 5, 5, 7],
  P: [7, 5, 7, 4, 4],
  Q: [7, 5, 5, 7, 1],
  R: [6, 5, 6, 5, 5],
  S: [7, 4, 7, 1, 7],
  T: [7, 2, 2, 2, 2],
  U: [5, 5, 5, 5, 7],
  V: [5, 5, 5, 5, 2],
  W: [5, 5, 7, 7, 5],
  X: [5, 5, 2, 5, 5],
  Y: [5, 5, 2, 2, 2],
  Z: [7, 1, 2, 4, 7],
};

export type RGB = [number, number, number];

export class Canvas {
  readonly rgba: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
    bg: RGB = [255, 255, 255],
  ) {
    this.rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.rgba.set([...bg, 255], i * 4);
  }
  px(x: number, y: number, c: RGB): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.rgba.set(c, (y * this.width + x) * 4);
  }
  line(x0: number, y0: number, x1: number, y1: number, c: RGB): void {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= n; i++) this.px(x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, c);
  }
  rect(x: number, y: number, w: number, h: number, c: RGB): void {
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) this.px(x + i, y + j, c);
  }
  /** Text in the 3×5 font at `scale`; lower-case letters are drawn as capitals. */
  text(x: number, y: number, s: string, c: RGB = [0, 0, 0], scale = 2): number {
    for (const ch of s.toUpperCase()) {
      const g = FONT[ch] ?? FONT[' ']!;
      g.forEach((row, r) => {
        for (let b = 0; b < 3; b++) if (row & (4 >> b)) this.rect(x + b * scale, y + r * scale, scale, scale, c);
      });
      x += 4 * scale;
    }
    return x;
  }
  blit(src: { rgba: Uint8Array; width: number; height: number }, ox: number, oy: number): void {
    for (let y = 0; y < src.height; y++) {
      const row = src.rgba.subarray(y * src.width * 4, (y + 1) * src.width * 4);
      if (oy + y < this.height) this.rgba.set(row.subarray(0, Math.max(0, Math.min(src.width, this.width - ox)) * 4), ((oy + y) * this.width + ox) * 4);
    }
  }
  save(path: string): Promise<void> {
    return wg.io.writePng(path, this.rgba, this.width, this.height);
  }
}

export interface Series {
  name: string;
  color: RGB;
  xs: number[];
  ys: number[];
}

const fmtNum = (v: number): string => (Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/** A line chart with axes, ticks, a title, a legend and optional horizontal reference lines. */
export function linePlot(
  title: string,
  xLabel: string,
  series: Series[],
  opts: { hlines?: Array<{ y: number; label: string }>; width?: number; height?: number } = {},
): Canvas {
  const W = opts.width ?? 800;
  const H = opts.height ?? 480;
  const c = new Canvas(W, H);
  const L = 70,
    R = 20,
    T = 40,
    B = 50;
  const xs = series.flatMap((s) => s.xs);
  const ys = series
    .flatMap((s) => s.ys)
    .concat((opts.hlines ?? []).map((h) => h.y))
    .filter(Number.isFinite);
  let x0 = Math.min(...xs),
    x1 = Math.max(...xs);
  let y0 = Math.min(...ys),
    y1 = Math.max(...ys);
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const padY = (y1 - y0) * 0.05;
  y0 -= padY;
  y1 += padY;
  const X = (v: number) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const Y = (v: number) => H - B - ((v - y0) / (y1 - y0)) * (H - T - B);
  c.text(L, 12, title, [0, 0, 0], 2);
  const xWhole = xs.every(Number.isInteger); // steps: label the ticks as whole numbers
  for (let i = 0; i <= 5; i++) {
    const yv = y0 + ((y1 - y0) * i) / 5;
    c.line(L, Y(yv), W - R, Y(yv), [225, 225, 225]);
    c.text(4, Y(yv) - 5, fmtNum(yv), [60, 60, 60], 2);
    const xv = x0 + ((x1 - x0) * i) / 5;
    c.line(X(xv), H - B, X(xv), H - B + 5, [0, 0, 0]);
    c.text(X(xv) - 12, H - B + 10, xWhole ? String(Math.round(xv)) : fmtNum(xv), [60, 60, 60], 2);
  }
  c.line(L, T, L, H - B, [0, 0, 0]);
  c.line(L, H - B, W - R, H - B, [0, 0, 0]);
  c.text(W / 2 - xLabel.length * 4, H - 18, xLabel, [0, 0, 0], 2);
  for (const h of opts.hlines ?? []) {
    for (let x = L; x < W - R; x += 6) c.line(x, Y(h.y), x + 3, Y(h.y), [150, 150, 150]);
    c.text(W - R - h.label.length * 8 - 4, Y(h.y) - 14, h.label, [120, 120, 120], 2);
  }
  for (const s of series) {
    for (let i = 1; i < s.xs.length; i++) {
      if (Number.isFinite(s.ys[i - 1]!) && Number.isFinite(s.ys[i]!)) c.line(X(s.xs[i - 1]!), Y(s.ys[i - 1]!), X(s.xs[i]!), Y(s.ys[i]!), s.color);
    }
  }
  let lx = L + 10;
  for (const s of series) {
    c.rect(lx, T + 6, 14, 10, s.color);
    lx = c.text(lx + 20, T + 6, s.name, [0, 0, 0], 2) + 16;
  }
  return c;
}

/** Tiles images (grids) left to right, `cols` per row, each with a caption above it. */
export function composite(tiles: Array<{ rgba: Uint8Array; width: number; height: number; caption: string }>, cols: number): Canvas {
  const tw = Math.max(...tiles.map((t) => t.width));
  const th = Math.max(...tiles.map((t) => t.height)) + 16;
  const rows = Math.ceil(tiles.length / cols);
  const c = new Canvas(cols * (tw + 8) + 8, rows * (th + 8) + 8, [255, 255, 255]);
  tiles.forEach((t, i) => {
    const ox = 8 + (i % cols) * (tw + 8);
    const oy = 8 + Math.floor(i / cols) * (th + 8);
    c.text(ox, oy, t.caption, [0, 0, 0], 2);
    c.blit(t, ox, oy + 16);
  });
  return c;
}
