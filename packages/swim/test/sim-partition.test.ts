// (c) 100 members split 40/60 for 2 minutes, then healed: every member is alive again in every
// view within 30 s of the heal, with no operator action.
//
// How it heals: each member push-pulls with one random dead member every reconnectIntervalMs
// (5 s × 0.5–1.5 in lan), so within a second or two of the heal several exchanges cross the old
// cut. Each one tells both sides what the other believes: dead members learn of their death and
// refute (a higher incarnation), the refutations are gossiped to everyone who now sees them alive
// again, and push-pull merges carry the rest.
import t from 'tap';
import { simTest } from '@shoal/sim';
import { allSee, converge, startCluster } from './harness.js';

t.test('a 40/60 partition of 2 minutes heals by itself within 30 s', async (t) => {
  await simTest(t, '100 members, 40/60 partition', { seeds: [1, 2] }, async (sim, t) => {
    const members = await startCluster(sim, 100);
    await converge(sim, members);
    const shuffled = sim.random.shuffle([...members]);
    const a = shuffled.slice(0, 40);
    const b = shuffled.slice(40);
    sim.partition(a.map((m) => m.sim), b.map((m) => m.sim));
    await sim.runFor(120_000);
    const deadAcross = a.reduce((acc, m) => acc + m.swim.stats().members.dead, 0) + b.reduce((acc, m) => acc + m.swim.stats().members.dead, 0);
    t.ok(deadAcross > 0.5 * 2 * 40 * 60, `most members across the cut are dead in each view after 2 minutes (${deadAcross} of ${2 * 40 * 60})`);
    t.ok(allSee(a, a.map((m) => m.name), 'alive') && allSee(b, b.map((m) => m.name), 'alive'), 'each side still sees its own side alive');
    sim.heal();
    const healMs = sim.nowMs;
    await sim.runUntil(() => allSee(members, members.map((m) => m.name), 'alive'), { timeoutMs: 30_000, what: 'every member alive in every view' });
    t.comment(`healed: every member alive everywhere ${((sim.nowMs - healMs) / 1000).toFixed(2)} s after the heal`);
    t.pass('healed within 30 s');
  });
});
