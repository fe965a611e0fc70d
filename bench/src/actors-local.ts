/**
 * `npm run bench -- actors`: the local actor runtime, side by side with nact 7.6.2 (the engine
 * Shoal replaced) and a bare queue drained in batches on setImmediate (the ceiling: no actor
 * machinery at all). All three run in this process, in this run, the same workloads:
 *
 * - fan-in: one actor receives `fanInCount` numbers dispatched from a loop; timed from the
 *   first dispatch to the last message processed;
 * - ping-pong: two actors bounce a counter `pingPongCount` times; round trips per second;
 * - query: sequential `await query(...)` round trips to an echo actor (nact's ask);
 * - per-message cost of a target actor that has 10k siblings, or 10k children, against the
 *   same target alone (nact copies the children map into every message's context).
 *
 * Each figure is the median of `runs` runs (`crowdRuns` for the short crowd runs) after one
 * warm-up run. Targets from the issue are
 * printed beside the figures, never asserted.
 */
import { createRequire } from 'node:module';
import { dispatch, query, spawn, spawnStateless, start, stop, type ActorRef } from '@shoal/actors';
import { silentLogger } from '@shoal/runtime';
import type { Row } from './report.js';

const runs = 3;
/** The crowd runs last ~50 ms each, where one GC pause shows: more runs for a steadier median. */
const crowdRuns = 5;
const fanInCount = 2_000_000;
const nactFanInCount = 1_000_000;
const pingPongCount = 1_000_000;
const nactPingPongCount = 300_000;
const queryCount = 200_000;
const nactQueryCount = 100_000;
const crowd = 10_000;
const shoalCrowdMessages = 1_000_000;
const nactCrowdMessages = 1_000;

/** The slice of nact's API used here (nact ships no ESM types we can import cleanly). */
interface Nact {
  start(): unknown;
  spawn(parent: unknown, f: (state: never, msg: never, ctx: never) => unknown, name?: string): unknown;
  spawnStateless(parent: unknown, f: (msg: never, ctx: never) => unknown, name?: string): unknown;
  dispatch(ref: unknown, msg: unknown, sender?: unknown): void;
  query(ref: unknown, msg: unknown, timeoutMs: number): Promise<unknown>;
  stop(ref: unknown): void;
}
const nact = createRequire(import.meta.url)('nact') as Nact;

/** One workload on one engine: sets up, returns a function that runs it and resolves when done. */
type Workload = (count: number) => Promise<number>;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Runs `work` once to warm up, then `times` times; returns the median of its results. */
async function measure(work: Workload, count: number, times = runs): Promise<number> {
  await work(Math.max(1, Math.floor(count / 10)));
  const results: number[] = [];
  for (let i = 0; i < times; i++) results.push(await work(count));
  return median(results);
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// ---- the bare ceiling ------------------------------------------------------------------------

/** A mailbox with no actor around it: an array queue drained in one batch per setImmediate. */
class BareMailbox<T> {
  private buf: T[] = [];
  private head = 0;
  private scheduled = false;
  constructor(private readonly handle: (msg: T) => void) {}

  push(msg: T): void {
    this.buf.push(msg);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    const buf = this.buf;
    this.buf = [];
    for (let i = this.head; i < buf.length; i++) this.handle(buf[i] as T);
    this.head = 0;
  };
}

// ---- fan-in ----------------------------------------------------------------------------------

const shoalFanIn: Workload = async (count) => {
  const root = start({ logger: silentLogger });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const sink = spawn(root, (seen: number = 0) => (seen + 1 === count ? (done(), seen + 1) : seen + 1), 'sink', { mailboxMax: count });
  const t0 = performance.now();
  for (let i = 0; i < count; i++) dispatch(sink, i);
  await finished;
  const rate = count / ((performance.now() - t0) / 1000);
  stop(root);
  return rate;
};

const nactFanIn: Workload = async (count) => {
  const root = nact.start();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const sink = nact.spawn(root, (seen: number = 0) => (seen + 1 === count ? (done(), seen + 1) : seen + 1), 'sink');
  const t0 = performance.now();
  for (let i = 0; i < count; i++) nact.dispatch(sink, i);
  await finished;
  const rate = count / ((performance.now() - t0) / 1000);
  nact.stop(root);
  return rate;
};

const bareFanIn: Workload = async (count) => {
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let seen = 0;
  const box = new BareMailbox<number>(() => {
    if (++seen === count) done();
  });
  const t0 = performance.now();
  for (let i = 0; i < count; i++) box.push(i);
  await finished;
  return count / ((performance.now() - t0) / 1000);
};

// ---- ping-pong -------------------------------------------------------------------------------

const shoalPingPong: Workload = async (count) => {
  const root = start({ logger: silentLogger });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const peer: { pong?: ActorRef<number> } = {};
  const ping = spawn(root, (_s: undefined, n: number) => {
    if (n === 0) done();
    else dispatch(peer.pong!, n - 1);
    return undefined;
  });
  peer.pong = spawn(root, (_s: undefined, n: number) => {
    dispatch(ping, n);
    return undefined;
  });
  const t0 = performance.now();
  dispatch(ping, count);
  await finished;
  const rate = count / ((performance.now() - t0) / 1000);
  stop(root);
  return rate;
};

const nactPingPong: Workload = async (count) => {
  const root = nact.start();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const peer: { pong?: unknown } = {};
  const ping = nact.spawn(root, (_s: undefined, n: number) => {
    if (n === 0) done();
    else nact.dispatch(peer.pong, n - 1);
    return undefined;
  });
  peer.pong = nact.spawn(root, (_s: undefined, n: number) => {
    nact.dispatch(ping, n);
    return undefined;
  });
  const t0 = performance.now();
  nact.dispatch(ping, count);
  await finished;
  const rate = count / ((performance.now() - t0) / 1000);
  nact.stop(root);
  return rate;
};

const barePingPong: Workload = async (count) => {
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const ping: BareMailbox<number> = new BareMailbox<number>((n) => (n === 0 ? done() : pong.push(n - 1)));
  const pong: BareMailbox<number> = new BareMailbox<number>((n) => ping.push(n));
  const t0 = performance.now();
  ping.push(count);
  await finished;
  return count / ((performance.now() - t0) / 1000);
};

// ---- query -----------------------------------------------------------------------------------

const shoalQuery: Workload = async (count) => {
  const root = start({ logger: silentLogger });
  const echo = spawnStateless(root, (n: number, ctx) => dispatch(ctx.sender, n));
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await query(echo, i, 1000);
  const rate = count / ((performance.now() - t0) / 1000);
  stop(root);
  return rate;
};

const nactQuery: Workload = async (count) => {
  const root = nact.start();
  const echo = nact.spawnStateless(root, (n: number, ctx: { sender: unknown }) => nact.dispatch(ctx.sender, n));
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await nact.query(echo, i, 1000);
  const rate = count / ((performance.now() - t0) / 1000);
  nact.stop(root);
  return rate;
};

// ---- per-message cost in a crowd -------------------------------------------------------------

type Crowd = 'none' | 'siblings' | 'children';

/** The minimal engine surface a crowd workload needs, so both libraries share one body. */
interface Engine {
  start(): unknown;
  spawn(parent: unknown, f: () => unknown, name: string, mailboxMax: number): unknown;
  spawnStateless(parent: unknown, f: () => void, name: string): unknown;
  dispatch(ref: unknown, msg: unknown): void;
  stop(ref: unknown): void;
}

const shoalEngine: Engine = {
  start: () => start({ logger: silentLogger }),
  spawn: (parent, f, name, mailboxMax) => spawn(parent as ActorRef, f, name, { mailboxMax }),
  spawnStateless: (parent, f, name) => spawnStateless(parent as ActorRef, f, name),
  dispatch: (ref, msg) => dispatch(ref as ActorRef, msg),
  stop: (ref) => stop(ref as ActorRef),
};

const nactEngine: Engine = {
  start: () => nact.start(),
  spawn: (parent, f, name) => nact.spawn(parent, f, name),
  spawnStateless: (parent, f, name) => nact.spawnStateless(parent, f, name),
  dispatch: (ref, msg) => nact.dispatch(ref, msg),
  stop: (ref) => nact.stop(ref),
};

/**
 * µs per message to a target that has `crowd` siblings or children (or neither). The crowd is
 * spawned, then a warm-up tenth of the messages is sent and processed, so the timed part does
 * not include the garbage collector promoting 10k freshly spawned actors.
 */
function crowdWorkload(engine: Engine, kind: Crowd): Workload {
  return async (count) => {
    const root = engine.start();
    const parent = engine.spawn(root, () => undefined, 'parent', 1);
    let seen = 0;
    let goal = 0;
    let done = (): void => undefined;
    const target = engine.spawn(parent, () => void (++seen === goal && done()), 'target', count);
    const under = kind === 'siblings' ? parent : target;
    if (kind !== 'none') for (let i = 0; i < crowd; i++) engine.spawnStateless(under, () => undefined, `a${i}`);
    const send = async (n: number): Promise<number> => {
      seen = 0;
      goal = n;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const t0 = performance.now();
      for (let i = 0; i < n; i++) engine.dispatch(target, i);
      await finished;
      return ((performance.now() - t0) * 1000) / n;
    };
    await send(Math.max(1, Math.floor(count / 10)));
    await settle();
    const us = await send(count);
    engine.stop(root);
    return us;
  };
}

// ---- the table -------------------------------------------------------------------------------

function row(metric: string, value: number, unit: string, baseline: string, baselineValue: number | null, extra: Partial<Row> = {}): Row {
  return { bench: 'actors', metric, value, unit, baseline, baseline_value: baselineValue, ...extra };
}

async function throughputRows(progress: (msg: string) => void): Promise<Row[]> {
  progress(`fan-in: shoal ${fanInCount}, nact ${nactFanInCount}, bare ${fanInCount} messages, ${runs} runs each`);
  const fanIn = { shoal: await measure(shoalFanIn, fanInCount), nact: await measure(nactFanIn, nactFanInCount), bare: await measure(bareFanIn, fanInCount) };
  progress(`ping-pong: shoal ${pingPongCount}, nact ${nactPingPongCount} round trips`);
  const pp = { shoal: await measure(shoalPingPong, pingPongCount), nact: await measure(nactPingPong, nactPingPongCount), bare: await measure(barePingPong, nactPingPongCount) };
  progress(`query: shoal ${queryCount}, nact ${nactQueryCount} sequential round trips`);
  const q = { shoal: await measure(shoalQuery, queryCount), nact: await measure(nactQuery, nactQueryCount) };
  const fanInTarget = { target: '>= 2,000,000' };
  const ppTarget = { target: '>= 400,000' };
  return [
    row('fan-in, 1 actor, msgs from a loop', fanIn.shoal, 'msgs/s', 'nact 7.6.2', fanIn.nact, fanInTarget),
    row('fan-in, 1 actor, msgs from a loop', fanIn.shoal, 'msgs/s', 'bare queue + setImmediate (ceiling)', fanIn.bare, fanInTarget),
    row('ping-pong, 2 actors', pp.shoal, 'round trips/s', 'nact 7.6.2', pp.nact, ppTarget),
    row('ping-pong, 2 actors', pp.shoal, 'round trips/s', 'bare queue + setImmediate', pp.bare, {
      ...ppTarget,
      note: 'bare: one setImmediate per hop; shoal: hops in one turn',
    }),
    row('query (sequential await)', q.shoal, 'round trips/s', 'nact 7.6.2', q.nact),
  ];
}

async function crowdRows(progress: (msg: string) => void): Promise<Row[]> {
  progress(`per-message cost with ${crowd} siblings / children: shoal ${shoalCrowdMessages}, nact ${nactCrowdMessages} messages`);
  const s = {
    none: await measure(crowdWorkload(shoalEngine, 'none'), shoalCrowdMessages, crowdRuns),
    siblings: await measure(crowdWorkload(shoalEngine, 'siblings'), shoalCrowdMessages, crowdRuns),
    children: await measure(crowdWorkload(shoalEngine, 'children'), shoalCrowdMessages, crowdRuns),
  };
  const n = {
    none: await measure(crowdWorkload(nactEngine, 'none'), nactCrowdMessages),
    siblings: await measure(crowdWorkload(nactEngine, 'siblings'), nactCrowdMessages),
    children: await measure(crowdWorkload(nactEngine, 'children'), nactCrowdMessages),
  };
  const same = { target: 'same as none (1.00x)' };
  return [
    row(`per msg, target with ${crowd} siblings`, s.siblings, 'µs/msg', 'shoal, no siblings', s.none, same),
    row(`per msg, target with ${crowd} children`, s.children, 'µs/msg', 'shoal, no children', s.none, same),
    row(`nact: per msg, ${crowd} siblings`, n.siblings, 'µs/msg', 'nact, no siblings', n.none),
    row(`nact: per msg, ${crowd} children`, n.children, 'µs/msg', 'nact, no children', n.none, { note: 'nact copies the children map per message' }),
  ];
}

export async function runLocal(progress: (msg: string) => void): Promise<Row[]> {
  return [...(await throughputRows(progress)), ...(await crowdRows(progress))];
}
