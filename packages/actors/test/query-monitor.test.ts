/**
 * Queries (timeout, prompt failure for undeliverable messages, late replies) and monitors
 * (stopped, crashed, noproc, demonitor, cleanup).
 */
import t from 'tap';
import {
  ActorConfigError,
  QueryTimeoutError,
  SystemStoppedError,
  UndeliverableError,
  demonitor,
  dispatch,
  isDownMessage,
  monitor,
  query,
  spawn,
  start,
  stop,
  systemOf,
  type ActorContext,
  type ActorRef,
  type DownMessage,
} from '@shoal/actors';
import { silentLogger } from '@shoal/runtime';
import { ManualClock } from './manual-clock.js';

function setup(opts: { mailboxMax?: number } = {}): { root: ActorRef<never>; clock: ManualClock } {
  const clock = new ManualClock();
  return { root: start({ clock, logger: silentLogger, restart: { maxRestarts: 0 }, ...opts }), clock };
}

/** Settles `p` into a value or an error without leaving a rejection unhandled. */
function outcome<T>(p: Promise<T>): Promise<{ value?: T; err?: unknown }> {
  return p.then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
}

const silent = (): undefined => undefined;

t.test('query timeout: a named error naming the target and the timeout; a late reply is a dead letter', async (t) => {
  const { root, clock } = setup();
  let held: ActorRef | undefined;
  const slow = spawn(root, (_s: undefined, _m: string, ctx: ActorContext<string>) => void (held = ctx.sender), 'slow');
  const result = outcome(query(slow, 'hello', 250));
  clock.runDeferred();
  t.match(held?.toString(), /^local\/\$query\/[0-9a-f]{8}-1$/, 'the temp ref is a real, printable ref (an epoch per system, then a counter)');
  clock.advance(249);
  clock.advance(1);
  const { err } = await result;
  t.type(err, QueryTimeoutError);
  t.match(err, { name: 'QueryTimeoutError', target: 'local/slow', timeoutMs: 250, message: 'query to local/slow timed out after 250 ms' });
  dispatch(held!, 'too late');
  t.equal(systemOf(root).deadLetters.byReason['query-closed'], 1);
  t.equal(systemOf(root).stats().pendingQueries, 0);
});

t.test('a query that cannot be delivered fails at once, not at its timeout', async (t) => {
  const { root, clock } = setup({ mailboxMax: 1 });
  const sys = systemOf(root);
  const ghost = sys.refFromJSON<string>({ node: 'local', path: ['ghost'] });
  const r1 = await outcome(query(ghost, 'hi', 60_000));
  t.match(r1.err, { name: 'UndeliverableError', reason: 'unknown', message: 'query to local/ghost was not delivered: no such actor' });

  const a = spawn(root, silent, 'a');
  stop(a);
  const r2 = await outcome(query(a, 'hi', 60_000));
  t.match(r2.err, { reason: 'stopped' });

  const b = spawn(root, silent, 'b');
  dispatch(b, 'fills the mailbox');
  const r3 = await outcome(query(b, 'hi', 60_000));
  t.match(r3.err, { reason: 'mailbox-full' });

  const c = spawn(root, silent, 'c');
  const queued = outcome(query(c, 'queued when c stops', 60_000));
  stop(c);
  t.match((await queued).err, { reason: 'stopped' }, 'a query waiting in a stopped mailbox fails at the stop');
  t.equal(clock.nowMs, 0, 'no time passed');
  t.type(r1.err, UndeliverableError);
});

t.test('query arguments and lifecycle', async (t) => {
  const { root, clock } = setup();
  const echo = spawn(root, (_s: undefined, m: unknown, ctx: ActorContext<unknown>) => {
    dispatch(ctx.sender, m);
    dispatch(ctx.sender, 'second reply');
    return undefined;
  });
  t.throws(() => query(echo, 'x', 0), ActorConfigError, 'a timeout is required, as in nact');
  const factoryThrows = await outcome(
    query(echo, () => {
      throw new Error('bad factory');
    }, 100),
  );
  t.match(factoryThrows.err, { message: 'bad factory' });
  const answered = outcome(query(echo, (temp) => ({ replyTo: temp.toString() }), 100));
  clock.runDeferred();
  t.match((await answered).value, { replyTo: /^local\/\$query\/[0-9a-f]{8}-2$/ });
  t.equal(systemOf(root).deadLetters.byReason['query-closed'], 1, 'the second reply is a dead letter');
  const pending = outcome(query(spawn(root, silent), 'never answered', 1000));
  clock.runDeferred(); // delivered and processed, so the stop finds no undelivered message
  stop(root);
  t.type((await pending).err, SystemStoppedError, 'stopping the system fails pending queries');
});

t.test('a temp ref can be forwarded: whoever replies settles the query', async (t) => {
  const { root, clock } = setup();
  const backend = spawn(root, (_s: undefined, m: { n: number }, ctx: ActorContext<{ n: number }>) => {
    dispatch(ctx.sender, m.n * 2, ctx.self);
    return undefined;
  });
  const front = spawn(root, (_s: undefined, m: { n: number }, ctx: ActorContext<{ n: number }>) => {
    dispatch(backend, m, ctx.sender);
    return undefined;
  });
  const r = outcome(query(front, { n: 21 }, 100));
  clock.runDeferred();
  t.equal((await r).value, 42);
});

t.test('monitors: stopped, crashed, noproc at once, demonitor, cleanup', async (t) => {
  const { root, clock } = setup();
  const downs: DownMessage[] = [];
  const watcher = spawn(root, (_s: undefined, m: DownMessage) => void downs.push(m), 'watcher');
  const a = spawn(root, silent, 'a');
  const b = spawn(root, () => {
    throw new Error('b fails');
  }, 'b');
  const c = spawn(root, silent, 'c');
  const idle = spawn(root, silent, 'idle', { shutdownAfter: 50 });
  const ida = monitor(watcher, a);
  const idb = monitor(watcher, b);
  const idc = monitor(watcher, c);
  const idIdle = monitor(watcher, idle);
  const idGhost = monitor(watcher, systemOf(root).refFromJSON({ node: 'local', path: ['ghost'] }));
  t.equal(new Set([ida, idb, idc, idIdle, idGhost]).size, 5, 'distinct ids');
  t.ok(demonitor(idc));
  t.notOk(demonitor(idc), 'twice: false');
  stop(a);
  dispatch(b, 'crash, and with maxRestarts 0 the root stops it');
  stop(c);
  clock.advance(100);
  const byId = new Map(downs.map((d) => [d.monitorId, d]));
  t.match(byId.get(idGhost), { type: 'shoal.down', reason: 'noproc' });
  t.match(byId.get(ida), { reason: 'stopped', ref: a });
  t.match(byId.get(idb), { reason: 'crashed' });
  t.match(byId.get(idIdle), { reason: 'stopped' }, 'an idle shutdown is a normal stop');
  t.notOk(byId.has(idc), 'demonitored: no message');
  t.equal(downs.length, 4);
  t.ok(downs.every(isDownMessage));
  t.notOk(isDownMessage({ type: 'shoal.down', reason: 'bored', monitorId: 1, ref: a }));
  t.equal(systemOf(root).stats().monitors, 0, 'fired monitors are gone');
  const d = spawn(root, silent, 'd');
  monitor(watcher, d);
  stop(watcher);
  t.equal(systemOf(root).stats().monitors, 0, 'a stopped watcher takes its monitors with it');
  stop(d);
  clock.runDeferred();
  t.equal(systemOf(root).deadLetters.byReason.stopped, 0, 'nobody was left to be told');
});
