import { Sim } from '@shoal/sim';
import { converge, startCluster } from './harness.js';
const sim = new Sim({ seed: 1 });
const members = await startCluster(sim, 100);
await converge(sim, members);
const n0 = members[0]!;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const table = (n0.swim as any).core.ctx.table;
console.log('order len', table.order.length, 'has n72', table.order.includes('n72'), 'list', table.list.length, 'dups', table.order.length - new Set(table.order).size);
const a = members.slice(0, 40), b = members.slice(40);
sim.partition(a.map((m) => m.sim), b.map((m) => m.sim));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const core = (n0.swim as any).core;
const seen: string[] = [];
for (let i = 0; i < 120; i++) {
  await sim.runFor(1000);
  seen.push(`${core.probe?.target ?? '-'}${core.probe?.indirectSent ? '*' : ''}`);
}
console.log(seen.join(' '));
console.log('n72 state', n0.swim.member('n72'), 'table next', table.next, table.order.indexOf('n72'), table.soon);
