// The ring manager's pure core: adoption by chooseRing, refusal of other clusters, concurrent
// commits (one wins everywhere, the loser learns it lost), digests, gossip targets; plus the
// bucket registry and the configuration checks.
import t from 'tap';
import {
  BucketRegistry,
  UnknownBucketError,
  bootstrapRing,
  commitStaged,
  compareDigest,
  digestOf,
  emptyClusterState,
  gossipTargets,
  jsonRecord,
  markTransfersDone,
  noTransfers,
  productionConfig,
  receiveRing,
  ringConfig,
  ringFromPeer,
  stage,
  testConfig,
  transfersFromPeer,
  type ClusterState,
} from '@shoal/ring';
import { defineRecord, kind } from '@shoal/crdt';

function withStaged(state: ClusterState, node: string): ClusterState {
  const s = stage(state.ring!, state.staged, { kind: 'join', node });
  if (!s.ok) throw s.error;
  return { ...state, staged: s.value };
}

const ring1 = bootstrapRing({ clusterName: 'c', node: 'a', partitionCount: 16 });
const base: ClusterState = { ...emptyClusterState, ring: ring1, transfers: noTransfers(ring1) };

t.test('commit: version + 1, transfers computed, staged cleared', async (t) => {
  const r = commitStaged(withStaged(base, 'b'), 'a');
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.state.ring!.version, 2);
  t.equal(r.state.ring!.committedBy, 'a');
  t.same(r.state.staged.changes, []);
  t.ok(r.state.transfers!.transfers.length > 0 && r.state.transfers!.version === 2);
  const empty = commitStaged(base, 'a');
  t.match(empty, { ok: false, error: { code: 'nothing-staged' } });
});

t.test('adoption: newer wins, same merges done marks, older and foreign are not adopted', async (t) => {
  const committed = commitStaged(withStaged(base, 'b'), 'a');
  if (!committed.ok) throw committed.error;
  const v2 = committed.state;
  const fresh = receiveRing(emptyClusterState, 'b', 'c', v2.ring!, v2.transfers!);
  t.equal(fresh.outcome, 'adopted', 'a node without a ring adopts one of its cluster');
  t.equal(receiveRing(emptyClusterState, 'b', 'other', v2.ring!, v2.transfers!).outcome, 'refused', '…but not of another cluster');
  t.equal(receiveRing(base, 'b', 'c', v2.ring!, v2.transfers!).outcome, 'adopted');
  t.equal(receiveRing(v2, 'a', 'c', ring1, noTransfers(ring1)).outcome, 'older');
  t.equal(receiveRing(v2, 'a', 'c', v2.ring!, v2.transfers!).outcome, 'same');
  const marked = markTransfersDone(v2.transfers!, [v2.transfers!.transfers[0]!]);
  const merged = receiveRing(v2, 'a', 'c', v2.ring!, marked);
  t.equal(merged.outcome, 'merged');
  t.equal(merged.state.transfers!.done.length, 1);
  const stranger = bootstrapRing({ clusterName: 'c', node: 'z', partitionCount: 16 });
  t.match(receiveRing(base, 'a', 'c', stranger, noTransfers(stranger)), { outcome: 'refused', reason: /different clusters/ }, 'another origin is another cluster');
});

t.test('concurrent commits of one version: every node converges on one; the loser records it', async (t) => {
  const onA = commitStaged(withStaged(base, 'b'), 'a');
  const onB = commitStaged(withStaged({ ...base }, 'x'), 'b');
  if (!onA.ok || !onB.ok) throw new Error('commit failed');
  const [ra, rb] = [onA.state.ring!, onB.state.ring!];
  const winner = ra.hash > rb.hash ? ra : rb;
  const aHears = receiveRing(onA.state, 'a', 'c', rb, onB.state.transfers!);
  const bHears = receiveRing(onB.state, 'b', 'c', ra, onA.state.transfers!);
  t.equal(aHears.state.ring!.hash, winner.hash);
  t.equal(bHears.state.ring!.hash, winner.hash);
  const loser = winner === ra ? bHears : aHears;
  t.match(loser.state.lostCommit, { version: 2, winner: winner.committedBy });
});

t.test('digests: who pushes and who pulls', async (t) => {
  const committed = commitStaged(withStaged(base, 'b'), 'a');
  if (!committed.ok) throw committed.error;
  const v2 = committed.state;
  const d1 = digestOf(base, 'c')!;
  const d2 = digestOf(v2, 'c')!;
  t.same(compareDigest(v2, 'c', d1), { push: true, pull: false });
  t.same(compareDigest(base, 'c', d2), { push: false, pull: true });
  t.same(compareDigest(v2, 'c', d2), { push: false, pull: false });
  t.same(compareDigest(emptyClusterState, 'c', d2), { push: false, pull: true });
  t.same(compareDigest(v2, 'other', d2), { push: false, pull: false }, 'other clusters are ignored');
  const one = { ...v2, transfers: markTransfersDone(v2.transfers!, [v2.transfers!.transfers[0]!]) };
  const other = { ...v2, transfers: markTransfersDone(v2.transfers!, [v2.transfers!.transfers[1]!]) };
  t.same(compareDigest(one, 'c', digestOf(other, 'c')!), { push: true, pull: true }, 'different marks of one ring: exchange both ways');
  t.same(gossipTargets(v2, 'a'), ['b']);
  t.same(gossipTargets(v2, 'b', ['z']), ['a', 'z']);
});

t.test('peer data is validated', async (t) => {
  t.match(ringFromPeer({ clusterName: 'c' }), { reason: /./ });
  t.match(ringFromPeer(null), { reason: /./ });
  // A malformed transfer state is refused with its reason, never replaced by "nothing moving".
  t.match(transfersFromPeer('junk', ring1), { reason: /must be an object/ });
  t.match(transfersFromPeer({ ...noTransfers(ring1), done: [0] }, ring1), { reason: /done marks/ });
  const committed = commitStaged(withStaged(base, 'b'), 'a');
  if (!committed.ok) throw committed.error;
  t.match(transfersFromPeer(noTransfers(ring1), committed.state.ring!), { reason: /^the transfer state is of another ring \(version 1, hash "\w+"\) than the one it came with \(version 2, hash "\w+"\)$/ });
  t.same(transfersFromPeer(committed.state.transfers, committed.state.ring!), { transfers: committed.state.transfers });
});

t.test('bucket registry and configuration', async (t) => {
  const Vm = defineRecord('vm', { name: kind.lww('string') });
  const strict = new BucketRegistry();
  t.match(strict.define('vms', Vm), { n: 3, r: 2, w: 2, generic: false });
  t.throws(() => strict.resolve('scratch'), UnknownBucketError);
  t.equal(strict.tryResolve('scratch'), undefined);
  t.throws(() => strict.define('vms', jsonRecord), /already registered/);
  t.throws(() => strict.define('x', Vm, { r: 4 }), /R must be/);
  t.throws(() => strict.define('', Vm), /bucket name/);
  t.match(strict.define('one', Vm, { n: 1 }), { n: 1, r: 1, w: 1 });
  const generic = new BucketRegistry({ generic: true });
  t.match(generic.resolve('scratch'), { generic: true, schema: jsonRecord });
  t.throws(() => generic.resolve('Not Generic'), UnknownBucketError);
  t.same(generic.list().map((b) => b.name), ['scratch']);
  t.equal(ringConfig().requestTimeoutMs, productionConfig.requestTimeoutMs);
  t.equal(ringConfig({}, testConfig).gossipIntervalMs, 500);
  t.throws(() => ringConfig({ handoffConcurrency: 0 }), /positive/);
  t.throws(() => ringConfig({ handoffConcurrency: 1.5 }), /integer/);
  t.throws(() => ringConfig({ listPageDefault: 5000 }), /≤/);
  t.ok(Object.isFrozen(ringConfig()));
});
