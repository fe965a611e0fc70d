/**
 * The engine: scheduling (batches, budget, no defer per hop, sync fast path, async serial),
 * bounded mailboxes and dead letters, names, and the O(1) structure of a send and a context.
 */
import t from 'tap';
import {
  ActorNameError,
  DuplicateActorNameError,
  ActorStoppedError,
  dispatch,
  spawn,
  spawnStateless,
  start,
  stop,
  systemOf,
  type ActorContext,
  type ActorRef,
  type DeadLetter,
} from '@shoal/actors';
import { memoryLogger, silentLogger } from '@shoal/runtime';
import { ManualClock } from './manual-clock.js';

function system(opts: Parameters<typeof start>[0] & object = {}): { root: ActorRef<never>; clock: ManualClock } {
  const clock = new ManualClock();
  return { root: start({ clock, logger: silentLogger, ...opts }), clock };
}

t.test('synchronous behaviours: one defer turn processes everything, state is threaded, order kept', async (t) => {
  const { root, clock } = system();
  const seen: number[] = [];
  const a = spawn(root, (sum: number = 0, n: number) => {
    seen.push(n);
    return sum + n;
  });
  for (let i = 1; i <= 1000; i++) dispatch(a, i);
  t.equal(clock.defers, 1, 'one defer for the whole burst');
  t.equal(seen.length, 0, 'dispatch never runs a behaviour inline');
  clock.turn();
  t.equal(seen.length, 1000, 'all processed in one turn, without promise jobs');
  t.same(seen.slice(0, 3), [1, 2, 3]);
});

t.test('ping-pong between two actors costs no defer per hop', async (t) => {
  const { root, clock } = system();
  let hops = 0;
  type Ball = { n: number; to: ActorRef<Ball> };
  const player = (_s: undefined, ball: Ball, ctx: ActorContext<Ball>): undefined => {
    hops++;
    if (ball.n > 0) dispatch(ball.to, { n: ball.n - 1, to: ctx.self });
    return undefined;
  };
  const ping = spawn(root, player, 'ping');
  const pong = spawn(root, player, 'pong');
  dispatch(ping, { n: 2000, to: pong });
  clock.runDeferred();
  t.equal(hops, 2001);
  t.equal(clock.defers, 1, 'a 2001-hop exchange in one turn');
});

t.test('the per-turn budget yields to the event loop', async (t) => {
  const { root, clock } = system({ messagesPerTurnMax: 100, messagesPerRunMax: 10 });
  let n = 0;
  const a = spawn(root, () => void n++);
  const b = spawn(root, () => void n++);
  for (let i = 0; i < 500; i++) {
    dispatch(a, i);
    dispatch(b, i);
  }
  clock.turn();
  t.equal(n, 100, 'at most messagesPerTurnMax per turn');
  clock.runDeferred();
  t.equal(n, 1000);
  t.equal(clock.defers, 10, 'one defer per budget-sized turn');
});

t.test('async behaviours are serial: the next message waits for the promise', async (t) => {
  const { root, clock } = system();
  let inFlight = 0;
  let maxInFlight = 0;
  const order: number[] = [];
  const a = spawn(root, async (state: number = 0, n: number) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await Promise.resolve();
    await Promise.resolve();
    order.push(n);
    inFlight--;
    return state + n;
  });
  for (let i = 0; i < 20; i++) dispatch(a, i);
  await clock.settle();
  t.equal(maxInFlight, 1);
  t.same(order, [...Array(20).keys()]);
});

t.test('bounded mailbox: overflow becomes dead letters, counted by reason', async (t) => {
  const { root, clock } = system({ mailboxMax: 10 });
  let processed = 0;
  const small = spawn(root, () => void processed++, 'small');
  const big = spawn(root, () => void processed++, 'big', { mailboxMax: 100 });
  const letters: DeadLetter[] = [];
  const unsubscribe = systemOf(root).deadLetters.subscribe((l) => letters.push(l));
  for (let i = 0; i < 50; i++) {
    dispatch(small, i);
    dispatch(big, i);
  }
  clock.runDeferred();
  t.equal(processed, 60);
  t.equal(systemOf(root).deadLetters.byReason['mailbox-full'], 40);
  t.equal(letters.length, 40);
  t.equal(letters[0]?.to.toString(), 'local/small');
  t.equal(letters[0]?.message, 10, 'the 11th message is the first refused');
  unsubscribe();
  dispatch(small, 'later');
  clock.runDeferred();
  t.equal(letters.length, 40, 'unsubscribed');
});

t.test('messages to stopped and unknown actors are dead letters; queued ones too', async (t) => {
  const { root, clock } = system();
  const a = spawn(root, () => undefined, 'a');
  dispatch(a, 'queued-1');
  dispatch(a, 'queued-2');
  stop(a);
  dispatch(a, 'after-stop');
  dispatch(systemOf(root).refFromJSON({ node: 'local', path: ['ghost'] }), 'to-ghost');
  dispatch(root, 'to-root');
  clock.runDeferred();
  const dl = systemOf(root).deadLetters;
  t.equal(dl.byReason.stopped, 3, 'two queued at stop time, one sent after');
  t.equal(dl.byReason.unknown, 2, 'no such actor; the root is not an actor');
  t.equal(dl.total, 5);
});

t.test('a stopped name can be reused; the old ref reaches the new actor (nact path semantics)', async (t) => {
  const { root, clock } = system();
  const got: string[] = [];
  const first = spawn(root, (_s: undefined, m: string) => void got.push(`first:${m}`), 'svc');
  stop(first);
  spawn(root, (_s: undefined, m: string) => void got.push(`second:${m}`), 'svc');
  dispatch(first, 'hello');
  clock.runDeferred();
  t.same(got, ['second:hello']);
});

t.test('names: validated, duplicates refused, anonymous names never collide', async (t) => {
  const { root } = system();
  spawn(root, () => undefined, 'ok-name_1.2');
  t.throws(() => spawn(root, () => undefined, 'ok-name_1.2'), DuplicateActorNameError);
  for (const bad of ['a/b', '$1', 'sp ace', 'x'.repeat(200), 'é']) {
    t.throws(() => spawn(root, () => undefined, bad), ActorNameError, JSON.stringify(bad));
  }
  const names = new Set<string>();
  for (let i = 0; i < 100_000; i++) names.add(spawnStateless(root, () => undefined).name);
  t.equal(names.size, 100_000, '100k anonymous spawns, 100k distinct names');
  t.equal(systemOf(root).stats().actors, 100_001);
  t.throws(() => spawn(systemOf(root).refFromJSON({ node: 'local', path: ['ghost'] }), () => undefined), ActorStoppedError);
  stop(root);
  t.equal(systemOf(root).stats().actors, 0, 'stopping the root stops everything');
});

t.test('O(1) per message with 10k children and siblings: no copy of the children map', async (t) => {
  const { root, clock } = system();
  const childrenSeen: ReadonlyMap<string, ActorRef>[] = [];
  const sizes: number[] = [];
  const parent = spawn(root, (_s: undefined, msg: string, ctx: ActorContext<string>) => {
    if (msg === 'spawn') for (let i = 0; i < 10_000; i++) spawnStateless(ctx.self, () => undefined, `c${i}`);
    childrenSeen.push(ctx.children);
    sizes.push(ctx.children.size);
    return undefined;
  });
  dispatch(parent, 'spawn');
  dispatch(parent, 'look');
  clock.runDeferred();
  const view = childrenSeen[0];
  t.ok(view && childrenSeen.every((c) => c === view), 'every context shares one live view: nothing is copied per message');
  t.same(sizes, [10_000, 10_000]);
  t.equal(view?.get('c42')?.toString(), 'local/$1/c42');
  stop(view!.get('c42')!);
  t.equal(view?.size, 9_999, 'the view is live');
  t.equal([...view!.keys()].length, 9_999);
  t.equal([...view!.values()][0]?.toString(), 'local/$1/c0');
  t.same([...view!].find(([name]) => name === 'c7')?.[1]?.path, ['$1', 'c7']);
  let counted = 0;
  view!.forEach(() => counted++);
  t.equal(counted, 9_999);
  // A message to one of 10k siblings touches only that sibling: its context has no children.
  let siblingCtx: ActorContext<string> | undefined;
  const sibling = spawn(parent, (_s: undefined, _m: string, ctx: ActorContext<string>) => void (siblingCtx = ctx), 'probe');
  dispatch(sibling, 'x');
  clock.runDeferred();
  t.equal(siblingCtx?.children.size, 0);
  t.equal(siblingCtx?.parent.toString(), 'local/$1');
});

t.test('shutdownAfter stops an idle actor; activity postpones it', async (t) => {
  const { root, clock } = system();
  let stopped = false;
  const a = spawn(root, () => undefined, 'idle', { shutdownAfter: 1000, afterStop: () => void (stopped = true) });
  clock.advance(600);
  dispatch(a, 'ping');
  clock.advance(600);
  t.notOk(stopped, 'the message restarted the idle clock');
  clock.advance(500);
  t.ok(stopped, 'stopped 1000 ms after its last message');
});

t.test('stopping a parent stops its subtree depth-first, children before the parent', async (t) => {
  const { root, clock } = system();
  const order: string[] = [];
  const afterStop = (name: string) => () => void order.push(name);
  const p = spawn(root, () => undefined, 'p', { afterStop: afterStop('p') });
  const c1 = spawn(p, () => undefined, 'c1', { afterStop: afterStop('c1') });
  spawn(c1, () => undefined, 'g1', { afterStop: afterStop('g1') });
  spawn(p, () => undefined, 'c2', { afterStop: afterStop('c2') });
  stop(p);
  clock.runDeferred();
  t.ok(order.indexOf('g1') < order.indexOf('c1'), 'grandchild before child');
  t.equal(order.at(-1), 'p', 'parent last');
  t.equal(order.length, 4);
  t.throws(() => spawn(c1, () => undefined), ActorStoppedError, 'no spawn under a stopped actor');
});

t.test('an actor that stops itself mid-message: the rest of its mailbox is dead letters', async (t) => {
  const { root, clock } = system();
  const seen: string[] = [];
  let finalState: unknown;
  const a = spawn(
    root,
    (state: number = 0, msg: string, ctx: ActorContext<string>) => {
      seen.push(msg);
      if (msg === 'quit') stop(ctx.self);
      return state + 1;
    },
    'a',
    { afterStop: (state) => void (finalState = state) },
  );
  for (const m of ['one', 'quit', 'three', 'four']) dispatch(a, m);
  clock.runDeferred();
  t.same(seen, ['one', 'quit']);
  t.equal(finalState, 1, 'afterStop sees the state before the message that stopped it');
  t.equal(systemOf(root).deadLetters.byReason.stopped, 2);
});

t.test('invalid arguments fail loudly', async (t) => {
  const { root } = system();
  t.throws(() => spawn(root, 42 as never), { name: 'ActorConfigError' });
  t.throws(() => spawn(root, () => undefined, 'x', { shutdownAfter: '1s' as never }), { name: 'ActorConfigError' });
  t.throws(() => spawn(root, () => undefined, 'y', { mailboxMax: 0 }), { name: 'ActorConfigError' });
  t.throws(() => spawn(root, () => undefined, 'z', { restart: { backoffJitter: 2 } }), { name: 'ActorConfigError' });
  t.throws(() => dispatch({ node: 'local', path: ['x'] } as never, 'hi'), { name: 'InvalidRefError' });
  t.throws(() => start({ name: 'bad/name' }), { name: 'ActorNameError' });
  t.throws(() => start({ mailboxMax: -1 }), { name: 'ActorConfigError' });
});

t.test('dead letters are logged at debug, at most deadLetterLogBurstMax per window', async (t) => {
  const clock = new ManualClock();
  const logger = memoryLogger(clock, 'debug');
  const root = start({ clock, logger, deadLetterLogBurstMax: 3, deadLetterLogWindowMs: 1000 });
  const ghost = systemOf(root).refFromJSON({ node: 'local', path: ['ghost'] });
  for (let i = 0; i < 50; i++) dispatch(ghost, { type: 'ping', i });
  const lines = () => logger.lines.filter((l) => l.msg.startsWith('dead letter'));
  t.equal(lines().length, 3);
  t.match(lines()[0], { level: 'debug', fields: { reason: 'unknown', to: 'local/ghost', type: 'ping', node: 'local' } });
  clock.advance(1000);
  dispatch(ghost, 'next window');
  t.match(lines().slice(3), [{ msg: 'dead letters not logged', fields: { count: 47 } }, { msg: 'dead letter' }]);
  t.equal(systemOf(root).deadLetters.total, 51, 'all counted');
});
