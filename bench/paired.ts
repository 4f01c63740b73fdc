// Paired rounds against PyTorch on the CPU. On a machine without a GPU our kernels and PyTorch's run
// on the same cores, whose speed drifts by up to 2× within an hour, so a ratio taken from two blocks
// of runs minutes apart says as much about the hour as about the code. Here bench/torch_step.py
// --serve holds the same workloads built and warmed in a second process, and each round times a few
// runs of ours (op by op and replayed, for the steps) and a few of PyTorch's (and of TF.js wasm's,
// in this process, for the matmul) right after one another, alternating which side goes first. The
// ratio of a round is the peer's median ÷ ours (above 1, wgslgrad is faster); a row reports the
// median of the rounds' ratios and their range. Only one process computes at a time: the other
// waits on its pipe.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as wg from '../src/index.js';
import { wallTimes } from './harness.js';

/** One of our implementations of a paired workload: one run, waited for. */
export type Run = () => Promise<void>;

export interface PairedWorkload {
  name: string;
  /** our implementations by impl name (as in the result rows: 'wgslgrad', 'wgslgrad-replay') */
  ours: Record<string, Run>;
  /** peers run in this process (TF.js wasm), by impl name, beside PyTorch's */
  peers?: Record<string, Run>;
  /** runs of each side in a round */
  reps: number;
}

export interface Ratio {
  median: number;
  min: number;
  max: number;
}

export interface PairedRow {
  workload: string;
  /** per round: the median ms of each implementation, by impl name */
  rounds: Array<Record<string, number>>;
  /** per peer, per our impl: median, min and max over the rounds of (the peer's median ÷ ours) */
  ratio: Record<string, Record<string, Ratio>>;
}

/**
 * Runs `rounds` rounds of every workload against `python script --serve` (its other arguments in
 * `args`); the rows, or a note saying why none could be measured.
 */
export async function pairedRounds(
  python: string,
  args: string[],
  workloads: PairedWorkload[],
  rounds: number,
  torchImpl: string,
): Promise<{ rows: PairedRow[]; note: string }> {
  if (workloads.length === 0) return { rows: [], note: 'no paired workload selected' };
  const child = spawn(python, [...args, '--serve', workloads.map((w) => w.name).join(',')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  // a process that cannot start (or dies) ends its stdout, which reply() reports with this
  child.on('error', (e) => {
    stderr += `\n${e.message}`;
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  // a reply line, or an error once the process has ended or `ms` have passed without one
  const reply = async (ms: number): Promise<Record<string, unknown>> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply from torch_step.py --serve within ${ms / 1000} s`)), ms);
    });
    try {
      const next = await Promise.race([lines.next(), timeout]);
      if (next.done) throw new Error(`torch_step.py --serve ended: ${stderr.trim().split('\n').pop() ?? ''}`);
      const msg = JSON.parse(next.value) as Record<string, unknown>;
      if (typeof msg.error === 'string') throw new Error(`torch_step.py --serve: ${msg.error}`);
      return msg;
    } finally {
      clearTimeout(timer);
    }
  };
  const torchRun = async (name: string, reps: number): Promise<number> => {
    child.stdin.write(`${name} ${reps}\n`);
    const msg = await reply(600_000);
    return median(msg.ms as number[]);
  };
  const ourRun = async (run: Run, reps: number): Promise<number> => median(await wallTimes(run, reps));
  try {
    await reply(600_000); // built and warmed
    for (const w of workloads) for (const run of Object.values(w.ours)) for (let i = 0; i < 2; i++) await run(); // ours warmed too
    const rows: PairedRow[] = workloads.map((w) => ({ workload: w.name, rounds: [], ratio: {} }));
    for (let r = 0; r < rounds; r++) {
      for (const [i, w] of workloads.entries()) {
        const round: Record<string, number> = {};
        const peers = async () => {
          round[torchImpl] = await torchRun(w.name, w.reps);
          for (const [impl, run] of Object.entries(w.peers ?? {})) round[impl] = await ourRun(run, w.reps);
        };
        // alternate which side goes first, so that a drift within a round favours neither
        if (r % 2 === 1) await peers();
        for (const [impl, run] of Object.entries(w.ours)) round[impl] = await ourRun(run, w.reps);
        if (r % 2 === 0) await peers();
        rows[i]!.rounds.push(round);
      }
    }
    for (const [i, row] of rows.entries()) {
      const w = workloads[i]!;
      for (const peer of [torchImpl, ...Object.keys(w.peers ?? {})]) {
        row.ratio[peer] = {};
        for (const impl of Object.keys(w.ours)) {
          const q = row.rounds.map((x) => x[peer]! / x[impl]!);
          row.ratio[peer][impl] = { median: median(q), min: Math.min(...q), max: Math.max(...q) };
        }
      }
    }
    return { rows, note: `${rounds} rounds, ${workloads.map((w) => `${w.name} ${w.reps}`).join(', ')} runs a side a round` };
  } catch (ex) {
    return { rows: [], note: `failed: ${ex instanceof Error ? ex.message : String(ex)}` };
  } finally {
    child.stdin.end();
    child.kill();
    await wg.sync();
  }
}

/** The middle value (the mean of the middle two for an even count). */
function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** The paired table: per workload, peer and impl, the median ratio over the rounds and its range. */
export function printPaired(rows: PairedRow[]): void {
  if (rows.length === 0) return;
  console.log("\npaired rounds (the peer's median ÷ ours in each round, alternating; above 1, wgslgrad is faster)");
  console.log(
    `${'workload'.padEnd(22)}${'impl'.padEnd(18)}${'peer'.padEnd(14)}${'ratio (median)'.padStart(15)}${'range'.padStart(16)}${'ours ms'.padStart(10)}${'peer ms'.padStart(10)}`,
  );
  for (const row of rows) {
    for (const [peer, byImpl] of Object.entries(row.ratio)) {
      for (const [impl, r] of Object.entries(byImpl)) {
        const ours = median(row.rounds.map((x) => x[impl]!));
        const theirs = median(row.rounds.map((x) => x[peer]!));
        const d = ours < 10 ? 2 : 1;
        console.log(
          `${row.workload.padEnd(22)}${impl.padEnd(18)}${peer.padEnd(14)}${`×${r.median.toFixed(2)}`.padStart(15)}${`×${r.min.toFixed(2)}–${r.max.toFixed(2)}`.padStart(16)}${ours.toFixed(d).padStart(10)}${theirs.toFixed(d).padStart(10)}`,
        );
      }
    }
  }
}
