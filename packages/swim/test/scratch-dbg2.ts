import { Sim } from '@shoal/sim';
import { converge, startCluster, stateOf } from './harness.js';
const sim = new Sim({ seed: Number(process.env.SEED ?? 1) });
const N = Number(process.env.N ?? 100);
const members = await startCluster(sim, N);
await converge(sim, members);
await sim.runFor(5000);
const victim = members[Math.floor(N / 3)]!;
const t0 = sim.nowMs;
for (const m of members) m.events.length = 0;
victim.sim.crash();
const live = members.filter((m) => m !== victim);
await sim.runUntil(() => live.every((m) => stateOf(m, victim.name) === 'dead'), { timeoutMs: 300_000 });
const sus = live.map((m) => m.events.find((e) => e.kind === 'suspected' && e.member.name === victim.name)).map((e) => e ? e.member.stateChangeMs - t0 : NaN).sort((a, b) => a - b);
const dead = live.map((m) => m.events.find((e) => e.kind === 'failed' && e.member.name === victim.name)).map((e) => e ? e.member.stateChangeMs - t0 : NaN).sort((a, b) => a - b);
console.log('suspected first', sus[0]?.toFixed(0), 'median', sus[Math.floor(sus.length/2)]?.toFixed(0), 'last', sus[sus.length - 1]?.toFixed(0));
console.log('dead first', dead[0]?.toFixed(0), 'median', dead[Math.floor(dead.length/2)]?.toFixed(0), 'last', dead[dead.length - 1]?.toFixed(0));
let conf = 0, declared = 0; for (const m of live) { conf += m.swim.stats().suspicionConfirmations; declared += m.swim.stats().deadDeclared; }
console.log({ conf, declared });
