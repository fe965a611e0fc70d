import { Sim } from '@shoal/sim';
import { converge, startCluster } from './harness.js';

const sim = new Sim({ seed: 1 });
const t0 = performance.now();
const members = await startCluster(sim, 100);
await converge(sim, members);
console.log('converged at', sim.nowMs.toFixed(0), 'wall', (performance.now() - t0).toFixed(0));
sim.setLinks({ lossRate: 0.05 });
const t1 = performance.now();
await sim.runFor(Number(process.env.MINUTES ?? 2) * 60_000);
const dt = performance.now() - t1;
console.log('wall ms', dt.toFixed(0), 'events', sim.stats.eventsRun, 'us/event', (dt * 1000 / sim.stats.eventsRun).toFixed(1));
let dead = 0, sus = 0, conf = 0, probes = 0, sent = 0;
for (const m of members) { const s = m.swim.stats(); dead += s.deadDeclared; sus += s.suspicions; probes += s.probes; sent += s.packetsSent; conf += s.suspicionConfirmations; }
console.log({ dead, sus, conf, probes, sent });
