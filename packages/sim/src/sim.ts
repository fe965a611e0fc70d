/**
 * Sim: one deterministic simulation — a scheduler, a network, nodes — driven by one seed.
 *
 * Everything random in a run comes from streams derived from `seed` and a label (see seed.ts):
 * each node's `World.random` (by node name and incarnation), each directed link's faults, each
 * disk's commit delays, and `sim.random` for the test's own choices. Nothing reads real time.
 * So a run is a pure function of the seed and the test code: the same seed gives the same
 * trace, event for event, which `runSimulation` (runner.ts) uses to replay failures.
 *
 * The test is the driver: it builds nodes, starts the code under test on their Worlds, then
 * advances time with `run`/`runFor`/`runUntil`/`step`, and awaits simulated promises (a storage
 * write, a connect) with `settle`, which runs the simulation until the promise settles. Faults
 * are methods (crash, restart, pause, partition, blockOneWay, isolate, heal, setLink) that a
 * test calls between runs or schedules with `at`/`after`.
 */
import { seededRandom, type LogLevel, type LogLine, type Random, type Timer, type World } from '@shoal/runtime';
import { Scheduler, type Admission, type RunUntilOptions, type SimEvent } from './scheduler.js';
import { Trace } from './trace.js';
import { SimNetwork } from './network.js';
import { defaultLink, defaultLoopback, type LinkConfig } from './links.js';
import { SimNode } from './node.js';
import { deriveSeed } from './seed.js';
import { SimConfigError, SimInvariantError } from './errors.js';
import type { NetStats } from './hosts.js';

export interface SimOptions {
  /** The run's seed: a 32-bit unsigned integer (other numbers are truncated to one). */
  seed: number;
  /** Defaults for every link between distinct nodes (see LinkConfig). */
  link?: Partial<LinkConfig>;
  /** A node's link to itself. */
  loopback?: Partial<LinkConfig>;
  /** Wall clock at simulated time 0, ms since the epoch. Default 2023-11-14T22:13:20Z. */
  wallEpochMs?: number;
  /** Events at one instant before SimLivelockError. Default 100 000. */
  eventsPerInstantMax?: number;
  /** Events a `run()` with neither untilMs nor eventsMax may take (SimTimeoutError past it). Default 10 000 000. */
  openRunEventsMax?: number;
  /** Largest datagram; bigger ones are dropped. Default 65 507 (UDP over IPv4). */
  datagramBytesMax?: number;
  /** Connect timeout when the caller gives none. Default 5 000 (the Node transport's). */
  connectTimeoutMs?: number;
  /** Delay between a cut and the close of the streams it severs. Default 5 000. */
  streamBreakTimeoutMs?: number;
  /** Storage commit delay range, ms. Default 0.2..2. */
  commitDelayMinMs?: number;
  commitDelayMaxMs?: number;
  /** Log lines kept (oldest dropped) and their level. Default 10 000, 'debug'. */
  logLinesMax?: number;
  logLevel?: LogLevel;
  /** Trace lines kept (the digest covers all). Default 100 000. */
  traceLinesMax?: number;
}

export type NodeRef = SimNode | string;

export interface SimStats {
  eventsRun: number;
  eventsDropped: number;
  eventsPending: number;
  net: NetStats;
}

function hostFor(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

function positive(name: string, v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new SimConfigError(`${name} must be a positive number, got ${v}`);
  return v;
}

export class Sim {
  readonly seed: number;
  /** For the test's own random choices (which node to crash, what to write). */
  readonly random: Random;
  readonly trace: Trace;
  readonly network: SimNetwork;
  readonly logLines: LogLine[] = [];
  private readonly sched: Scheduler;
  private readonly byName = new Map<string, SimNode>();
  private readonly checks: { name: string; check: () => void }[] = [];
  private readonly logLinesMax: number;
  private readonly logLevel: LogLevel;
  private readonly wallEpochMs: number;
  private readonly storageTiming: { commitDelayMinMs: number; commitDelayMaxMs: number };

  constructor(opts: SimOptions) {
    if (!Number.isFinite(opts.seed)) throw new SimConfigError(`seed must be a number, got ${opts.seed}`);
    this.seed = opts.seed >>> 0;
    this.random = seededRandom(deriveSeed(this.seed, 'sim'));
    this.trace = new Trace(positive('traceLinesMax', opts.traceLinesMax ?? 100_000));
    this.logLinesMax = positive('logLinesMax', opts.logLinesMax ?? 10_000);
    this.logLevel = opts.logLevel ?? 'debug';
    this.wallEpochMs = opts.wallEpochMs ?? 1_700_000_000_000;
    const commitDelayMinMs = opts.commitDelayMinMs ?? 0.2;
    const commitDelayMaxMs = opts.commitDelayMaxMs ?? 2;
    if (!(commitDelayMinMs >= 0 && commitDelayMaxMs >= commitDelayMinMs)) {
      throw new SimConfigError(`commit delays must satisfy 0 <= min <= max, got ${commitDelayMinMs}..${commitDelayMaxMs}`);
    }
    this.storageTiming = { commitDelayMinMs, commitDelayMaxMs };
    this.sched = new Scheduler({
      eventsPerInstantMax: positive('eventsPerInstantMax', opts.eventsPerInstantMax ?? 100_000),
      openRunEventsMax: positive('openRunEventsMax', opts.openRunEventsMax ?? 10_000_000),
      admit: (e) => this.admit(e),
      afterEvent: (e) => this.checkInvariants(e),
    });
    const limits = {
      datagramBytesMax: positive('datagramBytesMax', opts.datagramBytesMax ?? 65_507),
      connectTimeoutMs: positive('connectTimeoutMs', opts.connectTimeoutMs ?? 5_000),
      streamBreakTimeoutMs: positive('streamBreakTimeoutMs', opts.streamBreakTimeoutMs ?? 5_000),
    };
    const link = { ...defaultLink, ...opts.link };
    const loopback = { ...defaultLoopback, ...opts.loopback };
    this.network = new SimNetwork(this.seed, this.sched, this.trace, limits, link, loopback);
  }

  /** Simulated time, ms since the start of the run. */
  get nowMs(): number {
    return this.sched.nowMs;
  }

  get nodes(): readonly SimNode[] {
    return [...this.byName.values()];
  }

  get stats(): SimStats {
    return { eventsRun: this.sched.eventsRun, eventsDropped: this.sched.eventsDropped, eventsPending: this.sched.pending, net: this.network.stats };
  }

  /** Adds a node (host `10.0.0.N` for the N-th node unless given); its process starts up. */
  addNode(name: string, opts: { host?: string; wallOffsetMs?: number } = {}): SimNode {
    if (this.byName.has(name)) throw new SimConfigError(`a node named ${name} already exists`);
    const net = this.network.addHost(name, opts.host ?? hostFor(this.byName.size + 1));
    const node = new SimNode(name, net, {
      seed: this.seed,
      sched: this.sched,
      trace: this.trace,
      network: this.network,
      wallEpochMs: this.wallEpochMs,
      storageTiming: this.storageTiming,
      logLevel: this.logLevel,
      log: (line) => this.log(line),
    });
    node.wallOffsetMs = opts.wallOffsetMs ?? 0;
    this.byName.set(name, node);
    this.trace.record(this.nowMs, `node ${name} ${net.host}`);
    return node;
  }

  node(ref: NodeRef): SimNode {
    if (typeof ref !== 'string') return ref;
    const node = this.byName.get(ref);
    if (!node) throw new SimConfigError(`no node named ${ref}`);
    return node;
  }

  // ── driving ──────────────────────────────────────────────────────────────

  /** Runs the next event; false when nothing is left to run. */
  step(): Promise<boolean> {
    return this.sched.step();
  }

  /** Runs every event due up to `untilMs` (or until the queue is empty), then sets time to it. */
  run(opts: { untilMs?: number; eventsMax?: number } = {}): Promise<void> {
    return this.sched.run(opts);
  }

  /** Runs `ms` of simulated time. */
  runFor(ms: number): Promise<void> {
    return this.sched.run({ untilMs: this.nowMs + ms });
  }

  /** Runs until `done()` holds (checked after every event); SimTimeoutError if it does not. */
  runUntil(done: () => boolean, opts: RunUntilOptions = {}): Promise<void> {
    return this.sched.runUntil(done, opts);
  }

  /** Runs until `promise` settles and returns its outcome; SimTimeoutError if it never does. */
  settle<T>(promise: Promise<T>, opts: RunUntilOptions = {}): Promise<T> {
    let settled = false;
    const watched = promise.then(
      (v) => {
        settled = true;
        return v;
      },
      (e: unknown) => {
        settled = true;
        throw e;
      },
    );
    watched.catch(() => undefined);
    return this.sched.runUntil(() => settled, { what: 'the promise settling', ...opts }).then(() => watched);
  }

  /** Runs `fn` at simulated time `timeMs` (a test-level event: a fault schedule, a check). */
  at(timeMs: number, fn: () => void, label = 'at'): Timer {
    const event = this.sched.schedule(timeMs, undefined, label, () => {
      this.trace.record(this.nowMs, label);
      fn();
    });
    return { cancel: () => this.sched.cancel(event) };
  }

  after(delayMs: number, fn: () => void, label = 'after'): Timer {
    return this.at(this.nowMs + delayMs, fn, label);
  }

  // ── faults ───────────────────────────────────────────────────────────────

  crash(ref: NodeRef): void {
    this.node(ref).crash();
  }

  restart(ref: NodeRef): World {
    return this.node(ref).restart();
  }

  pause(ref: NodeRef, ms: number): void {
    this.node(ref).pause(ms);
  }

  /** Cuts every link between `a` and `b` both ways; `b` defaults to every other node. */
  partition(a: readonly NodeRef[], b?: readonly NodeRef[]): void {
    const left = a.map((r) => this.node(r).name);
    const right = (b ?? this.nodes.filter((n) => !left.includes(n.name))).map((r) => this.node(r).name);
    for (const x of left) {
      for (const y of right) {
        this.network.cuts.blockOneWay(x, y);
        this.network.cuts.blockOneWay(y, x);
      }
    }
    this.network.cutsChanged();
  }

  /** Cuts the links from each of `from` to each of `to`, in that direction only. */
  blockOneWay(from: NodeRef | readonly NodeRef[], to: NodeRef | readonly NodeRef[]): void {
    const list = (r: NodeRef | readonly NodeRef[]): readonly NodeRef[] => (Array.isArray(r) ? r : [r as NodeRef]);
    for (const x of list(from)) for (const y of list(to)) this.network.cuts.blockOneWay(this.node(x).name, this.node(y).name);
    this.network.cutsChanged();
  }

  /** Cuts every link to and from the node (nodes added later included). */
  isolate(ref: NodeRef): void {
    this.network.cuts.isolate(this.node(ref).name);
    this.network.cutsChanged();
  }

  /** Removes every cut. Streams already doomed by a cut still break (see streams.ts). */
  heal(): void {
    this.network.cuts.heal();
    this.network.cutsChanged();
  }

  /** Configures the directed link `from → to` (both ways with `bothWays`). */
  setLink(from: NodeRef, to: NodeRef, patch: Partial<LinkConfig>, opts: { bothWays?: boolean } = {}): void {
    const a = this.node(from).name;
    const b = this.node(to).name;
    this.network.links.set(a, b, patch);
    if (opts.bothWays) this.network.links.set(b, a, patch);
  }

  /** Changes the default of every link between distinct nodes (overrides stay). */
  setLinks(patch: Partial<LinkConfig>): void {
    this.network.links.setDefault(patch);
  }

  // ── observation ──────────────────────────────────────────────────────────

  /** Adds a line of the test's own to the trace. */
  note(text: string): void {
    this.trace.record(this.nowMs, `note ${text}`);
  }

  /** Registers a check run after every event; a throw stops the run with SimInvariantError. */
  invariant(name: string, check: () => void): void {
    this.checks.push({ name, check });
  }

  /** The last `n` log lines, formatted. */
  logTail(n: number): string[] {
    return this.logLines.slice(Math.max(0, this.logLines.length - n)).map(formatLogLine);
  }

  private log(line: LogLine): void {
    this.logLines.push(line);
    if (this.logLines.length > this.logLinesMax) this.logLines.splice(0, this.logLines.length - this.logLinesMax);
  }

  private admit(event: SimEvent): Admission {
    const owner = event.owner;
    if (!owner) return { kind: 'run' };
    const node = this.byName.get(owner.node);
    if (!node) return { kind: 'run' };
    if (owner.incarnation !== undefined && (node.status === 'down' || node.incarnation !== owner.incarnation)) return { kind: 'drop' };
    if (node.status === 'up' && node.pausedUntilMs > event.atMs) return { kind: 'postpone', untilMs: node.pausedUntilMs };
    return { kind: 'run' };
  }

  private checkInvariants(event: SimEvent): void {
    for (const { name, check } of this.checks) {
      try {
        check();
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new SimInvariantError(`invariant "${name}" failed after ${event.label} at t=${this.nowMs.toFixed(3)} ms: ${why}`);
      }
    }
  }
}

export function formatLogLine(line: LogLine): string {
  const { node, ...rest } = line.fields;
  const fields = Object.keys(rest).length > 0 ? ` ${safeJson(rest)}` : '';
  return `${line.atMs.toFixed(3)} ${line.level} ${String(node ?? '-')} ${line.msg}${fields}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v));
  } catch {
    return '<unserializable fields>';
  }
}
