// Ownership properties (fast-check): n distinct owners per partition, caps hold (weights
// included), determinism, join and leave movement; test vectors pin the continuum and the
// owners of a fixed member set so any change in hashing or in the algorithm is caught.
import t from 'tap';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { balance, continuumVnodesPerWeight, fairShares, makeRing, partitionKey, ringOwnership } from '@shoal/ring';
import type { Ring, RingMember } from '@shoal/ring';
import { fcOptions, loads, membersArb, namedMembers, partitionCountArb, ringOf, transfers } from './helpers.js';

const vectorMembers: RingMember[] = [
  ['alpha', 1],
  ['bravo', 1],
  ['charlie', 1],
  ['delta', 2],
  ['echo', 1],
].map(([name, weight]) => ({ name: name as string, weight: weight as number, token: name as string }));
const vectorRing = (partitionCount: number): Ring =>
  makeRing({ clusterName: 'vectors', origin: 'alpha', partitionCount, replication: 3, version: 1, committedBy: 'alpha', members: vectorMembers });

/** Ketama as hashring 3.2.0 computes it, written out independently: pins what continuum.ts relies on. */
function ketamaOrder(members: readonly RingMember[], key: string): string[] {
  const le32 = (b: Buffer, at: number): number => b.readUInt32LE(at);
  const points: { value: number; name: string }[] = [];
  for (const m of members) {
    const server = `t${Buffer.from(m.token, 'utf8').toString('hex')}`;
    for (let i = 0; i < continuumVnodesPerWeight * m.weight; i++) {
      const digest = createHash('md5').update(`${server}-${i}`).digest();
      for (let j = 0; j < 4; j++) points.push({ value: le32(digest, 4 * j), name: m.name });
    }
  }
  points.sort((a, b) => a.value - b.value);
  const h = le32(createHash('md5').update(key).digest(), 0);
  let start = points.findIndex((p) => p.value >= h);
  if (start < 0) start = 0;
  const order: string[] = [];
  for (let k = 0; k < points.length && order.length < members.length; k++) {
    const name = points[(start + k) % points.length]!.name;
    if (!order.includes(name)) order.push(name);
  }
  return order;
}

t.test('vectors: continuum preference orders and owners of a fixed member set', async (t) => {
  const ring = vectorRing(16);
  const { continuum } = ringOwnership(ring);
  t.same(
    [0, 1, 2, 3].map((p) => continuum.prefix(p, 5)),
    [
      ['delta', 'echo', 'bravo', 'alpha', 'charlie'],
      ['charlie', 'bravo', 'delta', 'alpha', 'echo'],
      ['echo', 'delta', 'charlie', 'bravo', 'alpha'],
      ['bravo', 'delta', 'alpha', 'charlie', 'echo'],
    ],
    'preference orders of partitions 0–3',
  );
  for (let p = 0; p < 16; p++) t.same(continuum.prefix(p, 5), ketamaOrder(vectorMembers, partitionKey(p)), `partition ${p}: hashring agrees with an independent ketama walk`);
  t.same(ring.owners, [
    ['delta', 'echo', 'bravo'], ['charlie', 'bravo', 'delta'], ['echo', 'delta', 'charlie'], ['bravo', 'delta', 'alpha'],
    ['delta', 'charlie', 'bravo'], ['charlie', 'alpha', 'delta'], ['echo', 'charlie', 'delta'], ['delta', 'alpha', 'echo'],
    ['charlie', 'delta', 'echo'], ['charlie', 'echo', 'delta'], ['bravo', 'echo', 'delta'], ['echo', 'charlie', 'bravo'],
    ['delta', 'charlie', 'bravo'], ['alpha', 'bravo', 'delta'], ['alpha', 'charlie', 'delta'], ['bravo', 'delta', 'echo'],
  ], 'owners at P=16, N=3');
  const digest = createHash('sha256').update(JSON.stringify(vectorRing(64).owners)).digest('hex');
  t.equal(digest, 'ac7efb1561a30218d75d7c582f3d2ffbf93c7edfb0e97377bfe65e15260d8c99', 'SHA-256 of the owners at P=64, N=3');
});

t.test('fair shares: weighted, water-filled, caps by exact integer maths', async (t) => {
  const s = fairShares(namedMembers(5, 'n', (i) => (i === 0 ? 2 : 1)), 64, 3);
  t.same(s.members.map((m) => [m.fairOwned, m.ownedMax, m.primariesMax]), [
    [64, 64, 27], // 3 × 64 × 2/6 = 64 exactly: fills, ownedMax = P
    [32, 40, 14],
    [32, 40, 14],
    [32, 40, 14],
    [32, 40, 14],
  ]);
  const heavy = fairShares(namedMembers(4, 'h', (i) => (i === 0 ? 16 : 1)), 64, 3);
  t.same(heavy.members.map((m) => m.fairOwned), [64, 128 / 3, 128 / 3, 128 / 3], 'a member whose share exceeds P is filled at P; the rest is spread by weight');
  t.ok(Math.abs(heavy.members.reduce((a, m) => a + m.fairOwned, 0) - 3 * 64) < 1e-9, 'shares sum to n × P');
  const few = fairShares(namedMembers(2), 64, 3);
  t.equal(few.n, 2, 'n = min(N, M)');
  t.same(few.members.map((m) => m.ownedMax), [64, 64]);
  t.same(fairShares(namedMembers(4), 64, 3).members.map((m) => m.ownedMax), [60, 60, 60, 60], 'ceil(1.25 × 48) = 60, no float rounding');
});

t.test('every partition has min(N, M) distinct owners, all members', async (t) => {
  fc.assert(
    fc.property(membersArb(1, 12), partitionCountArb, fc.integer({ min: 1, max: 5 }), (members, P, N) => {
      const ring = ringOf(members, P, N);
      const names = new Set(members.map((m) => m.name));
      const n = Math.min(N, members.length);
      return ring.owners.length === P && ring.owners.every((o) => o.length === n && new Set(o).size === n && o.every((m) => names.has(m)));
    }),
    fcOptions(150),
  );
  t.pass('holds');
});

t.test('no member exceeds ceil(1.25 × fair share), replicas and primaries, weights included', async (t) => {
  fc.assert(
    fc.property(membersArb(1, 16, 6), partitionCountArb, fc.integer({ min: 1, max: 5 }), (members, P, N) => {
      const ring = ringOf(members, P, N);
      const { owned, primaries } = loads(ring);
      const n = Math.min(N, members.length);
      // Recompute the caps independently: water-fill in floating point, then ceil(1.25 × share).
      const shares = fairShares(members, P, N).members;
      const sum = shares.reduce((a, s) => a + s.fairOwned, 0);
      if (Math.abs(sum - n * P) > 1e-9) return false;
      return shares.every((s) => {
        const ownedCap = Math.min(P, Math.ceil(1.25 * s.fairOwned - 1e-9));
        const primaryCap = Math.ceil((1.25 * s.fairOwned) / n - 1e-9);
        return s.fairOwned <= P + 1e-9 && owned.get(s.name)! <= ownedCap && primaries.get(s.name)! <= primaryCap;
      });
    }),
    fcOptions(150),
  );
  t.pass('holds');
});

t.test('ownership is deterministic and independent of member input order', async (t) => {
  fc.assert(
    fc.property(membersArb(1, 10), partitionCountArb, (members, P) => {
      const a = ringOf(members, P);
      const b = ringOf([...members].reverse(), P);
      return JSON.stringify(a.owners) === JSON.stringify(b.owners) && a.hash === b.hash;
    }),
    fcOptions(60),
  );
  t.pass('holds');
});

// Measured before stating the bound (see table.test.ts and the ring README): over 30 random name
// sets each, P ∈ {64, 256, 1024}, M ∈ 3 … 32, weights 1 … 4, the worst join moved 5.9 points
// over ideal (P = 64, weighted), typically under 2; the guarantee asserted here is 10 points.
const joinExcessMax = 0.1;

t.test('a join moves about the ideal 1/(M+1) of the replicas (≤ ideal + 10 points)', async (t) => {
  let worst = -1;
  fc.assert(
    fc.property(membersArb(3, 24), fc.constantFrom(64, 128, 256), fc.integer({ min: 1, max: 4 }), (members, P, weight) => {
      const joiner: RingMember = { name: 'joiner-x', weight, token: 'joiner-x' };
      if (members.some((m) => m.name === joiner.name)) return true;
      const before = ringOf(members, P);
      const after = ringOf([...members, joiner], P);
      const n = Math.min(3, members.length + 1);
      const ideal = fairShares(after.members, P, 3).members.find((s) => s.name === joiner.name)!.fairOwned / (n * P);
      const moved = transfers(before, after) / (n * P);
      worst = Math.max(worst, moved - ideal);
      return moved <= ideal + joinExcessMax;
    }),
    fcOptions(120),
  );
  t.comment(`worst join over the runs: ${(100 * worst).toFixed(1)} points above ideal`);
  t.pass('holds');
});

t.test('a leave moves the leaver\'s replicas plus a bounded rebalance', async (t) => {
  let worstExtra = 0;
  fc.assert(
    fc.property(membersArb(4, 24), fc.constantFrom(64, 128, 256), fc.nat(), (members, P, pick) => {
      const leaver = members[pick % members.length]!;
      const before = ringOf(members, P);
      const after = ringOf(members.filter((m) => m !== leaver), P);
      const own = loads(before).owned.get(leaver.name)!;
      const moved = transfers(before, after);
      // Beyond the leaver's own replicas, what moves is the rebalancing the caps cause as every
      // fair share grows: asserted ≤ 10 % of all replicas (measured worst 5.7 %, weighted, P=64).
      const extra = (moved - own) / (3 * P);
      worstExtra = Math.max(worstExtra, extra);
      return moved >= own && extra <= 0.1;
    }),
    fcOptions(120),
  );
  t.comment(`worst leave over the runs: ${(100 * worstExtra).toFixed(1)} % of replicas moved beyond the leaver's own`);
  t.pass('holds');
});

t.test('balance() reports counts, shares and ratios', async (t) => {
  const b = balance(vectorRing(16));
  t.equal(b.replicas, 3);
  t.same(b.members.map((m) => [m.name, m.owned, m.primaries, m.fairOwned, m.ownedMax, m.primariesMax]), [
    ['alpha', 5, 2, 8, 10, 4],
    ['bravo', 9, 3, 8, 10, 4],
    ['charlie', 10, 4, 8, 10, 4],
    ['delta', 15, 4, 16, 16, 7],
    ['echo', 9, 3, 8, 10, 4],
  ]);
  t.equal(b.ownedRatioMax, 10 / 8);
  t.equal(b.ownedRatioMin, 5 / 8);
  t.equal(b.members.reduce((a, m) => a + m.owned, 0), 48, 'n × P replicas');
  t.equal(b.members.reduce((a, m) => a + m.primaries, 0), 16, 'P primaries');
});

t.test('hostile member names get their fair place on the continuum', async (t) => {
  const members = ['__proto__', 'constructor', 'toString', 'a:1', 'valueOf'].map((name) => ({ name, weight: 1, token: name }));
  const ring = ringOf(members, 64);
  const { owned } = loads(ring);
  for (const m of members) t.ok(owned.get(m.name)! >= 24, `${m.name} owns ${owned.get(m.name)} replicas (fair 38.4)`);
  t.equal(({} as Record<string, unknown>)['value'], undefined, 'Object.prototype is untouched');
});
