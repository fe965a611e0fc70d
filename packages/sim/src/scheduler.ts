/**
 * Scheduler: simulated time and the one event queue that drives a simulation.
 *
 * Algorithm. Every timer, deferred callback, packet arrival and storage commit is an event
 * `(atMs, seq, owner, fn)` in one binary heap ordered by `(atMs, seq)`. `step()` pops the
 * earliest event, moves simulated time to it, runs it, then lets the host drain its microtask
 * queue, so every promise continuation the event triggered runs at the event's simulated
 * instant, before the next event. Time never moves on its own: only by popping events or by
 * `run({ untilMs })` reaching its horizon.
 *
 * Ownership. An event owned by a node carries the node's name and, for process-bound work
 * (timers, commits, stream callbacks), its incarnation. Before running an event the scheduler
 * asks the simulation to `admit` it: events of a dead incarnation are dropped (a crashed
 * process's timers never fire), events of a paused node are postponed to the end of the pause
 * keeping their sequence number (so they keep their relative order).
 *
 * Invariants: time never decreases; events at one instant run in schedule order; no event of a
 * dead incarnation runs; at most `eventsPerInstantMax` events run at one instant (else
 * SimLivelockError, so a callback that re-schedules itself for "now" fails loudly instead of
 * hanging the test).
 */
import { EventHeap, type HeapItem } from './heap.js';
import { SimLivelockError, SimReentryError, SimTimeoutError } from './errors.js';

export interface Owner {
  readonly node: string;
  /** Undefined: the event outlives crashes (a packet already on the wire). */
  readonly incarnation?: number;
}

export interface SimEvent extends HeapItem {
  readonly owner: Owner | undefined;
  readonly label: string;
  readonly fn: () => void;
  cancelled: boolean;
}

export type Admission = { kind: 'run' } | { kind: 'drop' } | { kind: 'postpone'; untilMs: number };

export interface SchedulerOptions {
  eventsPerInstantMax: number;
  /** Events an open-ended `run()` (no untilMs, no eventsMax) may take before it is called endless. */
  openRunEventsMax: number;
  /** Decides whether a due event runs, is dropped (dead owner) or waits (paused owner). */
  admit(event: SimEvent): Admission;
  /** Called after every event once microtasks drained (invariant checks). */
  afterEvent(event: SimEvent): void;
}

export interface RunUntilOptions {
  /** Simulated milliseconds to wait for the condition; default 60 000. */
  timeoutMs?: number;
  /** Names the condition in the error message. */
  what?: string;
}

/**
 * Lets the host run every pending microtask (promise continuations of the event just run).
 * A macrotask boundary is the only point at which Node guarantees the microtask queue is
 * empty, so the driver yields one: it reads no time and schedules nothing simulated, so it
 * cannot make a run depend on the host.
 */
function drainMicrotasks(): Promise<void> {
  // eslint-disable-next-line no-restricted-globals -- see the comment above: this is the driver's yield, not simulated time.
  return new Promise((resolve) => setImmediate(resolve));
}

const recentLabelsMax = 8;

export class Scheduler {
  private readonly heap = new EventHeap<SimEvent>();
  private seq = 0;
  private now = 0;
  private running = false;
  private cancelledCount = 0;
  private instantMs = -1;
  private instantCount = 0;
  private readonly recent: string[] = [];
  eventsRun = 0;
  eventsDropped = 0;

  constructor(private readonly opts: SchedulerOptions) {}

  get nowMs(): number {
    return this.now;
  }

  /** Events waiting in the queue (cancelled ones included until shed). */
  get pending(): number {
    return this.heap.size;
  }

  schedule(atMs: number, owner: Owner | undefined, label: string, fn: () => void): SimEvent {
    const event: SimEvent = { atMs: Math.max(atMs, this.now), seq: this.seq++, owner, label, fn, cancelled: false };
    this.heap.push(event);
    return event;
  }

  cancel(event: SimEvent): void {
    if (event.cancelled) return;
    event.cancelled = true;
    this.cancelledCount++;
    // Shed cancelled timers once they are most of the heap (protocols re-arm timers a lot).
    if (this.cancelledCount > 1024 && this.cancelledCount * 2 > this.heap.size) {
      this.heap.retain((e) => !e.cancelled);
      this.cancelledCount = 0;
    }
  }

  /** Runs the next live event; false when the queue is empty. */
  step(): Promise<boolean> {
    return this.guarded(() => this.stepInside());
  }

  /**
   * Runs events due at or before `untilMs`, then sets time to it. Without `untilMs` it runs
   * until the queue is empty; since a periodic timer never lets it empty, such a run stops with
   * SimTimeoutError after `openRunEventsMax` events (pass `untilMs`, or `eventsMax` to stop
   * quietly after that many events).
   */
  run(opts: { untilMs?: number; eventsMax?: number } = {}): Promise<void> {
    const untilMs = opts.untilMs ?? Infinity;
    const open = opts.untilMs === undefined && opts.eventsMax === undefined;
    const eventsMax = opts.eventsMax ?? (open ? this.opts.openRunEventsMax : Infinity);
    return this.guarded(async () => {
      await drainMicrotasks();
      for (let n = 0; ; n++) {
        const next = this.peekLive();
        if (!next || next.atMs > untilMs) break;
        if (n >= eventsMax) {
          if (!open) break;
          throw new SimTimeoutError(`run() without untilMs is still busy after ${eventsMax} events (a periodic timer?): give it untilMs`);
        }
        await this.stepInside();
      }
      if (Number.isFinite(untilMs) && untilMs > this.now) this.now = untilMs;
    });
  }

  /** Runs events until `done()` is true; throws SimTimeoutError if it does not become so. */
  runUntil(done: () => boolean, opts: RunUntilOptions = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const deadlineMs = this.now + timeoutMs;
    const what = opts.what ?? 'the condition';
    return this.guarded(async () => {
      await drainMicrotasks();
      while (!done()) {
        const next = this.peekLive();
        if (!next) throw new SimTimeoutError(`${what} did not hold and no events are left (t=${this.now.toFixed(3)} ms)`);
        if (next.atMs > deadlineMs) {
          this.now = deadlineMs;
          throw new SimTimeoutError(`${what} did not hold within ${timeoutMs} simulated ms`);
        }
        await this.stepInside();
      }
    });
  }

  /**
   * Runs `body` as the one driver. Throws synchronously when already running, so that a
   * run call made from inside an event fails that event (and so the outer run) at once.
   */
  private guarded<T>(body: () => Promise<T>): Promise<T> {
    this.enter();
    return body().finally(() => {
      this.running = false;
    });
  }

  private enter(): void {
    if (this.running) {
      throw new SimReentryError('the simulation is already running: run/step/settle cannot be called from inside an event');
    }
    this.running = true;
  }

  private peekLive(): SimEvent | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (!top || !top.cancelled) return top;
      this.heap.pop();
      this.cancelledCount--;
    }
  }

  private async stepInside(): Promise<boolean> {
    for (;;) {
      const event = this.peekLive();
      if (!event) return false;
      this.heap.pop();
      this.now = event.atMs;
      const admission = this.opts.admit(event);
      if (admission.kind === 'drop') {
        this.eventsDropped++;
        continue;
      }
      if (admission.kind === 'postpone') {
        event.atMs = admission.untilMs;
        this.heap.push(event);
        continue;
      }
      this.countInstant(event);
      this.eventsRun++;
      event.fn();
      await drainMicrotasks();
      this.opts.afterEvent(event);
      return true;
    }
  }

  private countInstant(event: SimEvent): void {
    if (event.atMs !== this.instantMs) {
      this.instantMs = event.atMs;
      this.instantCount = 0;
    }
    this.instantCount++;
    this.recent.push(event.label);
    if (this.recent.length > recentLabelsMax) this.recent.shift();
    if (this.instantCount > this.opts.eventsPerInstantMax) {
      throw new SimLivelockError(
        `more than ${this.opts.eventsPerInstantMax} events at t=${this.now.toFixed(3)} ms: ` +
          `something keeps scheduling work for the same instant (last events: ${this.recent.join(', ')})`,
      );
    }
  }
}
