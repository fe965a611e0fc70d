// Shared driver of the seeded cluster simulation (sim-workload.ts): a tap test over a range of
// seeds plus every seed in fixtures/sim-seeds.json. `SEED=<n>` replays one seed.
import { readFileSync } from 'node:fs';
import { simTest, type TapLike } from '@shoal/sim';
import { runScenario, type RunStats } from './sim-workload.js';

export function fixtureSeeds(): number[] {
  const url = new URL('../../test/fixtures/sim-seeds.json', import.meta.url);
  return Object.keys((JSON.parse(readFileSync(url, 'utf8')) as { seeds: Record<string, string> }).seeds).map(Number);
}

export async function clusterSimulation<T extends TapLike & { comment(msg: string): void; pass(msg: string): void }>(t: T, name: string, seeds: readonly number[]): Promise<void> {
  const totals = { seeds: 0, ops: 0, acked: 0, timedOut: 0, handoffs: 0, resumed: 0, repairs: 0, reaped: 0, lostCommits: 0, events: 0, convergedMaxMs: 0 };
  await simTest(t, name, { seeds }, async (sim, st) => {
    const s: RunStats = await runScenario(sim);
    totals.seeds++;
    totals.ops += s.ops;
    totals.acked += s.acked;
    totals.timedOut += s.timedOut;
    totals.handoffs += s.handoffs;
    totals.repairs += s.repairs;
    totals.reaped += s.reaped;
    totals.resumed += s.resumed;
    totals.lostCommits += s.lostCommits;
    totals.events += s.events;
    totals.convergedMaxMs = Math.max(totals.convergedMaxMs, s.convergedAtMs);
    st.pass(`${s.ops} ops (${s.acked} acked), converged ${Math.round(s.convergedAtMs)} ms after healing`);
  });
  t.comment(`${totals.seeds} seeds: ${totals.ops} client writes (${totals.acked} acknowledged, ${totals.timedOut} timed out), ${totals.handoffs} handoff sessions (${totals.resumed} resumed after a crash), ${totals.repairs} anti-entropy repairs, ${totals.reaped} tombstones reaped, ${totals.lostCommits} commits lost to a concurrent one, ${totals.events} simulated events; slowest convergence ${Math.round(totals.convergedMaxMs)} ms after healing`);
}
