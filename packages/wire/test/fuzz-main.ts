// `npm run fuzz`: a million frames per decoder (or `--frames N`), from a fresh seed (or
// `--seed S` to replay), optionally one decoder (`--target NAME`). Prints a table per decoder
// and writes every crash to test/fixtures/fuzz-crashes/ so that a test replays it.
// Exits 1 on a crash or a counting problem.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { allTargets, formatReport, fuzzTarget } from './fuzz.js';
import type { Crash } from './fuzz.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const frames = Number(arg('frames') ?? 1_000_000);
const seed = Number(arg('seed') ?? Date.now() % 2 ** 31);
const only = arg('target');
const crashDir = new URL('../../test/fixtures/fuzz-crashes/', import.meta.url);

function keep(crash: Crash): string {
  mkdirSync(crashDir, { recursive: true });
  const id = createHash('sha256').update(crash.frame).digest('hex').slice(0, 12);
  const file = new URL(`${crash.target}-${id}.json`, crashDir);
  writeFileSync(file, `${JSON.stringify({ ...crash, seed }, null, 2)}\n`);
  return file.pathname;
}

console.log(`fuzzing ${frames.toLocaleString('en-US')} frames per decoder, seed ${seed} (replay: --seed ${seed})\n`);
let failed = false;
const summary: string[] = [];
for (const target of allTargets(seed)) {
  if (only && target.name !== only) continue;
  const report = fuzzTarget(target, frames, seed);
  console.log(`${formatReport(report)}\n`);
  for (const crash of report.crashes) console.log(`crash kept in ${keep(crash)}: ${crash.error}`);
  if (report.crashes.length > 0 || report.problems.length > 0) failed = true;
  summary.push(
    `${target.name.padEnd(20)} ${report.fed.toLocaleString('en-US').padStart(11)} ${report.accepted.toLocaleString('en-US').padStart(11)} ${report.rejected.toLocaleString('en-US').padStart(11)} ${Math.round(report.framesPerSecond).toLocaleString('en-US').padStart(11)} ${String(report.crashes.length).padStart(8)}`,
  );
}
console.log(`${'decoder'.padEnd(20)} ${'fed'.padStart(11)} ${'accepted'.padStart(11)} ${'rejected'.padStart(11)} ${'frames/s'.padStart(11)} ${'crashes'.padStart(8)}`);
console.log(summary.join('\n'));
process.exit(failed ? 1 : 0);
