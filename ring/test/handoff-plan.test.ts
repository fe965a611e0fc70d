// The handoff planner: who sends what where, when it drops, what waits, in which order, within
// the concurrency bound; and the safety rule (a non-owner always hands its data to an owner).
import t from 'tap';
import fc from 'fast-check';
import { commit, markTransfersDone, noTransfers, nothingStaged, planHandoffs, stage, transfersAfterCommit, type HandoffPlanInput, type LocalVnodeInfo, type Ring } from '@shoal/ring';
import { fcOptions, namedMembers, ringOf } from './helpers.js';

function leave(ring: Ring, node: string): Ring {
  const s = stage(ring, nothingStaged, { kind: 'leave', node });
  if (!s.ok) throw s.error;
  const c = commit(ring, s.value, 'node-0');
  if (!c.ok) throw c.error;
  return c.value;
}

const vnode = (partition: number, extra: Partial<LocalVnodeInfo> = {}): LocalVnodeInfo => ({ partition, hasData: true, hints: [], busy: false, ...extra });

function input(over: Partial<HandoffPlanInput> & Pick<HandoffPlanInput, 'ring' | 'self' | 'vnodes'>): HandoffPlanInput {
  return { transfers: noTransfers(over.ring), isUp: () => true, running: 0, concurrencyMax: 4, ...over };
}

t.test('hinted handoff: back to the owners stood in for, once they are all up; then drop', async (t) => {
  const ring = ringOf(namedMembers(5), 16);
  const p = 4;
  const owners = ring.owners[p]!;
  const fallback = ring.members.map((m) => m.name).find((n) => !owners.includes(n))!;
  const hints = [owners[0]!];
  const plan = planHandoffs(input({ ring, self: fallback, vnodes: [vnode(p, { hints })] }));
  t.same(plan.start, [{ partition: p, kind: 'hinted', targets: hints, drop: true, transfers: [] }]);
  const waiting = planHandoffs(input({ ring, self: fallback, vnodes: [vnode(p, { hints })], isUp: (n) => n !== owners[0] }));
  t.same(waiting.start, []);
  t.match(waiting.waiting, [{ partition: p, reason: /down/ }], 'waits for the hinted owner');
  const orphan = planHandoffs(input({ ring, self: fallback, vnodes: [vnode(p, { hints: ['gone'] })], isUp: (n) => n !== owners[2] }));
  t.same(orphan.start[0]?.targets, [...owners.slice(0, 2)].sort(), 'hints that own nothing any more: the owners that are up');
  t.same(planHandoffs(input({ ring, self: fallback, vnodes: [vnode(p, { hasData: false, hints })] })).start, [], 'nothing to send');
  t.same(planHandoffs(input({ ring, self: fallback, vnodes: [vnode(p, { busy: true, hints })] })).start, [], 'a running session is not started twice');
  t.same(planHandoffs(input({ ring, self: owners[0]!, vnodes: [vnode(p, { hints: [owners[1]!] })] })).start, [], 'an owner keeps its data');
});

t.test('ownership handoff: a leaver sends each partition to its arrivals and drops it; empty ones finish at once', async (t) => {
  const ring = ringOf(namedMembers(4), 16);
  const next = leave(ring, 'node-1');
  const transfers = transfersAfterCommit(ring, undefined, next);
  const mine = ring.owners.flatMap((o, p) => (o.includes('node-1') ? [p] : []));
  const withData = mine.slice(0, 3);
  const plan = planHandoffs(input({ ring: next, transfers, self: 'node-1', vnodes: withData.map((p) => vnode(p)), concurrencyMax: 16 }));
  t.same(plan.start.map((x) => x.partition), withData);
  for (const task of plan.start) {
    t.equal(task.kind, 'ownership');
    t.ok(task.drop);
    t.same(task.targets, [...new Set(task.transfers.map((x) => x.to))].sort());
    t.ok(task.targets.every((n) => next.owners[task.partition]!.includes(n)), 'targets own the partition');
  }
  t.same([...new Set(plan.doneWithoutData.map((x) => x.partition))], mine.slice(3), 'partitions it holds nothing of are done now');
  const someTarget = plan.start[0]!.targets[0]!;
  const blocked = planHandoffs(input({ ring: next, transfers, self: 'node-1', vnodes: [vnode(plan.start[0]!.partition)], isUp: (n) => n !== someTarget }));
  t.same(blocked.start, [], 'a transfer waits for every target');
  const done = markTransfersDone(transfers, transfers.transfers);
  t.equal(planHandoffs(input({ ring: next, transfers: done, self: 'node-1', vnodes: [vnode(mine[0]!)] })).start[0]?.kind, 'hinted', 'with its transfers done, leftovers still go to the owners');
});

t.test('concurrency bound and order: ownership first, then hinted, by partition', async (t) => {
  const ring = ringOf(namedMembers(4), 16);
  const next = leave(ring, 'node-1');
  const transfers = transfersAfterCommit(ring, undefined, next);
  const mine = new Set(ring.owners.flatMap((o, p) => (o.includes('node-1') ? [p] : [])));
  const vnodes = Array.from({ length: 16 }, (_, p) => vnode(p, { hints: mine.has(p) ? [] : [next.owners[p]![0]!] }));
  const all = planHandoffs(input({ ring: next, transfers, self: 'node-1', vnodes, concurrencyMax: 100 }));
  const kinds = all.start.map((x) => (x.kind === 'ownership' ? 0 : 1));
  t.ok(kinds.includes(0) && kinds.includes(1));
  t.same(kinds, [...kinds].sort(), 'ownership before hinted');
  t.equal(planHandoffs(input({ ring: next, transfers, self: 'node-1', vnodes, concurrencyMax: 3, running: 1 })).start.length, 2, 'running sessions count');
  t.same(planHandoffs(input({ ring: next, transfers, self: 'node-1', vnodes, concurrencyMax: 3, running: 5 })).start, []);
});

t.test('property: every non-owner with data either sends to owners (dropping) or waits', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 6 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), fc.nat(), (m, ups, who) => {
      const ring = ringOf(namedMembers(m), 8);
      const self = `node-${who % m}`;
      const isUp = (n: string): boolean => n === self || ups[Number(n.slice(5))] === true;
      const vnodes = Array.from({ length: 8 }, (_, p) => vnode(p, { hints: [ring.owners[p]![0]!] }));
      const plan = planHandoffs(input({ ring, self, vnodes, isUp, concurrencyMax: 100 }));
      for (let p = 0; p < 8; p++) {
        const owner = ring.owners[p]!.includes(self);
        const task = plan.start.find((x) => x.partition === p);
        const waits = plan.waiting.some((w) => w.partition === p);
        if (owner && (task || waits)) return false;
        if (!owner && !task === !waits) return false;
        if (task && !(task.drop && task.targets.length > 0 && task.targets.every((n) => ring.owners[p]!.includes(n) && isUp(n) && n !== self))) return false;
      }
      return true;
    }),
    fcOptions(300),
  );
  t.pass('holds');
});
