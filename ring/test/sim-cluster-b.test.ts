// The ring's main simulation, second half: seeds 101–200 (sim-cluster-a.test.ts has the rest).
import t from 'tap';
import { clusterSimulation } from './sim-cluster.js';

await clusterSimulation(t, '5 nodes: writes, deletes, reads, crashes, a partition, a join and a leave', Array.from({ length: 100 }, (_, i) => i + 101));

t.test('a seed replays exactly: the same trace digest twice', async (t) => {
  const { runSimulation } = await import('@shoal/sim');
  const { runScenario } = await import('./sim-workload.js');
  const a = await runSimulation(7, (sim) => runScenario(sim).then(() => undefined));
  const b = await runSimulation(7, (sim) => runScenario(sim).then(() => undefined));
  t.ok(a.ok && b.ok);
  t.equal(a.traceDigest, b.traceDigest, `digest ${a.traceDigest}`);
  t.equal(a.traceCount, b.traceCount);
});
