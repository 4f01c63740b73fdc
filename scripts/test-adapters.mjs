// The adapter matrix: the kernel and autograd tests (every op against its CPU reference and by finite
// differences, the GAN layers' shapes, every kernel variant forced, capture against eager) under each
// WebGPU configuration this machine can give, one vitest run each. Prints a table (configuration,
// adapter, tests, passed, failed, skipped, time) and exits non-zero if any row failed.
//   npm run test:adapters                 # every row
//   npm run test:adapters -- --only gles  # rows whose name contains "gles"
// A row the machine cannot give (16-lane subgroups without AVX-512, Debian 12's Mesa off Debian 12)
// is skipped with the reason. The JSON of each run is kept under runs/adapters/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: opt } = parseArgs({ options: { only: { type: 'string' }, list: { type: 'boolean' } } });

/** The kernel subset: no CLI, soak, file or browser tests. */
export const KERNEL_TESTS = [
  'activation',
  'autograd',
  'batchnorm',
  'bce',
  'capture',
  'conv',
  'creation',
  'cross-entropy',
  'dropout-embedding',
  'elementwise',
  'fusion',
  'gan-layers',
  'limits',
  'matmul',
  'nn',
  'optim',
  'reduce',
  'shape',
  'variants',
].map((n) => `test/${n}.test.ts`);

/**
 * The 16-lane row's subset: the GAN layers with every variant forced (all the subgroup kernels, at
 * their sizes) and the adapter check. llvmpipe compiles its 512-bit code about 10× slower, and a
 * cold shader cache (as in CI) took the whole kernel subset past 9 minutes there.
 */
const WIDE_TESTS = ['limits', 'gan-layers', 'capture'].map((n) => `test/${n}.test.ts`);

const cpuFlags = (() => {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
})();

/** Debian 12's Mesa 22 GL beside the system's (scripts/stock-mesa-gl.sh): its environment, or why not. */
function stockMesaEnv() {
  const r = spawnSync('bash', [join(root, 'scripts/stock-mesa-gl.sh')], { encoding: 'utf8' });
  if (r.status !== 0) return { skip: r.stderr.trim().split('\n').pop() || `stock-mesa-gl.sh exited ${r.status}`, fatal: r.status !== 2 };
  const env = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/\$\{LD_LIBRARY_PATH:\+:\$LD_LIBRARY_PATH\}/, process.env.LD_LIBRARY_PATH ? `:${process.env.LD_LIBRARY_PATH}` : '');
  }
  return { env };
}

const ROWS = [
  { name: 'lavapipe, 4-lane subgroups', env: { LP_NATIVE_VECTOR_WIDTH: '128' }, expect: 'backend=vulkan;subgroups=4' },
  { name: 'lavapipe, 8-lane subgroups', env: { LP_NATIVE_VECTOR_WIDTH: '256' }, expect: 'backend=vulkan;subgroups=8' },
  {
    name: 'lavapipe, 16-lane subgroups',
    env: { LP_NATIVE_VECTOR_WIDTH: '512' },
    expect: 'backend=vulkan;subgroups=16',
    tests: WIDE_TESTS,
    skip: () => (/\bavx512f\b/.test(cpuFlags) ? null : 'this CPU has no AVX-512 (llvmpipe needs it for 512-bit vectors)'),
  },
  { name: 'lavapipe, subgroups refused', adapter: 'no-subgroups', expect: 'backend=vulkan' },
  { name: 'lavapipe, device at WebGPU default limits', adapter: 'default-limits' },
  { name: 'OpenGL ES (the system Mesa)', adapter: 'opengles', expect: 'backend=opengles' },
  { name: 'OpenGL ES, Debian 12 stock Mesa 22', adapter: 'opengles', expect: 'backend=opengles;adapter=Mesa 22\\.', stockMesa: true },
];

if (opt.list) {
  for (const r of ROWS) console.log(r.name);
  process.exit(0);
}

const outDir = join(root, 'runs', 'adapters');
mkdirSync(outDir, { recursive: true });
const results = [];
for (const row of ROWS) {
  if (opt.only && !row.name.toLowerCase().includes(opt.only.toLowerCase())) continue;
  let env = { ...row.env };
  let skip = row.skip?.() ?? null;
  if (!skip && row.stockMesa) {
    const m = stockMesaEnv();
    if (m.skip) {
      if (m.fatal) {
        results.push({ name: row.name, adapter: '', files: 0, tests: 0, passed: 0, failed: 1, skipped: 0, seconds: 0, note: m.skip });
        continue;
      }
      skip = m.skip;
    } else env = { ...env, ...m.env };
  }
  if (skip) {
    console.log(`\n== ${row.name}: skipped (${skip})`);
    results.push({ name: row.name, notRun: true, note: skip });
    continue;
  }
  const slug = row.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const json = join(outDir, `${slug}.json`);
  console.log(`\n== ${row.name}`);
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    // a cold shader cache compiles every kernel variant afresh: minutes, not the default 60 s, per test
    [
      join(root, 'node_modules/vitest/vitest.mjs'),
      'run',
      ...(row.tests ?? KERNEL_TESTS),
      '--testTimeout=600000',
      '--reporter=dot',
      '--reporter=json',
      `--outputFile.json=${json}`,
    ],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...env, WGSLGRAD_TEST_ADAPTER: row.adapter ?? 'default', WGSLGRAD_TEST_EXPECT: row.expect ?? '' },
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  let report = null;
  try {
    report = JSON.parse(readFileSync(json, 'utf8'));
  } catch {
    /* the run died before writing it */
  }
  const adapter = adapterOf(report);
  results.push({
    name: row.name,
    adapter,
    files: (row.tests ?? KERNEL_TESTS).length,
    tests: report?.numTotalTests ?? 0,
    passed: report?.numPassedTests ?? 0,
    failed: report ? report.numFailedTests + (r.status !== 0 && report.numFailedTests === 0 ? 1 : 0) : 1,
    skipped: (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0),
    seconds,
    note: r.status === 0 ? '' : report ? '' : `vitest exited ${r.status ?? r.signal}`,
  });
}

/** The adapter a run reported (test/limits.test.ts logs it as its first test's name). */
function adapterOf(report) {
  for (const f of report?.testResults ?? []) for (const t of f.assertionResults ?? []) if (t.title.startsWith('adapter: ')) return t.title.slice(9);
  return '';
}

const line = (cells) => `| ${cells.join(' | ')} |`;
console.log(`\n${line(['configuration', 'adapter', 'files', 'tests', 'passed', 'failed', 'skipped', 'time'])}`);
console.log(line(['---', '---', '--:', '--:', '--:', '--:', '--:', '--:']));
for (const r of results) {
  if (r.notRun) console.log(line([r.name, `not run: ${r.note}`, '', '', '', '', '', '']));
  else console.log(line([r.name, r.adapter || r.note, r.files, r.tests, r.passed, r.failed, r.skipped, `${r.seconds.toFixed(0)} s`]));
}
const failed = results.filter((r) => !r.notRun && r.failed > 0);
if (failed.length) {
  console.log(`\n${failed.length} configuration(s) failed: ${failed.map((r) => r.name).join('; ')}`);
  process.exit(1);
}
