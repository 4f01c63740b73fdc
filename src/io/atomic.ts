// Files are written whole or not at all: to a temp name unique to this write, flushed to disk,
// renamed over the target, and the folder flushed so the rename itself survives a crash.
import { WgslgradError } from '../errors.js';

let counter = 0;

/** Writes `data` to `path` atomically; an error names `op` and the path. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, op = 'writeFile'): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new WgslgradError(op, `path must be a non-empty string, got ${JSON.stringify(path) ?? typeof path}`);
  const fs = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const tmp = `${path}.${process.pid}.${++counter}.tmp`;
  try {
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new WgslgradError(op, `cannot write ${path}: ${(e as Error).message}`);
  }
  // the rename is durable once the folder's entry is on disk (not every platform lets a folder be opened)
  try {
    const dir = await fs.open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    /* best effort */
  }
}
