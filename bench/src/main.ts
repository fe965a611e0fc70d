/**
 * `npm run bench -- <name> [--json]`: runs one benchmark (or all with no name) and prints its
 * table. Each benchmark module exports `run(opts) => Promise<Row[]>`.
 */
import { printRows, type Row } from './report.js';

export interface BenchOptions {
  json: boolean;
  /** Free-form arguments after the benchmark name (e.g. `--quick`). */
  args: string[];
  /** Progress lines go to stderr so stdout stays one table (or JSON lines). */
  progress(msg: string): void;
}

type Bench = (opts: BenchOptions) => Promise<Row[]>;

const benches: Record<string, () => Promise<Bench>> = {
  // Each entry imports lazily so one benchmark's dependencies do not load for another.
  actors: async () => {
    const { runLocal } = await import('./actors-local.js');
    const { runRemote } = await import('./actors-remote.js');
    return async (opts) => [...(opts.args.includes('--remote-only') ? [] : await runLocal(opts.progress)), ...(opts.args.includes('--local-only') ? [] : await runRemote(opts.progress))];
  },
  swim: async () => {
    const { runSwim } = await import('./swim.js');
    return (opts) => runSwim(opts);
  },
  agent: async () => {
    const { runAgentBench } = await import('./agent.js');
    return (opts) => runAgentBench(opts);
  },
  store: async () => {
    const { runStoreBench } = await import('./store.js');
    return (opts) => runStoreBench(opts);
  },
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const positional = argv.filter((a) => !a.startsWith('--'));
  const names = positional.length > 0 ? positional.slice(0, 1) : Object.keys(benches);
  for (const name of names) {
    const load = benches[name];
    if (!load) {
      process.stderr.write(`unknown benchmark ${JSON.stringify(name)}; known: ${Object.keys(benches).join(', ') || '(none yet)'}\n`);
      process.exit(2);
    }
    const bench = await load();
    const rows = await bench({ json, args: argv.filter((a) => a !== name), progress: (msg) => process.stderr.write(`[${name}] ${msg}\n`) });
    if (!json) process.stdout.write(`\n## ${name}\n\n`);
    printRows(rows, json);
  }
}

await main();
