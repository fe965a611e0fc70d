/**
 * Seeded runner: runs a scenario on a fresh Sim per seed and turns a failure into a report
 * that names the seed, so that the run can be replayed exactly.
 *
 * Uncaught errors thrown by node code inside an event (a timer callback, a datagram handler)
 * stop the run and fail the scenario like any other error. A rejected promise that nobody
 * handles is not an error of the run: Node reports it for the whole test file.
 *
 * `runSimulation(seed, scenario)` never throws: it returns whether the scenario passed, its
 * error, the trace (lines and digest) and a report. On failure the report starts with
 * `seed=<n>` and ends with the tail of the trace and of the simulation's log. `simTest` wraps it
 * for tap: one subtest per seed, named `seed=<n>`, failing with the report. Setting `SEED=<n>`
 * in the environment runs only that seed, whatever the test lists — the replay of a failure.
 */
import { Sim, type SimOptions } from './sim.js';
import { SimConfigError } from './errors.js';

export type SimScenario = (sim: Sim) => Promise<void> | void;

export interface SimRunResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly error: unknown;
  /** One line on success; on failure the seed, the error, and the trace and log tails. */
  readonly report: string;
  /** Set when the run failed. */
  readonly failure: SimFailureDetails | undefined;
  readonly traceDigest: string;
  readonly traceLines: readonly string[];
  readonly traceCount: number;
  readonly endMs: number;
}

export type RunOptions = Omit<SimOptions, 'seed'> & {
  /** Trace and log lines quoted in a failure report. Default 20. */
  reportTailLines?: number;
};

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** What a failure report holds, also handed to tap as YAML diagnostics by simTest. */
export type SimFailureDetails = {
  readonly replay: string;
  readonly atMs: number;
  readonly events: number;
  readonly traceLines: number;
  readonly digest: string;
  readonly traceTail: readonly string[];
  readonly logTail: readonly string[];
};

function failureDetails(sim: Sim, tailLines: number): SimFailureDetails {
  return {
    replay: `SEED=${sim.seed} in the environment runs exactly this seed again`,
    atMs: sim.nowMs,
    events: sim.stats.eventsRun,
    traceLines: sim.trace.count,
    digest: sim.trace.digest(),
    traceTail: sim.trace.tail(tailLines),
    logTail: sim.logTail(tailLines),
  };
}

function failureReport(seed: number, err: unknown, d: SimFailureDetails): string {
  const indent = (lines: readonly string[]): string => (lines.length > 0 ? lines.map((l) => `    ${l}`).join('\n') : '    (none)');
  return [
    `seed=${seed}: ${describeError(err)}`,
    `  replay: ${d.replay}`,
    `  at t=${d.atMs.toFixed(3)} ms after ${d.events} events; trace of ${d.traceLines} lines, digest ${d.digest}`,
    `  last trace lines:`,
    indent(d.traceTail),
    `  last log lines:`,
    indent(d.logTail),
  ].join('\n');
}

/** Runs `scenario` on a new Sim seeded with `seed`; never throws. */
export async function runSimulation(seed: number, scenario: SimScenario, opts: RunOptions = {}): Promise<SimRunResult> {
  const { reportTailLines = 20, ...simOpts } = opts;
  const sim = new Sim({ ...simOpts, seed });
  let error: unknown;
  let ok = true;
  try {
    await scenario(sim);
  } catch (err) {
    ok = false;
    error = err;
  }
  const failure = ok ? undefined : failureDetails(sim, reportTailLines);
  const report = failure
    ? failureReport(sim.seed, error, failure)
    : `seed=${sim.seed} ok at t=${sim.nowMs.toFixed(3)} ms after ${sim.stats.eventsRun} events; trace digest ${sim.trace.digest()}`;
  return { seed: sim.seed, ok, error, report, failure, traceDigest: sim.trace.digest(), traceLines: [...sim.trace.lines], traceCount: sim.trace.count, endMs: sim.nowMs };
}

/** `[n]` when the environment sets `SEED=n`, else `seeds`. */
export function seedsFromEnv(seeds: readonly number[], env: Record<string, string | undefined> = process.env): number[] {
  const raw = env['SEED'];
  if (raw === undefined || raw.trim() === '') return [...seeds];
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new SimConfigError(`SEED must be an integer in [0, 2^32), got ${JSON.stringify(raw)}`);
  return [seed];
}

/** The part of a tap test that simTest uses (tap's `Test` fits it). */
export interface TapLike {
  test(name: string, fn: (t: TapLike) => Promise<void>): unknown;
  fail(message: string, extra: SimFailureDetails): unknown;
}

export interface SimTestOptions<T extends TapLike> {
  /** Seeds to run (default `[seed]`, or `[1]`); `SEED=<n>` in the environment replaces them. */
  seeds?: readonly number[];
  seed?: number;
  sim?: RunOptions;
  /** Called with each seed's result, pass or fail (to compare digests, print stats). */
  onResult?: (result: SimRunResult, t: T) => void;
}

/** A tap test running `scenario` once per seed, each as a subtest named `seed=<n>`. */
export async function simTest<T extends TapLike>(
  t: T,
  name: string,
  opts: SimTestOptions<T>,
  scenario: (sim: Sim, t: T) => Promise<void> | void,
): Promise<void> {
  const seeds = seedsFromEnv(opts.seeds ?? [opts.seed ?? 1]);
  await t.test(name, async (group) => {
    for (const seed of seeds) {
      await group.test(`seed=${seed}`, async (sub) => {
        const st = sub as T;
        const result = await runSimulation(seed, (sim) => scenario(sim, st), opts.sim);
        opts.onResult?.(result, st);
        // tap shows a message on one line: the seed and the error there, the rest as YAML.
        if (result.failure) st.fail(result.report.split('\n')[0] as string, result.failure);
      });
    }
  });
}
