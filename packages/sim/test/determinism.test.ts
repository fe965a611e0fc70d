// Determinism: the same seed replays the same run; a failure names its seed; SEED replays it.
import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runSimulation, seedsFromEnv, simTest, type SimRunResult } from '@shoal/sim';
import { chatter } from './chatter.js';

t.test('the same seed gives the identical trace; another seed a different one', async (t) => {
  const first = await runSimulation(42, (sim) => chatter(sim).then(() => undefined));
  const again = await runSimulation(42, (sim) => chatter(sim).then(() => undefined));
  const other = await runSimulation(43, (sim) => chatter(sim).then(() => undefined));
  t.ok(first.ok, first.report);
  t.ok(first.traceCount > 3000, `a non-trivial run: ${first.traceCount} trace lines`);
  for (const fault of ['drop loss', 'duplicate', 'stream #', 'cut', 'crash n2', 'restart n2', 'pause n3', 'commit n1']) {
    t.ok(first.traceLines.some((l) => l.includes(fault)), `the trace shows "${fault}"`);
  }
  t.equal(again.traceDigest, first.traceDigest, 'same digest');
  t.equal(again.traceCount, first.traceCount);
  t.same(again.traceLines, first.traceLines, 'line for line');
  t.not(other.traceDigest, first.traceDigest, 'seed 43 differs');
});

const failing = async (sim: Parameters<Parameters<typeof runSimulation>[1]>[0]): Promise<void> => {
  const result = await chatter(sim, { durationMs: 800 });
  if ((result.datagramsSeen['n1'] ?? 0) > 0) throw new Error('failing on purpose');
};

t.test('a failure reports its seed with trace and log tails, and replays exactly', async (t) => {
  const failed: SimRunResult = await runSimulation(77, failing);
  t.equal(failed.ok, false);
  t.match(failed.report, /^seed=77: Error: failing on purpose\n/, 'the report starts with the seed and the error');
  t.match(failed.report, /replay: SEED=77 in the environment/);
  t.match(failed.report, new RegExp(`digest ${failed.traceDigest}`));
  t.match(failed.report, /last trace lines:\n {4}\d+\.\d{3} /);
  t.match(failed.report, /last log lines:\n {4}\d+\.\d{3} (debug|info) n\d /);
  const replay = await runSimulation(seedsFromEnv([1, 2, 3], { SEED: '77' })[0]!, failing);
  t.equal(replay.report, failed.report, 'the replay fails the same way');
  t.same(replay.traceLines, failed.traceLines, 'with the identical trace');
  t.same(seedsFromEnv([1, 2, 3], {}), [1, 2, 3], 'without SEED the listed seeds run');
  t.throws(() => seedsFromEnv([1], { SEED: 'x' }), /SEED must be an integer/);
});

t.test('simTest runs one subtest per seed and passes with the run', async (t) => {
  const digests: string[] = [];
  await simTest(t, 'two seeds', { seeds: [1, 2], onResult: (r) => digests.push(r.traceDigest) }, async (sim, st) => {
    const result = await chatter(sim, { durationMs: 300 });
    st.ok(Object.keys(result.datagramsSeen).length > 0, 'datagrams flowed');
  });
  t.equal(digests.length, 2);
  t.not(digests[0], digests[1]);
});

interface Child {
  code: number | null;
  out: string;
}

function runFixture(env: Record<string, string>): Promise<Child> {
  const script = fileURLToPath(new URL('./fixtures/seeded-failure.js', import.meta.url));
  // The child is a tap test of its own: keep the parent runner's TAP_* settings away from it.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TAP') && k !== 'SEED'));
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { env: { ...clean, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}\n${stderr}` });
    });
  });
}

function digestsBySeed(out: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const m of out.matchAll(/seed=(\d+): Error: failing on purpose[\s\S]*?digest: ([0-9a-f]{16})/g)) found.set(Number(m[1]), m[2]!);
  return found;
}

t.test('in a child process: a failing simTest prints seed=<n>, and SEED=<n> replays it', async (t) => {
  const all = await runFixture({});
  t.not(all.code, 0, 'the child fails');
  const listed = digestsBySeed(all.out);
  t.same([...listed.keys()].sort(), [5, 6, 7], 'each failing seed is reported');
  const one = await runFixture({ SEED: '6' });
  t.not(one.code, 0);
  const replayed = digestsBySeed(one.out);
  t.same([...replayed.keys()], [6], 'SEED=6 runs only seed 6');
  t.equal(replayed.get(6), listed.get(6), 'and replays it exactly (same trace digest)');
  t.match(one.out, /replay: SEED=6 in the environment/);
});
