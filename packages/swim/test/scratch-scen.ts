import { Sim } from '@shoal/sim';
import { allSee, converge, startCluster, stateOf } from './harness.js';

const which = process.env.SCEN ?? 'crash';
const sim = new Sim({ seed: Number(process.env.SEED ?? 1) });
const t0 = performance.now();
const members = await startCluster(sim, 100);
await converge(sim, members);
console.log('converged at', sim.nowMs.toFixed(0));
if (which === 'crash') {
  const victim = members[37]!;
  const t = sim.nowMs;
  victim.sim.crash();
  const live = members.filter((m) => m !== victim);
  const seen = new Map<string, number>();
  await sim.runUntil(() => {
    for (const m of live) if (!seen.has(m.name) && stateOf(m, victim.name) === 'dead') seen.set(m.name, sim.nowMs - t);
    return seen.size === live.length;
  }, { timeoutMs: 300_000 });
  const v = [...seen.values()].sort((a, b) => a - b);
  console.log('first', v[0], 'median', v[49], 'last', v[v.length - 1]);
} else if (which === 'partition') {
  const a = members.slice(0, 40), b = members.slice(40);
  sim.partition(a.map((m) => m.sim), b.map((m) => m.sim));
  await sim.runFor(120_000);
  const deadA = a.filter((m) => b.every((x) => stateOf(m, x.name) === 'dead')).length;
  console.log('A members seeing all of B dead', deadA);
  const hist: Record<string, number> = {};
  for (const m of a) for (const x of b) { const st = stateOf(m, x.name) ?? 'unknown'; hist[st] = (hist[st] ?? 0) + 1; }
  console.log('A view of B', hist);
  for (const m of a.slice(0, 3)) console.log(m.name, b.filter((x) => stateOf(m, x.name) !== 'dead').map((x) => { const mm = m.swim.member(x.name)!; return `${x.name}:${mm.state}:${mm.incarnation}@${mm.stateChangeMs.toFixed(0)}`; }));
  console.log('b side view of those', b.slice(0,2).map(x => x.swim.member(x.name)?.incarnation));
  const hb: Record<string, number> = {};
  for (const m of b) for (const x of a) { const st = stateOf(m, x.name) ?? 'unknown'; hb[st] = (hb[st] ?? 0) + 1; }
  console.log('B view of A', hb, 'A self view', a.map(m=>m.swim.stats().members.alive).slice(0,5));
  sim.heal();
  const t = sim.nowMs;
  await sim.runUntil(() => allSee(members, members.map((m) => m.name), 'alive'), { timeoutMs: 120_000 });
  console.log('healed after', sim.nowMs - t);
}
console.log('wall', (performance.now() - t0).toFixed(0));
