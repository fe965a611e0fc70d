import { Sim } from '@shoal/sim';
import { swimConfig } from '@shoal/swim';
import { converge, startCluster } from './harness.js';
const seed = Number(process.env.SEED ?? 1);
for (const lifeguard of [true, false]) {
  const t0 = performance.now();
  const sim = new Sim({ seed });
  const config = process.env.FAST ? swimConfig('local', { lifeguard, probeIntervalMs: 200, probeTimeoutMs: 80, gossipIntervalMs: 50 }) : swimConfig('lan', { lifeguard });
  const members = await startCluster(sim, 100, { config });
  await converge(sim, members);
  for (const m of members) m.events.length = 0;
  const s = members[10]!;
  const stallMs = 2000, gapMs = Number(process.env.GAP ?? 1000);
  const end = sim.nowMs + Number(process.env.MIN ?? 2) * 60_000;
  for (let t = sim.nowMs + 1000; t < end; t += stallMs + gapMs) sim.at(t, () => s.sim.pause(stallMs));
  await sim.runFor(end - sim.nowMs + 30_000);
  let failedOthers = 0, failedStalled = 0, declared = 0, sDeclared = 0;
  for (const m of members) {
    for (const e of m.events) if (e.kind === 'failed') { if (e.member.name === s.name) failedStalled++; else failedOthers++; }
    declared += m.swim.stats().deadDeclared;
  }
  sDeclared = s.swim.stats().deadDeclared;
  console.log({ lifeguard, failedOthers, failedStalled, declared, sDeclared, sHealth: s.swim.stats().health, sLag: s.swim.stats().lagEvents, sSusp: s.swim.stats().suspicions, sProbes: s.swim.stats().probes, sFail: s.swim.stats().probeFailures, allSusp: members.reduce((a, m) => a + m.swim.stats().suspicions, 0), refut: s.swim.stats().refutations, inc: s.swim.stats().incarnation, lagMax: s.swim.stats().eventLoopLagMaxMs, wall: (performance.now() - t0).toFixed(0) });
}
