// Simulated time: event order, defers, timers, run horizons, guards, clocks.
import t from 'tap';
import { every, sleep } from '@shoal/runtime';
import { Sim, SimInvariantError, SimLivelockError, SimReentryError, SimTimeoutError } from '@shoal/sim';
import { EventHeap } from '../src/heap.js';

t.test('the heap pops by (time, sequence)', async (t) => {
  const heap = new EventHeap<{ atMs: number; seq: number }>();
  const items = [5, 1, 3, 1, 5, 0, 3].map((atMs, seq) => ({ atMs, seq }));
  for (const item of items) heap.push(item);
  const out: number[] = [];
  for (let item = heap.pop(); item; item = heap.pop()) out.push(item.seq);
  t.same(out, [5, 1, 3, 2, 6, 0, 4]);
});

t.test('defers run now in FIFO order, before timers; timers in time order', async (t) => {
  const sim = new Sim({ seed: 1 });
  const { clock } = sim.addNode('a').world;
  const order: string[] = [];
  clock.setTimer(0, () => order.push(`timer0@${clock.monoMs()}`));
  clock.setTimer(5, () => order.push(`timer5@${clock.monoMs()}`));
  clock.setTimer(2.5, () => order.push(`timer2.5@${clock.monoMs()}`));
  clock.defer(() => {
    order.push('defer1');
    clock.defer(() => order.push('defer3'));
  });
  clock.defer(() => order.push('defer2'));
  await sim.run();
  t.same(order, ['defer1', 'defer2', 'defer3', 'timer0@1', 'timer2.5@2.5', 'timer5@5'], 'a zero delay waits 1 ms, as in Node');
  t.equal(sim.nowMs, 5);
});

t.test('cancelled timers do not fire; every() repeats; sleep resolves on simulated time', async (t) => {
  const sim = new Sim({ seed: 1 });
  const { clock } = sim.addNode('a').world;
  let fired = 0;
  const timer = clock.setTimer(10, () => fired++);
  timer.cancel();
  timer.cancel();
  let ticks = 0;
  const tick = every(clock, 100, () => ticks++);
  await sim.runFor(1050);
  t.equal(fired, 0);
  t.equal(ticks, 10);
  tick.cancel();
  await sim.runFor(1000);
  t.equal(ticks, 10, 'no ticks after cancel');
  const start = sim.nowMs;
  await sim.settle(sleep(clock, 250));
  t.equal(sim.nowMs - start, 250);
  for (let i = 0; i < 5000; i++) clock.setTimer(1000, () => undefined).cancel();
  t.ok(sim.stats.eventsPending < 5000, `cancelled timers are shed (${sim.stats.eventsPending} pending)`);
});

t.test('run horizons, step and runUntil', async (t) => {
  const sim = new Sim({ seed: 1 });
  const { clock } = sim.addNode('a').world;
  let n = 0;
  every(clock, 10, () => n++);
  await sim.run({ untilMs: 35 });
  t.equal(n, 3);
  t.equal(sim.nowMs, 35, 'time moves to the horizon');
  t.equal(await sim.step(), true);
  t.equal(n, 4);
  t.equal(sim.nowMs, 40);
  await sim.runUntil(() => n === 10);
  t.equal(sim.nowMs, 100);
  await t.rejects(sim.runUntil(() => n > 1000, { timeoutMs: 500, what: 'n over 1000' }), SimTimeoutError);
  t.equal(sim.nowMs, 600, 'a timeout leaves time at the deadline');
  const empty = new Sim({ seed: 1 });
  await t.rejects(empty.runUntil(() => false), /no events are left/);
  t.equal(await empty.step(), false);
  const busy = new Sim({ seed: 1 });
  every(busy.addNode('a').world.clock, 10, () => undefined);
  await busy.run({ eventsMax: 5 });
  t.equal(busy.nowMs, 50, 'eventsMax stops a run quietly');
  const endless = new Sim({ seed: 1, openRunEventsMax: 1000 });
  every(endless.addNode('a').world.clock, 10, () => undefined);
  await t.rejects(endless.run(), /still busy after 1000 events/, 'an open run under a periodic timer stops with an error');
});

t.test('a callback that keeps scheduling for now hits the livelock guard', async (t) => {
  const sim = new Sim({ seed: 1, eventsPerInstantMax: 1000 });
  const { clock } = sim.addNode('a').world;
  const spin = (): void => clock.defer(spin);
  clock.setTimer(7, spin);
  await t.rejects(sim.run(), SimLivelockError);
  const sim2 = new Sim({ seed: 1, eventsPerInstantMax: 10 });
  const c2 = sim2.addNode('a').world.clock;
  for (let i = 0; i < 100; i++) c2.setTimer(1 + i, () => undefined);
  await sim2.run();
  t.equal(sim2.stats.eventsRun, 100, 'many events at distinct instants are fine');
});

t.test('the driver is not re-entrant; invariants run after every event', async (t) => {
  const sim = new Sim({ seed: 1 });
  const { clock } = sim.addNode('a').world;
  clock.setTimer(1, () => void sim.runFor(10));
  await t.rejects(sim.run(), SimReentryError);
  const sim2 = new Sim({ seed: 1 });
  const c2 = sim2.addNode('a').world.clock;
  let x = 0;
  every(c2, 10, () => x++);
  sim2.invariant('x stays below 3', () => {
    if (x >= 3) throw new Error(`x is ${x}`);
  });
  await t.rejects(sim2.run({ untilMs: 100 }), SimInvariantError);
  t.equal(sim2.nowMs, 30, 'stopped right after the breaking event');
});

t.test('clocks: shared monotonic time, per-node wall offsets and jumps', async (t) => {
  const sim = new Sim({ seed: 1, wallEpochMs: 1_000_000 });
  const a = sim.addNode('a');
  const b = sim.addNode('b', { wallOffsetMs: -250 });
  await sim.runFor(100);
  t.equal(a.world.clock.monoMs(), 100);
  t.equal(b.world.clock.monoMs(), 100);
  t.equal(a.world.clock.wallMs(), 1_000_100);
  t.equal(b.world.clock.wallMs(), 999_850, 'skewed');
  b.jumpWallClock(10_000);
  t.equal(b.world.clock.wallMs(), 1_009_850, 'jumped forward');
  t.equal(b.world.clock.monoMs(), 100, 'monotonic time does not jump');
});

t.test('per-node randomness depends only on seed, name and incarnation', async (t) => {
  const draw = (names: string[], pick: string): number[] => {
    const sim = new Sim({ seed: 9 });
    for (const n of names) sim.addNode(n);
    const r = sim.node(pick).world.random;
    return [r.float(), r.float(), r.int(1000)];
  };
  t.same(draw(['a', 'b'], 'b'), draw(['x', 'b', 'y'], 'b'), 'adding other nodes changes nothing');
  t.notSame(draw(['a', 'b'], 'a'), draw(['a', 'b'], 'b'));
  const sim = new Sim({ seed: 9 });
  const a = sim.addNode('a');
  const first = a.world.random.float();
  t.not(a.restart().random.float(), first, 'a new incarnation draws anew');
});

t.test('log lines carry the node and simulated time; the tail is formatted', async (t) => {
  const sim = new Sim({ seed: 1 });
  const a = sim.addNode('a');
  await sim.runFor(12.5);
  a.world.logger.child({ component: 'x' }).info('hello', { n: 1 });
  t.same(sim.logTail(5), ['12.500 info a hello {"component":"x","n":1}']);
});
