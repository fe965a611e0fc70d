// Crash, restart and pause: what a process loses, what its disk keeps, what waits.
import t from 'tap';
import { every } from '@shoal/runtime';
import { Sim, SimTimeoutError } from '@shoal/sim';

t.test('a crash loses uncommitted writes only; a restart sees committed data', async (t) => {
  const sim = new Sim({ seed: 31, commitDelayMinMs: 1, commitDelayMaxMs: 1 });
  const node = sim.addNode('db');
  const storage = await node.world.openStorage('/data');
  const store = storage.store<string>('kv');
  await sim.settle(store.put(['committed'], 'yes'));
  await sim.settle(store.batch([{ op: 'put', key: ['b', 1], value: 'one' }, { op: 'put', key: ['b', 2], value: 'two' }]));
  let lostSettled = false;
  void store.put(['pending'], 'no').finally(() => (lostSettled = true));
  void store.batch([{ op: 'delete', key: ['committed'] }, { op: 'put', key: ['b', 3], value: 'three' }]).finally(() => (lostSettled = true));
  await sim.runFor(0.5);
  sim.crash(node);
  await sim.runFor(100);
  t.equal(lostSettled, false, 'the promises of lost writes never settle (the process is gone)');
  const world = sim.restart(node);
  const again = (await world.openStorage('/data')).store<string>('kv');
  t.equal(again.get(['committed']), 'yes', 'committed data survives');
  t.same([...again.range()].map((e) => e.key), [['b', 1], ['b', 2], ['committed']], 'the uncommitted batch is all gone, atomically');
  t.equal(again.get(['pending']), undefined, 'the uncommitted put is gone');
  const other = (await world.openStorage('/other')).store<string>('kv');
  t.equal(other.get(['committed']), undefined, 'paths are separate environments');
  const elsewhere = sim.addNode('other');
  t.equal((await elsewhere.world.openStorage('/data')).store<string>('kv').get(['committed']), undefined, 'disks are per node');
});

t.test('writes group into commits, visible and resolved together', async (t) => {
  const sim = new Sim({ seed: 32, commitDelayMinMs: 2, commitDelayMaxMs: 2 });
  const store = (await sim.addNode('n').world.openStorage('/d')).store<number>('s');
  const done: number[] = [];
  void store.put(['a'], 1).then(() => done.push(sim.nowMs));
  await sim.runFor(1);
  void store.put(['b'], 2).then(() => done.push(sim.nowMs));
  t.equal(store.get(['a']), undefined, 'not visible before its commit');
  await sim.runFor(5);
  t.same(done, [2, 2], 'both writes committed in the one commit');
  t.equal(sim.trace.lines.filter((l) => l.includes('commit n /d 2 ops')).length, 1);
});

t.test('timers of a crashed node never fire; a restarted node runs anew', async (t) => {
  const sim = new Sim({ seed: 33 });
  const a = sim.addNode('a');
  const fired: string[] = [];
  const old = a.world;
  old.clock.setTimer(10, () => fired.push('10'));
  old.clock.setTimer(20, () => fired.push('20'));
  every(old.clock, 7, () => fired.push('tick'));
  sim.at(15, () => a.crash());
  sim.at(16, () => old.clock.defer(() => fired.push('zombie defer')));
  await sim.runFor(200);
  t.same(fired, ['tick', '10', 'tick'], 'ticks at 7 and 14, the timer at 10, nothing after the crash at 15');
  t.notOk(sim.trace.lines.some((l) => /^(1[5-9]|[2-9]\d|1\d\d)\.\d+ timer a#/.test(l)), 'no timer of a in the trace after 15 ms');
  old.clock.setTimer(1, () => fired.push('zombie timer'));
  await t.rejects(sim.settle(old.transport.bindDatagram(a.address(1), () => undefined), { timeoutMs: 100 }), SimTimeoutError, "a dead process's calls never settle");
  const fresh = a.restart();
  t.equal(a.incarnation, 2);
  fresh.clock.setTimer(5, () => fired.push('new'));
  await sim.runFor(100);
  t.same(fired, ['tick', '10', 'tick', 'new']);
  t.not(fresh, old);
});

t.test('pause postpones timers and deliveries to its end, in the order they were scheduled', async (t) => {
  const sim = new Sim({ seed: 34, link: { latencyMinMs: 1, latencyMaxMs: 1 } });
  const a = sim.addNode('a');
  const b = sim.addNode('b');
  const seen: string[] = [];
  await sim.settle(a.world.transport.bindDatagram(a.address(7000), () => seen.push(`datagram@${sim.nowMs}`)));
  const eb = await sim.settle(b.world.transport.bindDatagram(b.address(7000), () => undefined));
  a.world.clock.setTimer(10, () => seen.push(`timer10@${sim.nowMs}`));
  a.world.clock.setTimer(30, () => seen.push(`timer30@${sim.nowMs}`));
  a.world.clock.setTimer(80, () => seen.push(`timer80@${sim.nowMs}`));
  sim.at(5, () => a.pause(50));
  sim.at(20, () => eb.send(a.address(7000), new Uint8Array(1)));
  b.world.clock.setTimer(40, () => seen.push(`b-timer40@${sim.nowMs}`));
  await sim.runFor(100);
  // timer30 was scheduled before the datagram's arrival was, so it runs first at the pause's
  // end (as Node runs expired timers before I/O after a stall).
  t.same(seen, ['b-timer40@40', 'timer10@55', 'timer30@55', 'datagram@55', 'timer80@80'], 'a stalls from 5 to 55; b does not');
});

t.test('restart of a running node crashes it first; crash of a down node is a no-op', async (t) => {
  const sim = new Sim({ seed: 35 });
  const a = sim.addNode('a');
  let fired = 0;
  a.world.clock.setTimer(10, () => fired++);
  sim.restart('a');
  sim.crash('a');
  sim.crash('a');
  t.equal(a.status, 'down');
  await sim.runFor(50);
  t.equal(fired, 0);
  t.same(sim.trace.lines.filter((l) => / (crash|restart) /.test(l)).map((l) => l.slice(6)), ['crash a incarnation 1', 'restart a incarnation 2', 'crash a incarnation 2']);
});
