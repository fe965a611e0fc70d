/**
 * Supervision: the restart-intensity and backoff maths (pure, table-tested), the default policy
 * (restart with fresh state, backoff observed on a manual clock, escalation when the intensity
 * is exceeded, stop at the root), and each of nact's ten decisions.
 */
import t from 'tap';
import {
  decisions,
  dispatch,
  monitor,
  planRestart,
  query,
  restartDelayMs,
  spawn,
  start,
  systemOf,
  type ActorContext,
  type ActorRef,
  type CrashHandler,
  type DownMessage,
  type RestartPolicy,
} from '@shoal/actors';
import { memoryLogger, silentLogger, type Logger } from '@shoal/runtime';
import { ManualClock } from './manual-clock.js';

const policy: RestartPolicy = { maxRestarts: 5, withinMs: 10_000, backoffMinMs: 100, backoffMaxMs: 1_000, backoffJitter: 0 };

t.test('restartDelayMs: immediate first, then doubling from min, capped at max, jitter only adds', async (t) => {
  const table: [number, number][] = [
    [1, 0],
    [2, 100],
    [3, 200],
    [4, 400],
    [5, 800],
    [6, 1_000],
    [30, 1_000],
  ];
  for (const [attempt, delay] of table) t.equal(restartDelayMs(attempt, policy, 0.99), delay, `attempt ${attempt}`);
  const jittery = { ...policy, backoffJitter: 0.5 };
  t.equal(restartDelayMs(2, jittery, 0), 100);
  t.equal(restartDelayMs(2, jittery, 0.5), 125);
  t.equal(restartDelayMs(5, jittery, 0.9), 1_000, 'jitter never exceeds the max');
});

t.test('planRestart: a sliding window of at most maxRestarts restarts', async (t) => {
  let history: readonly number[] = [];
  const attempts: (number | string)[] = [];
  for (const now of [0, 1, 2, 3, 4, 5]) {
    const plan = planRestart(history, now, policy, 0);
    history = plan.history;
    attempts.push(plan.kind === 'restart' ? plan.attempt : plan.kind);
  }
  t.same(attempts, [1, 2, 3, 4, 5, 'exceeded']);
  t.equal(history.length, 5, 'the history never exceeds maxRestarts');
  const later = planRestart(history, 10_000.5, policy, 0);
  t.match(later, { kind: 'restart', attempt: 5 }, 'the restart at t=0 left the window; four remain');
  t.match(planRestart([], 0, { ...policy, maxRestarts: 0 }, 0), { kind: 'exceeded' });
});

// ---- the engine --------------------------------------------------------------------------

type Msg = 'inc' | 'boom' | 'reject' | 'get';

/** A counter that crashes on 'boom' (sync) and 'reject' (async), and answers 'get'. */
function counter(state: number = 0, msg: Msg, ctx: ActorContext<Msg>): number | Promise<number> {
  switch (msg) {
    case 'inc':
      return state + 1;
    case 'boom':
      throw new Error('boom');
    case 'reject':
      return Promise.reject(new Error('rejected'));
    case 'get':
      dispatch(ctx.sender, state);
      return state;
  }
}

function setup(logger: Logger = silentLogger): { root: ActorRef<never>; clock: ManualClock; downs: DownMessage[]; watcher: ActorRef<DownMessage> } {
  const clock = new ManualClock();
  const root = start({ clock, logger, restart: policy });
  const downs: DownMessage[] = [];
  const watcher = spawn(root, (_s: undefined, m: DownMessage) => void downs.push(m), 'watcher');
  return { root, clock, downs, watcher };
}

async function get(clock: ManualClock, ref: ActorRef<Msg>): Promise<unknown> {
  // Handled at once: a query to a stopped actor rejects synchronously.
  const outcome = query<number, Msg>(ref, 'get', 5_000).then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
  await clock.settle();
  const o = await outcome;
  if ('err' in o) throw o.err;
  return o.value;
}

function send(ref: ActorRef<Msg>, ...msgs: Msg[]): void {
  for (const m of msgs) dispatch(ref, m);
}

t.test('default policy: a crash restarts the actor with fresh state, stops its children, keeps its mail', async (t) => {
  const { root, clock } = setup();
  const a = spawn(root, counter, 'a');
  const kid = spawn(a, counter, 'kid');
  send(a, 'inc', 'inc', 'boom', 'inc');
  await clock.settle();
  t.equal(await get(clock, a), 1, 'state reset by the crash; the message after it was processed');
  t.equal(systemOf(root).resolveLocal(kid), undefined, 'the child of the crashed incarnation was stopped');
  send(a, 'inc', 'reject', 'inc');
  await clock.settle();
  clock.advance(100); // second restart in the window: backoff
  t.equal(await get(clock, a), 1, 'a rejected promise is a crash too');
});

t.test('backoff: immediate, then 100, 200, 400, 800 ms; then the intensity is exceeded and the root stops it', async (t) => {
  const logger = memoryLogger(new ManualClock());
  const { root, clock, downs, watcher } = setup(logger);
  const processedAt: number[] = [];
  const a = spawn(root, (_s: undefined, msg: Msg) => {
    if (msg === 'boom') throw new Error('boom');
    processedAt.push(clock.nowMs);
    return undefined;
  });
  monitor(watcher, a);
  const waited: number[] = [];
  for (const delay of [0, 100, 200, 400, 800]) {
    const crashedAt = clock.nowMs;
    send(a, 'boom', 'inc');
    clock.runDeferred();
    if (delay > 0) {
      t.same(clock.pendingTimers(), [delay], `one restart timer of ${delay} ms`);
      clock.advance(delay - 1);
      t.equal(processedAt.length, waited.length, 'nothing processed during the backoff');
      clock.advance(1);
    }
    waited.push((processedAt.at(-1) ?? NaN) - crashedAt);
  }
  t.same(waited, [0, 100, 200, 400, 800], 'the message after each crash waited out the backoff');
  send(a, 'boom');
  clock.runDeferred();
  t.equal(systemOf(root).resolveLocal(a), undefined, 'sixth crash in 10 s: escalated to the root, which stopped it');
  t.match(downs, [{ type: 'shoal.down', reason: 'crashed' }]);
  t.ok(logger.lines.some((l) => l.level === 'error' && l.msg.includes('top-level actor stopped')), 'an error is logged');
});

t.test('intensity exceeded escalates to the parent, whose onCrash gets the child', async (t) => {
  const { root, clock, downs, watcher } = setup();
  const calls: [unknown, string | undefined][] = [];
  const parent = spawn(root, counter, 'parent', {
    onCrash: (msg, _err, ctx, child) => {
      calls.push([msg, child?.toString()]);
      return ctx.stopChild;
    },
  });
  const child = spawn(parent, counter, 'child', { restart: { maxRestarts: 2, backoffMinMs: 0 } });
  monitor(watcher, child);
  for (let i = 0; i < 3; i++) {
    send(child, 'boom');
    clock.advance(1);
  }
  t.same(calls, [['boom', 'local/parent/child']]);
  t.match(downs, [{ reason: 'crashed' }]);
  t.equal(await get(clock, parent), 0, 'the parent itself is untouched');
});

t.test('a parent without onCrash restarts itself when a child escalates (Erlang: the supervisor fails)', async (t) => {
  const { root, clock } = setup();
  const parent = spawn(root, counter, 'parent');
  const child = spawn(parent, counter, 'child', { onCrash: (_m, _e, ctx) => ctx.escalate });
  send(parent, 'inc', 'inc');
  send(child, 'boom');
  await clock.settle();
  t.equal(await get(clock, parent), 0, 'parent state reset');
  t.equal(systemOf(root).resolveLocal(child), undefined, 'the failed child was stopped by the restart');
});

t.test('loop guard: a parent that keeps restarting a child past its intensity gets it stopped', async (t) => {
  const { root, clock, downs, watcher } = setup();
  let decisionsAsked = 0;
  const parent = spawn(root, counter, 'parent', {
    onCrash: (_m, _e, ctx) => {
      decisionsAsked++;
      return ctx.resetChild;
    },
  });
  const child = spawn(parent, counter, 'child', { restart: { maxRestarts: 1, backoffMinMs: 0 } });
  monitor(watcher, child);
  send(child, 'boom');
  clock.advance(1);
  send(child, 'boom');
  clock.advance(1);
  t.equal(decisionsAsked, 1);
  t.match(downs, [{ reason: 'crashed' }], 'stopped instead of escalating forever');
});

// ---- each decision ---------------------------------------------------------------------

interface Family {
  root: ActorRef<never>;
  clock: ManualClock;
  parent: ActorRef<Msg>;
  a: ActorRef<Msg>;
  b: ActorRef<Msg>;
  downs: DownMessage[];
  parentCalls: (string | undefined)[];
}

/** parent → a (crashes, decides with `aDecides`), b; every actor at 2 when `a` crashes. */
async function family(aDecides: CrashHandler<Msg>, parentDecides: CrashHandler<Msg> = (_m, _e, ctx) => ctx.resume): Promise<Family> {
  const { root, clock, downs, watcher } = setup();
  const parentCalls: (string | undefined)[] = [];
  const parent = spawn(root, counter, 'parent', {
    onCrash: (m, e, ctx, child) => {
      parentCalls.push(child?.name);
      return parentDecides(m, e, ctx, child);
    },
  });
  const a = spawn(parent, counter, 'a', { onCrash: aDecides });
  const b = spawn(parent, counter, 'b');
  for (const r of [parent, a, b]) {
    monitor(watcher, r);
    send(r, 'inc', 'inc');
  }
  await clock.settle();
  send(a, 'boom', 'inc');
  await clock.settle();
  return { root, clock, parent, a, b, downs, parentCalls };
}

async function states(f: Family): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const r of [f.parent, f.a, f.b]) out.push(await get(f.clock, r).catch((e: Error) => e.name));
  return out;
}

const gone = 'UndeliverableError';

t.test('decisions on the crashed actor itself', async (t) => {
  const cases: [string, CrashHandler<Msg>, unknown[], string[]][] = [
    ['resume', (_m, _e, ctx) => ctx.resume, [2, 3, 2], []],
    ['reset', (_m, _e, ctx) => ctx.reset, [2, 1, 2], []],
    ['stop', (_m, _e, ctx) => ctx.stop, [2, gone, 2], ['a:crashed']],
    ['stopAll', (_m, _e, ctx) => ctx.stopAll, [2, gone, gone], ['a:crashed', 'b:stopped']],
    ['resetAll', (_m, _e, ctx) => ctx.resetAll, [2, 1, 0], []],
    ['stopAllChildren (has none: resumes)', (_m, _e, ctx) => ctx.stopAllChildren, [2, 3, 2], []],
    ['async resume', async (_m, _e, ctx) => ctx.resume, [2, 3, 2], []],
  ];
  for (const [name, decide, expected, downs] of cases) {
    const f = await family(decide);
    t.same(await states(f), expected, `${name}: parent, a, b`);
    t.same(
      f.downs.map((d) => `${d.ref.name}:${d.reason}`).sort(),
      downs,
      `${name}: down messages`,
    );
  }
});

t.test('escalated decisions, made by the parent about a child', async (t) => {
  const escalate: CrashHandler<Msg> = (_m, _e, ctx) => ctx.escalate;
  const cases: [string, CrashHandler<Msg>, unknown[], string[]][] = [
    ['resume (the child goes on)', (_m, _e, ctx) => ctx.resume, [2, 3, 2], []],
    ['resetChild', (_m, _e, ctx) => ctx.resetChild, [2, 1, 2], []],
    ['stopChild', (_m, _e, ctx) => ctx.stopChild, [2, gone, 2], ['a:crashed']],
    ['resetAllChildren', (_m, _e, ctx) => ctx.resetAllChildren, [2, 1, 0], []],
    ['stopAllChildren', (_m, _e, ctx) => ctx.stopAllChildren, [2, gone, gone], ['a:crashed', 'b:stopped']],
    ['reset (the parent restarts)', (_m, _e, ctx) => ctx.reset, [0, gone, gone], ['a:crashed', 'b:stopped']],
    ['stop (the parent stops)', (_m, _e, ctx) => ctx.stop, [gone, gone, gone], ['a:crashed', 'b:stopped', 'parent:crashed']],
  ];
  for (const [name, decide, expected, downs] of cases) {
    const f = await family(escalate, decide);
    t.same(f.parentCalls, ['a'], `${name}: the parent's handler got the child`);
    t.same(await states(f), expected, `${name}: parent, a, b`);
    t.same(
      f.downs.map((d) => `${d.ref.name}:${d.reason}`).sort(),
      downs,
      `${name}: down messages`,
    );
  }
});

t.test('a handler returning no decision, or throwing, escalates', async (t) => {
  const f1 = await family(() => undefined as unknown as symbol);
  t.same(f1.parentCalls, ['a']);
  const f2 = await family(() => {
    throw new Error('handler bug');
  });
  t.same(f2.parentCalls, ['a']);
  const f3 = await family((_m, _e, ctx) => ctx.stopChild); // no child: nothing to stop
  t.same(f3.parentCalls, ['a']);
  t.equal(Object.keys(decisions).length, 10);
});

t.test('supervision context: the decisions, the pending mailbox, the failed message', async (t) => {
  const { root, clock } = setup();
  let seen: { msg: unknown; err: unknown; mailbox: unknown[]; hasAll: boolean } | undefined;
  const a = spawn(root, counter, 'a', {
    onCrash: (msg, err, ctx) => {
      seen = {
        msg,
        err: (err as Error).message,
        mailbox: ctx.mailbox.map((e) => e.message),
        hasAll: Object.values(decisions).every((d) => Object.values(ctx).includes(d)),
      };
      return ctx.resume;
    },
  });
  send(a, 'boom', 'inc', 'inc');
  await clock.settle();
  t.same(seen, { msg: 'boom', err: 'boom', mailbox: ['inc', 'inc'], hasAll: true });
});
