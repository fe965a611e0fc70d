// Simulated clusters (encryption on, lan preset): join, graceful leave, metadata updates,
// refutation after a restart, a node with the wrong key, and a fuzz of malformed packets.
import t from 'tap';
import { simTest } from '@shoal/sim';
import { seal, sealOverheadBytes } from '@shoal/wire';
import { SwimCodec, SwimNode, swimConfig, type SwimMessage } from '@shoal/swim';
import { allSee, cluster, converge, gossipPort, meta, restartMember, startCluster, startMember, stateOf, testKeyring } from './harness.js';

const seeds = [1, 2];

t.test('a member joining a running cluster is seen alive by all, with a joined event', async (t) => {
  await simTest(t, 'join', { seeds }, async (sim, t) => {
    const members = await startCluster(sim, 12);
    await converge(sim, members);
    const fresh = await startMember(sim, sim.addNode('late'));
    const startedMs = sim.nowMs;
    t.equal(await sim.settle(fresh.swim.join([members[5]!.swim.address])), 1, 'one seed contacted');
    const all = [...members, fresh];
    await converge(sim, all, 10_000);
    t.comment(`all 13 see the newcomer ${(sim.nowMs - startedMs).toFixed(0)} ms after its join`);
    for (const m of members) t.ok(m.events.some((e) => e.kind === 'joined' && e.member.name === 'late'), `${m.name} got a joined event`);
    t.equal(fresh.swim.members().length, 13, 'the newcomer knows everyone');
  });
});

t.test('a graceful leave is seen as left (not failed) by all, and the node stops', async (t) => {
  await simTest(t, 'leave', { seeds }, async (sim, t) => {
    const members = await startCluster(sim, 12);
    await converge(sim, members);
    const leaver = members[3]!;
    const startedMs = sim.nowMs;
    const left = leaver.swim.leave();
    const others = members.filter((m) => m !== leaver);
    await sim.runUntil(() => allSee(others, [leaver.name], 'left'), { timeoutMs: 5_000 });
    t.comment(`all see it left after ${(sim.nowMs - startedMs).toFixed(0)} ms`);
    await sim.settle(left);
    t.notOk(leaver.swim.running, 'the leaver stopped after leavePropagateMs');
    await sim.runFor(60_000);
    t.ok(allSee(others, [leaver.name], 'left'), 'still left a minute later (no failed, no suspect)');
    for (const m of others) t.notOk(m.events.some((e) => e.kind === 'failed'), `${m.name} saw no failure`);
  });
});

t.test('a metadata update reaches every member with a higher incarnation and an updated event', async (t) => {
  await simTest(t, 'update meta', { seeds }, async (sim, t) => {
    const members = await startCluster(sim, 12);
    await converge(sim, members);
    const m = members[7]!;
    const before = m.swim.member(m.name)!.incarnation;
    m.swim.updateMeta({ ...meta(m.sim.host), tags: { zone: 'b', weight: '2' }, addresses: { ...meta(m.sim.host).addresses, http: `${m.sim.host}:8080` } });
    await sim.runUntil(() => members.every((o) => o.swim.member(m.name)?.meta.tags['zone'] === 'b'), { timeoutMs: 5_000 });
    for (const o of members.filter((x) => x !== m)) {
      const seen = o.swim.member(m.name)!;
      t.ok(seen.incarnation > before && seen.meta.addresses.http === `${m.sim.host}:8080`, `${o.name} has the new metadata`);
      t.ok(o.events.some((e) => e.kind === 'updated' && e.member.name === m.name), `${o.name} got an updated event`);
    }
    t.throws(() => m.swim.updateMeta({ ...meta(m.sim.host), tags: { 'bad key!': 'x' } }), { name: 'SwimMetaError' }, 'invalid metadata is refused');
  });
});

t.test('a crashed member declared dead rejoins after a restart by refuting its old incarnation', async (t) => {
  await simTest(t, 'restart', { seeds }, async (sim, t) => {
    const members = await startCluster(sim, 12);
    await converge(sim, members);
    const m = members[4]!;
    const others = members.filter((x) => x !== m);
    m.sim.crash();
    await sim.runUntil(() => allSee(others, [m.name], 'dead'), { timeoutMs: 60_000 });
    const deadInc = others[0]!.swim.member(m.name)!.incarnation;
    await restartMember(sim, m);
    t.equal(m.swim.member(m.name)!.incarnation, 0, 'the new process starts at incarnation 0');
    t.equal(await sim.settle(m.swim.join([others[0]!.swim.address])), 1);
    await converge(sim, members, 10_000);
    t.ok(m.swim.member(m.name)!.incarnation > deadInc, 'it refuted the dead incarnation');
    for (const o of others) t.ok(o.events.some((e) => e.kind === 'recovered' && e.member.name === m.name), `${o.name} saw it recover`);
  });
});

t.test('a node with the wrong key never joins: push-pull refused, packets dropped as auth', async (t) => {
  await simTest(t, 'wrong key', { seeds }, async (sim, t) => {
    const members = await startCluster(sim, 6);
    await converge(sim, members);
    const rogue = await startMember(sim, sim.addNode('rogue'), { keyring: testKeyring(99) });
    t.equal(await sim.settle(rogue.swim.join([members[0]!.swim.address])), 0, 'no seed answers');
    t.ok(members[0]!.swim.stats().pushPullsRefused >= 1, 'the seed refused its push-pull');
    // The rogue keeps trying in the background and gossips to addresses it is told about.
    void rogue.swim.joinInBackground(members.map((m) => m.swim.address));
    await sim.runFor(120_000);
    for (const m of members) t.equal(stateOf(m, 'rogue'), undefined, `${m.name} never heard of the rogue`);
    t.equal(rogue.swim.members().length, 1, 'the rogue knows nobody');
    t.ok(allSee(members, members.map((m) => m.name), 'alive'), 'the cluster is undisturbed');
  });
});

/** Garbage and mutations of valid packets, some sealed with the cluster key, some not. */
function hostilePackets(random: { int(n: number): number; bytes(n: number): Uint8Array; float(): number }, count: number, sealGood: (b: Uint8Array) => Uint8Array, valid: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 6;
    if (kind === 0) out.push(random.bytes(1 + random.int(1500))); // noise
    else if (kind === 1) out.push(random.bytes(1 + random.int(20))); // short noise
    else if (kind === 2) {
      const p = sealGood(valid); // a valid sealed packet with flipped bits: fails authentication
      p[random.int(p.length)]! ^= 1 << random.int(8);
      out.push(p);
    } else if (kind === 3) out.push(sealGood(random.bytes(random.int(600)))); // authenticated noise
    else if (kind === 4) {
      const m = Uint8Array.from(valid); // authenticated, structurally mutated SWIM batch
      for (let k = 0; k < 1 + random.int(4); k++) m[random.int(m.length)] = random.int(256);
      out.push(sealGood(m.subarray(0, random.float() < 0.3 ? random.int(m.length) : m.length)));
    } else out.push(random.bytes(1401 + random.int(3000))); // oversize
  }
  return out;
}

t.test('malformed packets are counted and dropped, never fatal, and disturb nobody', async (t) => {
  await simTest(t, 'fuzz', { seeds }, async (sim, t) => {
    const keyring = testKeyring();
    const members = await startCluster(sim, 6, { keyring });
    await converge(sim, members);
    const target = members[2]!;
    const codec = new SwimCodec(1400 - sealOverheadBytes);
    const valid = codec.encodePacket([
      { t: 'ping', seq: 7, target: target.name, from: 'attacker' },
      { t: 'alive', name: 'ghost', inc: 1, meta: meta('10.9.9.9') },
    ] satisfies SwimMessage[]);
    const attacker = sim.addNode('attacker');
    const ep = await sim.settle(attacker.world.transport.bindDatagram(attacker.address(gossipPort), () => undefined));
    const packets = hostilePackets(sim.random, 3000, (b) => seal(keyring, cluster, b, sim.random), valid);
    const before = target.swim.stats();
    for (const [i, p] of packets.entries()) sim.at(sim.nowMs + 1 + i * 3, () => ep.send(target.swim.address, p));
    await sim.runFor(3000 * 3 + 30_000);
    const after = target.swim.stats();
    const dropped = Object.values(after.packetsDropped).reduce((a, b) => a + b, 0) - Object.values(before.packetsDropped).reduce((a, b) => a + b, 0);
    t.comment(`drops ${JSON.stringify(after.packetsDropped)} decode ${JSON.stringify(after.decodeFailures)}`);
    t.ok(dropped >= 2990 && dropped <= 3000, `almost every hostile packet dropped (${dropped}; a mutation may still decode)`);
    t.ok(after.packetsDropped.auth > 0 && after.packetsDropped.decode > 0 && after.packetsDropped.oversize > 0 && after.packetsDropped.seal > 0, 'every drop reason seen');
    t.ok(target.swim.running, 'the target still runs');
    t.ok(allSee(members, members.map((m) => m.name), 'alive'), 'the cluster is undisturbed');
    // Authenticated mutations may decode into news about invented members (the key holder is
    // trusted); no real member may suffer from them.
    const real = new Set(members.map((m) => m.name));
    t.notOk(members.some((m) => m.events.some((e) => e.kind === 'failed' && real.has(e.member.name))), 'no real member declared failed');
  });
});

t.test('a SwimNode refuses impossible configurations and metadata at construction', async (t) => {
  t.throws(() => swimConfig('lan', { packetBytesMax: 600 }), { name: 'SwimConfigError' });
  t.throws(() => swimConfig('lan', { membersMax: 20_000 }), { name: 'SwimConfigError' });
  await simTest(t, 'bad meta', { seeds: [1] }, async (sim, t) => {
    const node = sim.addNode('x');
    const base = { world: node.world, config: swimConfig('lan'), keyring: testKeyring(), cluster };
    t.throws(() => new SwimNode({ ...base, name: 'no spaces', meta: meta(node.host) }), { name: 'SwimMetaError' });
    t.throws(() => new SwimNode({ ...base, name: 'x', meta: { ...meta(node.host), addresses: { gossip: 'nohost', cluster: 'a:1' } } }), { name: 'SwimMetaError' });
    const tags = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'v']));
    t.throws(() => new SwimNode({ ...base, name: 'x', meta: { ...meta(node.host), tags } }), { name: 'SwimMetaError' }, 'more than 8 tags');
  });
});
