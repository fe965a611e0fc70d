import t from 'tap';
import { every, nodeClock, sleep } from '@shoal/runtime';

t.test('node clock: monotonic readings, wall time near Date.now', async (t) => {
  const clock = nodeClock();
  const a = clock.monoMs();
  const b = clock.monoMs();
  t.ok(b >= a, 'monotonic');
  t.ok(Math.abs(clock.wallMs() - Date.now()) < 1000, 'wall clock is epoch milliseconds');
});

t.test('timers fire once, cancel stops them, defer runs after the current task', async (t) => {
  const clock = nodeClock();
  const order: string[] = [];
  clock.defer(() => order.push('defer'));
  order.push('sync');
  const cancelled = clock.setTimer(1, () => order.push('cancelled'));
  cancelled.cancel();
  cancelled.cancel();
  await new Promise<void>((resolve) => clock.setTimer(5, () => resolve()));
  t.same(order, ['sync', 'defer']);
});

t.test('every repeats until cancelled; sleep honours abort', async (t) => {
  const clock = nodeClock();
  let runs = 0;
  const ticker = every(clock, 1, () => {
    runs++;
    if (runs === 3) ticker.cancel();
  });
  await sleep(clock, 30);
  t.equal(runs, 3);

  const ac = new AbortController();
  const p = sleep(clock, 10_000, { signal: ac.signal });
  ac.abort(new Error('stop waiting'));
  await t.rejects(p, { message: 'stop waiting' });
  await t.rejects(sleep(clock, 1, { signal: ac.signal }), { message: 'stop waiting' }, 'already aborted');
});
