/**
 * The ledger's pure core, case by case: the grant rule, idempotence by VM id, conflicts, leases,
 * confirm/release, resize, reconcile with the driver's zones, the limit, and the invariant check.
 */
import t from 'tap';
import { LedgerCore, ledgerKey } from '../src/ledger-core.js';

const cap = { totalMb: 10_000, reservedForHostMb: 1_000 };
const vm = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

t.test('granted only while total − reservedForHost − provisioned − pending ≥ ramMb', async (t) => {
  const core = new LedgerCore(cap);
  const a = core.reserve(vm(1), 5_000, 60_000, 1_000);
  t.equal(a.outcome.kind, 'granted');
  t.same(a.writes, [{ op: 'put', key: ledgerKey(vm(1)), value: { vmId: vm(1), ramMb: 5_000, state: 'pending', grantedAtMs: 1_000, expiresAtMs: 61_000, zoneSeen: false } }]);
  t.equal(core.reserve(vm(2), 4_001, 60_000, 1_000).outcome.kind, 'refused', '9000 − 5000 < 4001');
  const exact = core.reserve(vm(3), 4_000, 60_000, 1_000);
  t.equal(exact.outcome.kind, 'granted', 'exactly the headroom is granted');
  const refused = core.reserve(vm(4), 1, 60_000, 1_000);
  t.same(refused.outcome, { kind: 'refused', freeMb: 0 });
  t.same(refused.writes, [], 'a refusal writes nothing');
  t.same(core.figures(), { totalMb: 10_000, reservedForHostMb: 1_000, provisionedMb: 0, pendingMb: 9_000, freeMb: 0, overcommittedMb: 0 });
  core.checkInvariants();
});

t.test('a retried reserve answers the same grant; another size is a conflict', async (t) => {
  const core = new LedgerCore(cap);
  const first = core.reserve(vm(1), 2_000, 60_000, 1_000);
  const again = core.reserve(vm(1), 2_000, 5_000, 30_000);
  t.equal(again.outcome.kind, 'granted');
  if (first.outcome.kind === 'granted' && again.outcome.kind === 'granted') {
    t.equal(again.outcome.entry, first.outcome.entry, 'same reservation, same lease');
    t.ok(again.outcome.retry);
  }
  t.same(again.writes, [], 'a retry writes nothing');
  t.equal(core.figures().pendingMb, 2_000, 'counted once');
  t.equal(core.reserve(vm(1), 3_000, 60_000, 30_000).outcome.kind, 'conflict');
});

t.test('leases end at their deadline; confirm removes the lease; release frees', async (t) => {
  const core = new LedgerCore(cap);
  core.reserve(vm(1), 3_000, 10_000, 0);
  core.reserve(vm(2), 3_000, 20_000, 0);
  t.equal(core.nextExpiryMs(), 10_000);
  const c = core.confirm(vm(2), 5_000);
  t.equal(c.outcome.kind, 'confirmed');
  t.same(c.writes[0]?.op === 'put' ? c.writes[0].value : undefined, { vmId: vm(2), ramMb: 3_000, state: 'provisioned', grantedAtMs: 0, zoneSeen: false });
  t.equal(core.confirm(vm(2), 6_000).outcome.kind, 'confirmed', 'confirming twice is fine');
  t.equal(core.expire(9_999).outcome, 0, 'not yet');
  const e = core.expire(10_000);
  t.equal(e.outcome, 1);
  t.same(e.writes, [{ op: 'delete', key: ledgerKey(vm(1)) }]);
  t.equal(core.nextExpiryMs(), undefined, 'the confirmed one has no lease');
  t.equal(core.confirm(vm(1), 10_001).outcome.kind, 'not-found', 'an expired reservation cannot be confirmed');
  const r = core.release(vm(2), 11_000);
  t.equal(r.outcome.kind, 'released');
  t.equal(core.release(vm(2), 11_000).outcome.kind, 'not-found', 'releasing twice changes nothing');
  t.equal(core.figures().freeMb, 9_000);
  core.checkInvariants();
});

t.test('every operation expires due leases first, so a dead lease never blocks a grant', async (t) => {
  const core = new LedgerCore(cap);
  core.reserve(vm(1), 9_000, 1_000, 0);
  t.equal(core.reserve(vm(2), 9_000, 1_000, 999).outcome.kind, 'refused');
  const s = core.reserve(vm(2), 9_000, 1_000, 1_000);
  t.equal(s.outcome.kind, 'granted');
  t.same(s.expired.map((e) => e.vmId), [vm(1)]);
  t.same(s.writes.map((w) => w.op), ['delete', 'put'], 'the expiry is written before the grant that uses its memory');
});

t.test('resize: growing needs headroom, shrinking always works', async (t) => {
  const core = new LedgerCore(cap);
  core.reserve(vm(1), 4_000, 60_000, 0);
  core.reserve(vm(2), 4_000, 60_000, 0);
  t.equal(core.resize(vm(1), 5_001, 1).outcome.kind, 'refused');
  t.equal(core.resize(vm(1), 5_000, 1).outcome.kind, 'resized');
  t.equal(core.resize(vm(2), 100, 1).outcome.kind, 'resized');
  t.equal(core.resize(vm(9), 100, 1).outcome.kind, 'not-found');
  t.equal(core.figures().pendingMb, 5_100);
  core.checkInvariants();
});

t.test('reconcile: zones are facts — adopt, provision, release what vanished, keep confirmed-not-created', async (t) => {
  const core = new LedgerCore(cap);
  core.reserve(vm(1), 1_000, 60_000, 0); // its zone appears: becomes provisioned
  core.reserve(vm(2), 1_000, 60_000, 0);
  core.confirm(vm(2), 0); // confirmed, zone not created yet: stays
  core.reserve(vm(3), 1_000, 60_000, 0);
  core.markZoneSeen(vm(3), 0); // had a zone, which is now gone: released
  core.reserve(vm(4), 1_000, 60_000, 0); // pending, no zone: untouched
  const r = core.reconcile([{ uuid: vm(1), ramMb: 1_500 }, { uuid: vm(5), ramMb: 9_000 }], 10);
  t.same(r.outcome, { adopted: [vm(5)], updated: [vm(1)], released: [vm(3)] });
  t.equal(core.get(vm(1))?.state, 'provisioned');
  t.equal(core.get(vm(1))?.ramMb, 1_500, 'the zone\'s size wins');
  t.equal(core.get(vm(2))?.state, 'provisioned');
  t.equal(core.get(vm(4))?.state, 'pending');
  t.equal(core.get(vm(3)), undefined);
  const f = core.figures();
  t.equal(f.overcommittedMb, 1_500 + 1_000 + 9_000 + 1_000 - 9_000, 'zones found may over-commit; it is reported');
  t.equal(f.freeMb, 0);
  t.equal(core.reserve(vm(6), 1, 60_000, 20).outcome.kind, 'refused', 'and nothing is granted until there is room again');
  t.same(core.reconcile([{ uuid: vm(1), ramMb: 1_500 }, { uuid: vm(5), ramMb: 9_000 }], 30).writes, [], 'reconcile again: nothing to do');
  core.checkInvariants();
});

t.test('restore keeps stored grants without re-checking them; capacity can change', async (t) => {
  const a = new LedgerCore(cap);
  a.reserve(vm(1), 6_000, 60_000, 0);
  a.confirm(vm(1), 0);
  a.reserve(vm(2), 3_000, 60_000, 0);
  const b = LedgerCore.restore({ totalMb: 5_000, reservedForHostMb: 0 }, a.entries());
  t.same(b.figures(), { totalMb: 5_000, reservedForHostMb: 0, provisionedMb: 6_000, pendingMb: 3_000, freeMb: 0, overcommittedMb: 4_000 });
  t.equal(b.nextExpiryMs(), 60_000, 'leases come back too');
  b.setCapacity(cap);
  t.equal(b.figures().freeMb, 0);
  b.checkInvariants();
});

t.test('reservationsMax bounds the ledger', async (t) => {
  const core = new LedgerCore({ totalMb: 1_000_000, reservedForHostMb: 0 }, { reservationsMax: 3 });
  for (let i = 1; i <= 3; i++) t.equal(core.reserve(vm(i), 1, 60_000, 0).outcome.kind, 'granted');
  t.same(core.reserve(vm(4), 1, 60_000, 0).outcome, { kind: 'limit' });
  t.equal(core.reserve(vm(1), 1, 60_000, 0).outcome.kind, 'granted', 'a retry is still answered at the limit');
});

t.test('many leases: deadlines come out in order, stale ones are skipped', async (t) => {
  const core = new LedgerCore({ totalMb: 1_000_000, reservedForHostMb: 0 });
  const n = 5_000;
  for (let i = 0; i < n; i++) core.reserve(vm(i), 1, ((i * 7919) % n) + 1, 0);
  for (let i = 0; i < n; i += 2) core.release(vm(i), 0);
  let last = 0;
  let expired = 0;
  let early = 0;
  let disorder = 0;
  for (let now = 0; now <= n + 97; now += 97) {
    const s = core.expire(now);
    for (const e of s.expired) {
      if ((e.expiresAtMs ?? 0) > now) early++;
      if ((e.expiresAtMs ?? 0) < last) disorder++;
      last = e.expiresAtMs ?? 0;
    }
    expired += s.outcome;
  }
  t.equal(early, 0, 'no lease ends before its deadline');
  t.equal(disorder, 0, 'deadlines come out in order');
  t.equal(expired, n / 2);
  t.equal(core.size, 0);
  core.checkInvariants();
});
