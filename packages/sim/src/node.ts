/**
 * SimNode: one simulated machine — a host on the network, a disk, a wall clock offset — and
 * the process currently running on it, whose `World` production code receives.
 *
 * A node has incarnations. `crash()` ends the current one: its timers, deferred callbacks,
 * pending storage commits and stream callbacks are dropped by the scheduler (they carry the
 * incarnation), its sockets close, and its World goes inert (new timers never fire, transport
 * calls never settle, writes never commit). `restart()` starts the next incarnation with a fresh
 * World over the same disk and address. `pause(ms)` stalls the process: everything it would
 * run meanwhile (timers, arrivals, commits) waits until the pause ends and then runs at that
 * instant in the order it was scheduled (sequence order, not due-time order). Arrivals at a
 * paused node are queued without limit (an unbounded socket buffer).
 *
 * Clocks: `monoMs()` is simulated time, shared by all nodes; `wallMs()` is
 * `wallEpochMs + monoMs + wallOffsetMs`, so a test can skew or jump one node's wall clock.
 */
import { makeLogger, seededRandom, type Clock, type LogLevel, type LogLine, type Timer, type World } from '@shoal/runtime';
import { deriveSeed } from './seed.js';
import { Disk, ProcessStorage, type StorageTiming } from './storage.js';
import type { NetHost } from './hosts.js';
import type { SimNetwork } from './network.js';
import type { Scheduler } from './scheduler.js';
import type { Trace } from './trace.js';

export type NodeStatus = 'up' | 'down';

/** What a node needs from its simulation. */
export interface NodeEnv {
  readonly seed: number;
  readonly sched: Scheduler;
  readonly trace: Trace;
  readonly network: SimNetwork;
  readonly wallEpochMs: number;
  readonly storageTiming: StorageTiming;
  readonly logLevel: LogLevel;
  log(line: LogLine): void;
}

export class SimNode {
  private current: World;
  private incarnationNo = 1;
  private statusNow: NodeStatus = 'up';
  private timerIds = 0;
  /** Events of this node due before this time wait until it (see pause). */
  pausedUntilMs = 0;
  wallOffsetMs = 0;
  readonly disk = new Disk();

  constructor(
    readonly name: string,
    private readonly net: NetHost,
    private readonly env: NodeEnv,
  ) {
    this.current = this.boot();
  }

  get host(): string {
    return this.net.host;
  }

  get incarnation(): number {
    return this.incarnationNo;
  }

  get status(): NodeStatus {
    return this.statusNow;
  }

  /** The World of the current process (of the last one, inert, while the node is down). */
  get world(): World {
    return this.current;
  }

  /** An address on this node's host. */
  address(port: number): string {
    return this.net.address(port);
  }

  /** Kills the process: see the header. A no-op on a node that is down. */
  crash(): void {
    if (this.statusNow === 'down') return;
    this.statusNow = 'down';
    this.net.alive = false;
    this.pausedUntilMs = 0;
    this.env.network.crash(this.net);
    this.record(`crash ${this.name} incarnation ${this.incarnationNo}`);
  }

  /** Starts a new process (crashing the running one first) and returns its World. */
  restart(): World {
    this.crash();
    this.incarnationNo++;
    this.current = this.boot();
    this.record(`restart ${this.name} incarnation ${this.incarnationNo}`);
    return this.current;
  }

  /** Stalls the process for `ms` of simulated time from now (pauses extend, never shorten). */
  pause(ms: number): void {
    const untilMs = this.env.sched.nowMs + Math.max(0, ms);
    this.pausedUntilMs = Math.max(this.pausedUntilMs, untilMs);
    this.record(`pause ${this.name} until ${this.pausedUntilMs.toFixed(3)}`);
  }

  /** Moves this node's wall clock by `deltaMs` (a jump: NTP step, operator, skew). */
  jumpWallClock(deltaMs: number): void {
    this.wallOffsetMs += deltaMs;
    this.record(`wall ${this.name} offset ${this.wallOffsetMs}`);
  }

  private record(what: string): void {
    this.env.trace.record(this.env.sched.nowMs, what);
  }

  private boot(): World {
    const incarnation = this.incarnationNo;
    this.net.incarnation = incarnation;
    this.net.alive = true;
    this.statusNow = 'up';
    const env = this.env;
    const clock = this.clock(incarnation);
    const logClock: Clock = { ...clock, wallMs: () => env.sched.nowMs };
    const storage = new ProcessStorage(env.seed, this.name, incarnation, this.disk, env.sched, env.trace, env.storageTiming);
    const live = (): boolean => this.net.isLive(incarnation);
    return {
      clock,
      random: seededRandom(deriveSeed(env.seed, 'node', this.name, incarnation)),
      transport: env.network.transport(this.net, incarnation),
      logger: makeLogger((line) => env.log(line), logClock, env.logLevel, { node: this.name }),
      openStorage: (path) => (live() ? Promise.resolve(storage.open(path)) : new Promise(() => undefined)),
    };
  }

  private clock(incarnation: number): Clock {
    const { sched, trace } = this.env;
    const owner = { node: this.name, incarnation };
    return {
      monoMs: () => sched.nowMs,
      wallMs: () => this.env.wallEpochMs + sched.nowMs + this.wallOffsetMs,
      setTimer: (delayMs, fn): Timer => {
        // Node's setTimeout: delays below 1 ms (and NaN) become 1 ms, so defers always run first.
        const ms = delayMs >= 1 ? delayMs : 1;
        const id = ++this.timerIds;
        const event = sched.schedule(sched.nowMs + ms, owner, `timer ${this.name}#${id}`, () => {
          trace.record(sched.nowMs, `timer ${this.name}#${id}`);
          fn();
        });
        return { cancel: () => sched.cancel(event) };
      },
      defer: (fn) => {
        sched.schedule(sched.nowMs, owner, `defer ${this.name}`, fn);
      },
    };
  }
}
