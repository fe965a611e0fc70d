// (d) One member with 2-second processing stalls: with Lifeguard on, false "dead" declarations
// of healthy members are at least 10× fewer than with Lifeguard off, same seed, same faults.
//
// The stalled member s is paused 2 s at a time with 1 ms of run time in between (a process that
// gets a slice of CPU every 2 s): everything it should have done meanwhile — timers, packets —
// happens in a burst at the end of each stall, timers first (as in Node, whose timers phase runs
// before the poll phase). Without Lifeguard, s's probes fail whenever their ack is still queued
// behind the overdue timer, s suspects healthy members, and its own suspicion timers expire
// before it reads the refutations that queued up: s declares healthy members dead. With
// Lifeguard, the late timer raises s's health score and s reads its queued packets before
// deciding anything (lag input, node.ts), its probe period stretches, and a lone accusation
// starts at the maximum suspicion timeout.
//
// The timings are the local preset sped up (probe 200 ms, probe timeout 80 ms, gossip 50 ms;
// suspicion minimum 4 × log10(100) × 200 ms = 1.6 s): a 2-second stall must exceed the minimum
// suspicion timeout for plain SWIM to be fooled at all. With the lan preset (minimum 8 s at n = 100) one staller
// costs neither variant a single false declaration (measured: 0 and 0, with 1 ms to 1 s of run
// time between stalls, over 3 to 10 simulated minutes); that is SWIM's suspicion mechanism
// working, not Lifeguard.
//
// The stalled member itself is not counted among the healthy: it really is unresponsive for
// longer than the suspicion timeout, and both variants declare it dead (and it refutes).
import t from 'tap';
import { simTest, type Sim } from '@shoal/sim';
import { swimConfig } from '@shoal/swim';
import { converge, startCluster } from './harness.js';

const stallMs = 2000;
const runMs = 1;
const durationMs = 2 * 60_000;

async function falseDeaths(sim: Sim, lifeguard: boolean): Promise<{ healthy: number; stalled: number }> {
  const config = swimConfig('local', { lifeguard, probeIntervalMs: 200, probeTimeoutMs: 80, gossipIntervalMs: 50 });
  const members = await startCluster(sim, 100, { config });
  await converge(sim, members);
  for (const m of members) m.events.length = 0;
  const stalled = members[Math.floor(sim.random.float() * members.length)]!;
  const end = sim.nowMs + durationMs;
  for (let at = sim.nowMs + 1000; at < end; at += stallMs + runMs) sim.at(at, () => stalled.sim.pause(stallMs), 'stall');
  await sim.runFor(durationMs + 10_000);
  let healthy = 0;
  let ofStalled = 0;
  for (const m of members) {
    for (const e of m.events) {
      if (e.kind !== 'failed') continue;
      if (e.member.name === stalled.name) ofStalled++;
      else healthy++;
    }
  }
  return { healthy, stalled: ofStalled };
}

t.test('Lifeguard: a starved member falsely kills ≥ 10× fewer healthy members', async (t) => {
  const results = new Map<number, { on: { healthy: number; stalled: number }; off: { healthy: number; stalled: number } }>();
  for (const seed of [1]) {
    const r = { on: { healthy: 0, stalled: 0 }, off: { healthy: 0, stalled: 0 } };
    await simTest(t, 'lifeguard on', { seeds: [seed] }, async (sim) => {
      r.on = await falseDeaths(sim, true);
    });
    await simTest(t, 'lifeguard off', { seeds: [seed] }, async (sim) => {
      r.off = await falseDeaths(sim, false);
    });
    results.set(seed, r);
    t.comment(`seed ${seed}: false failed events of healthy members: Lifeguard on ${r.on.healthy}, off ${r.off.healthy}; of the stalled member: on ${r.on.stalled}, off ${r.off.stalled}`);
    t.ok(r.off.healthy >= 10, 'without Lifeguard the staller does get healthy members declared dead');
    t.ok(r.on.healthy * 10 <= r.off.healthy, 'with Lifeguard at least 10× fewer');
  }
});
