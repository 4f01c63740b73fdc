// Formatting shared by the examples' progress lines.

/** Seconds as 5m07s (or 42s); '?' for a rate not known yet. */
export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s); // whole seconds first, so 179.6 s reads 3m00s, not 2m60s
  const m = Math.floor(t / 60);
  return m > 0 ? `${m}m${String(t % 60).padStart(2, '0')}s` : `${t}s`;
}
