import t from 'tap';
import { simTest } from '@shoal/sim';
import { converge, startCluster } from './harness.js';

t.test('smoke', async (t) => {
  await simTest(t, 'ten members converge', { seeds: [1] }, async (sim, t) => {
    const members = await startCluster(sim, 10);
    await converge(sim, members);
    t.comment(`converged at ${sim.nowMs} ms`);
    await sim.runFor(60_000);
    for (const m of members) t.same(m.swim.stats().members, { alive: 10, suspect: 0, dead: 0, left: 0 });
    t.comment(JSON.stringify(members[0]!.swim.stats()));
  });
});
