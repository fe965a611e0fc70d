// The protocol core alone: deterministic inputs with explicit times, effects checked one by one.
import t from 'tap';
import { seededRandom } from '@shoal/runtime';
import { sealOverheadBytes } from '@shoal/wire';
import { packetOverheadBytes, SwimCodec, SwimCore, swimConfig, type Effect, type MemberMeta, type SwimConfig, type SwimMessage } from '@shoal/swim';

const codec = new SwimCodec(1400 - sealOverheadBytes);
const meta = (i: number): MemberMeta => ({ role: 'core', version: '1', addresses: { gossip: `10.0.0.${i}:7946`, cluster: `10.0.0.${i}:7947` }, tags: {} });

function makeCore(others: number, config: SwimConfig = swimConfig('lan'), seed = 1): SwimCore {
  const core = new SwimCore({ config, name: 'n0', meta: meta(200), random: seededRandom(seed), measure: (m) => codec.measure(m), packetOverheadBytes, nowMs: 0 });
  const news: SwimMessage[] = Array.from({ length: others }, (_, i) => ({ t: 'alive', name: `n${i + 1}`, inc: 1, meta: meta(i + 1) }));
  core.receive('10.0.0.1:7946', news, 0);
  return core;
}

const sends = (effects: readonly Effect[]): Extract<Effect, { kind: 'send' }>[] => effects.filter((e): e is Extract<Effect, { kind: 'send' }> => e.kind === 'send');
const pings = (effects: readonly Effect[]): Extract<SwimMessage, { t: 'ping' }>[] =>
  sends(effects).flatMap((e) => e.messages.filter((m): m is Extract<SwimMessage, { t: 'ping' }> => m.t === 'ping'));

/** Ticks every ms from `from` to `to` (exclusive), collecting effects. */
function run(core: SwimCore, from: number, to: number, onEffects?: (e: Effect[], now: number) => void): Effect[] {
  const all: Effect[] = [];
  for (let now = from; now < to; now++) {
    const e = core.tick(now);
    onEffects?.(e, now);
    all.push(...e);
  }
  return all;
}

t.test('a probe answered by an ack raises no suspicion', async (t) => {
  const core = makeCore(4);
  run(core, 1, 10_000, (effects, now) => {
    for (const p of pings(effects)) core.receive(`10.0.0.${p.target.slice(1)}:7946`, [{ t: 'ack', seq: p.seq }], now);
  });
  t.ok(core.stats.probes >= 9, `${core.stats.probes} probes`);
  t.equal(core.stats.suspicions, 0);
  t.equal(core.counts().alive, 5);
});

t.test('no ack: ping-req to k helpers with nacks asked, then suspicion; the next probe carries it (buddy)', async (t) => {
  const core = makeCore(4);
  let first: Extract<SwimMessage, { t: 'ping' }> | undefined;
  const effects = run(core, 1, 3000, (e) => {
    first ??= pings(e)[0];
  });
  t.ok(first, 'a probe went out');
  const reqs = sends(effects).flatMap((e) => e.messages).filter((m) => m.t === 'ping-req' && m.target === first!.target);
  t.equal(reqs.length, 3, 'three indirect checks');
  t.ok(reqs.every((m) => m.t === 'ping-req' && m.nack), 'nacks asked (Lifeguard)');
  t.equal(core.member(first!.target)?.state, 'suspect');
  t.ok(core.health >= 1, 'missing nacks raised the health score');
});

t.test('buddy system: the probe of a suspect carries the suspicion', async (t) => {
  const core = makeCore(4);
  core.receive('x:1', [{ t: 'suspect', name: 'n2', inc: 1, from: 'n3' }], 0);
  const effects = run(core, 1, 1001);
  const toSuspect = sends(effects).filter((s) => s.messages.some((m) => m.t === 'ping' && m.target === 'n2'));
  t.equal(toSuspect.length, 1, 'probed next (probeSoon)');
  t.ok(toSuspect[0]!.messages.some((m) => m.t === 'suspect' && m.name === 'n2'), 'with the suspicion in the same packet');
});

t.test('all nacks in: the probe fails at once, and the health score does not move', async (t) => {
  const core = makeCore(4);
  let reqAt = -1;
  let target = '';
  run(core, 1, 2000, (e, now) => {
    const reqs = sends(e).flatMap((s) => s.messages).filter((m): m is Extract<SwimMessage, { t: 'ping-req' }> => m.t === 'ping-req');
    if (reqs.length === 0 || reqAt >= 0) return;
    reqAt = now;
    target = reqs[0]!.target;
    for (const r of reqs) core.receive('h:1', [{ t: 'nack', seq: r.seq }], now);
  });
  t.ok(reqAt > 0, 'indirect probes went out');
  t.equal(core.member(target)?.state, 'suspect', 'suspected as soon as the last nack came, before the period ended');
  t.equal(core.stats.probeFailures, 1);
  t.equal(core.health, 0, 'every helper nacked: the target is the problem, not us');
});

t.test('news of our own suspicion or death is refuted with a higher incarnation', async (t) => {
  const core = makeCore(3);
  const inc = core.incarnation;
  core.receive('x:1', [{ t: 'suspect', name: 'n0', inc: inc + 5, from: 'n1' }], 10);
  t.equal(core.incarnation, inc + 6);
  core.receive('x:1', [{ t: 'dead', name: 'n0', inc: inc + 6, from: 'n2' }], 20);
  t.equal(core.incarnation, inc + 7);
  t.equal(core.stats.refutations, 2);
  core.receive('x:1', [{ t: 'alive', name: 'n0', inc: inc + 7, meta: meta(9) }], 30);
  t.equal(core.incarnation, inc + 8, 'an alive of ours with other metadata (an older process) is refuted too');
  const out = sends(run(core, 31, 1000)).flatMap((s) => s.messages);
  t.ok(out.some((m) => m.t === 'alive' && m.name === 'n0' && m.inc === inc + 8), 'the refutation is gossiped');
});

t.test('incarnation rules: alive needs a higher incarnation; suspect/dead at the same one win', async (t) => {
  const core = makeCore(3);
  core.receive('x:1', [{ t: 'suspect', name: 'n1', inc: 1, from: 'n2' }], 1);
  t.equal(core.member('n1')?.state, 'suspect');
  core.receive('x:1', [{ t: 'alive', name: 'n1', inc: 1, meta: meta(1) }], 2);
  t.equal(core.member('n1')?.state, 'suspect', 'same incarnation does not refute');
  core.receive('x:1', [{ t: 'alive', name: 'n1', inc: 2, meta: meta(1) }], 3);
  t.equal(core.member('n1')?.state, 'alive', 'a higher one does');
  t.equal(core.stats.falseSuspicionsRefuted, 1);
  core.receive('x:1', [{ t: 'dead', name: 'n1', inc: 1, from: 'n2' }], 4);
  t.equal(core.member('n1')?.state, 'alive', 'stale dead ignored');
  core.receive('x:1', [{ t: 'dead', name: 'n1', inc: 2, from: 'n2' }], 5);
  t.equal(core.member('n1')?.state, 'dead');
  core.receive('x:1', [{ t: 'dead', name: 'n1', inc: 2, from: 'n1' }], 6);
  t.equal(core.member('n1')?.state, 'left', "the member's own leave turns dead into left");
  core.receive('x:1', [{ t: 'suspect', name: 'nobody', inc: 9, from: 'n2' }], 7);
  t.equal(core.member('nobody'), undefined, 'members are never learned from accusations');
});

t.test('push-pull merge: remote dead becomes our suspicion; unknown dead ignored; left applied', async (t) => {
  const core = makeCore(3);
  core.mergeRemoteState(
    [
      { name: 'n1', inc: 1, state: 'dead', meta: meta(1) },
      { name: 'n2', inc: 1, state: 'left', meta: meta(2) },
      { name: 'ghost', inc: 1, state: 'dead', meta: meta(50) },
      { name: 'fresh', inc: 0, state: 'alive', meta: meta(51) },
      { name: 'shy', inc: 0, state: 'suspect', meta: meta(52) },
    ],
    10,
  );
  t.equal(core.member('n1')?.state, 'suspect', 'dead downgraded to suspect: it may refute');
  t.equal(core.member('n2')?.state, 'left');
  t.equal(core.member('ghost'), undefined);
  t.equal(core.member('fresh')?.state, 'alive');
  t.equal(core.member('shy')?.state, 'suspect');
});

t.test('suspicion timeout: max with no confirmation, min once k members confirm', async (t) => {
  const lone = makeCore(9);
  lone.receive('x:1', [{ t: 'suspect', name: 'n5', inc: 1, from: 'n1' }], 0);
  // n = 10: min = 4 × log10(10) × 1 s = 4 s, max = 24 s, k = 2.
  lone.tick(23_999);
  t.equal(lone.member('n5')?.state, 'suspect', 'alone, the suspicion lasts max');
  lone.tick(24_000);
  t.equal(lone.member('n5')?.state, 'dead');
  const confirmed = makeCore(9);
  confirmed.receive('x:1', [{ t: 'suspect', name: 'n5', inc: 1, from: 'n1' }], 0);
  confirmed.receive('x:1', [{ t: 'suspect', name: 'n5', inc: 1, from: 'n2' }, { t: 'suspect', name: 'n5', inc: 1, from: 'n3' }], 100);
  confirmed.tick(3999);
  t.equal(confirmed.member('n5')?.state, 'suspect');
  confirmed.tick(4000);
  t.equal(confirmed.member('n5')?.state, 'dead', 'two confirmations: min');
  t.equal(confirmed.stats.suspicionConfirmations, 2);
  const plain = makeCore(9, swimConfig('lan', { lifeguard: false }));
  plain.receive('x:1', [{ t: 'suspect', name: 'n5', inc: 1, from: 'n1' }], 0);
  plain.tick(4000);
  t.equal(plain.member('n5')?.state, 'dead', 'Lifeguard off: always min');
});

t.test('a member suspected by others is probed next (probeSoon)', async (t) => {
  const core = makeCore(30);
  core.receive('x:1', [{ t: 'suspect', name: 'n17', inc: 1, from: 'n3' }], 0);
  const first = pings(run(core, 1, 1001))[0];
  t.equal(first?.target, 'n17');
});

t.test('event-loop lag raises the health score (Lifeguard on only)', async (t) => {
  const core = makeCore(3);
  t.notOk(core.reportLag(200), 'below lagThresholdMs: nothing');
  t.ok(core.reportLag(2500));
  t.equal(core.health, 3, 'ceil(2500 / 1000)');
  t.ok(core.reportLag(60_000));
  t.equal(core.health, 7, 'capped at healthMax − 1');
  const plain = makeCore(3, swimConfig('lan', { lifeguard: false }));
  t.notOk(plain.reportLag(5000));
  t.equal(plain.health, 0);
});

t.test('leave: self is left, a dead-from-self goes out at once, no more probes', async (t) => {
  const core = makeCore(3);
  run(core, 1, 2000);
  const probes = core.stats.probes;
  core.leave(2000);
  t.equal(core.member('n0')?.state, 'left');
  const out = run(core, 2000, 2001);
  t.ok(sends(out).some((s) => s.messages.some((m) => m.t === 'dead' && m.name === 'n0' && m.from === 'n0')), 'leave gossiped in the same tick');
  run(core, 2001, 8000);
  t.equal(core.stats.probes, probes, 'a leaving node accuses nobody');
  core.receive('x:1', [{ t: 'suspect', name: 'n0', inc: 99, from: 'n1' }], 8000);
  t.equal(core.incarnation, 0, 'and refutes nothing');
});

t.test('bounded: members beyond membersMax and ping-req beyond indirectPendingMax are ignored', async (t) => {
  const core = makeCore(3, swimConfig('lan', { membersMax: 5, indirectPendingMax: 2 }));
  core.receive('x:1', [3, 4, 5, 6].map((i) => ({ t: 'alive' as const, name: `m${i}`, inc: 1, meta: meta(i + 10) })), 1);
  t.equal(core.members().length, 6, 'self + 5');
  t.equal(core.stats.membersIgnored, 2);
  for (let i = 0; i < 5; i++) core.receive('x:1', [{ t: 'ping-req', seq: i, target: 'n1', targetAddr: '10.0.0.1:7946', from: 'n2', nack: true }], 2);
  t.equal(core.stats.indirectRequestsIgnored, 3);
});

t.test('older news is answered with ours, to its sender, once per period', async (t) => {
  const core = makeCore(3);
  core.receive('x:1', [{ t: 'dead', name: 'n1', inc: 1, from: 'n1' }], 10);
  t.equal(core.member('n1')?.state, 'left');
  const out = core.receive('10.0.0.9:7946', [{ t: 'suspect', name: 'n1', inc: 1, from: 'n2' }], 20);
  const reply = sends(out).find((s) => s.to === '10.0.0.9:7946');
  t.ok(reply?.messages.some((m) => m.t === 'dead' && m.name === 'n1' && m.from === 'n1'), 'the stale sender learns of the leave');
  const again = core.receive('10.0.0.9:7946', [{ t: 'alive', name: 'n1', inc: 1, meta: meta(1) }], 30);
  t.notOk(sends(again).some((s) => s.to === '10.0.0.9:7946'), 'rate-limited');
  const same = core.receive('10.0.0.8:7946', [{ t: 'dead', name: 'n1', inc: 1, from: 'n1' }], 40);
  t.notOk(sends(same).some((s) => s.to === '10.0.0.8:7946'), 'news as new as ours needs no answer');
  t.equal(core.stats.correctionsSent, 1);
});

t.test('joining and leaving are announced directly to members, besides gossip', async (t) => {
  const core = makeCore(5);
  const joined = core.mergeRemoteState([{ name: 'n9', inc: 0, state: 'alive', meta: meta(9) }], 10, { joined: true });
  const hello = sends(joined).filter((s) => s.messages.some((m) => m.t === 'alive' && m.name === 'n0'));
  t.equal(hello.length, 6, 'every known live member is told we are alive');
  t.equal(sends(core.mergeRemoteState([], 20, { joined: true })).length, 0, 'only once');
  const bye = sends(core.leave(30)).filter((s) => s.messages.some((m) => m.t === 'dead' && m.name === 'n0' && m.from === 'n0'));
  t.equal(bye.length, 6, 'and that we leave');
});
