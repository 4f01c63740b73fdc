// Kernel profiler: while a profile is open, every dispatch gets its own compute pass whose begin
// and end timestamps are written to a query set; at each submit the queries are resolved and read
// back, and the durations are summed per pipeline label.
import { gpuState } from './device.js';
import { flush, setPassTimer } from './recorder.js';
import { sync } from './transfer.js';

const PROFILE_QUERIES = 2 * 2048;
const MAP_READ_USAGE = 0x01 /* MAP_READ */ | 0x08; /* COPY_DST */

/** One row of {@link profileKernels}: a kernel's summed GPU time. */
export interface KernelTime {
  /** `file.entry` (or `software/file.entry`), as the trace names it */
  kernel: string;
  /** GPU milliseconds over all its dispatches */
  ms: number;
  /** its dispatches */
  count: number;
}

/**
 * Runs `fn` (which records GPU work), waits for it, and returns the GPU time of each kernel from
 * timestamp queries, summed per kernel (`file.entry`), longest first. Null when the device has no
 * timestamp queries. Meant for benchmarks: every dispatch gets its own compute pass meanwhile.
 */
export async function profileKernels(fn: () => void): Promise<KernelTime[] | null> {
  const s = gpuState();
  if (!s.hasTimestamps) {
    fn();
    await sync();
    return null;
  }
  flush();
  const { device } = s;
  const querySet = device.createQuerySet({ type: 'timestamp', count: PROFILE_QUERIES });
  const resolveBuf = device.createBuffer({ size: PROFILE_QUERIES * 8, usage: 0x0200 /* QUERY_RESOLVE */ | 0x0004 /* COPY_SRC */ });
  const labels: string[] = [];
  const totals = new Map<string, { ms: number; count: number }>();
  const reads: Promise<void>[] = [];
  setPassTimer({
    full: () => labels.length * 2 >= PROFILE_QUERIES,
    pass(label) {
      const q = labels.length * 2;
      labels.push(label);
      return { timestampWrites: { querySet, beginningOfPassWriteIndex: q, endOfPassWriteIndex: q + 1 } };
    },
    resolve(enc) {
      if (labels.length === 0) return null;
      const n = labels.length * 2;
      const read = device.createBuffer({ size: n * 8, usage: MAP_READ_USAGE });
      enc.resolveQuerySet(querySet, 0, n, resolveBuf, 0);
      enc.copyBufferToBuffer(resolveBuf, 0, read, 0, n * 8);
      const done = labels.splice(0);
      // mapped only once the encoder holding the copy has been submitted
      return () => {
        reads.push(
          (async () => {
            await read.mapAsync(1 /* READ */);
            const t = new BigUint64Array(read.getMappedRange());
            done.forEach((label, i) => {
              const e = totals.get(label) ?? { ms: 0, count: 0 };
              e.ms += Number(t[2 * i + 1]! - t[2 * i]!) / 1e6;
              e.count++;
              totals.set(label, e);
            });
            read.unmap();
            read.destroy();
          })(),
        );
      };
    },
  });
  try {
    fn();
    flush();
  } finally {
    setPassTimer(null);
  }
  await s.wait(device.queue.onSubmittedWorkDone());
  await s.wait(Promise.all(reads));
  querySet.destroy();
  resolveBuf.destroy();
  return [...totals].map(([kernel, t]) => ({ kernel, ms: t.ms, count: t.count })).sort((a, b) => b.ms - a.ms);
}
