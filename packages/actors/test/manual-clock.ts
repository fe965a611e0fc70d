/**
 * A hand-driven Clock for tests: time moves only when the test says so, `defer` callbacks run
 * when the test runs them, and both are counted. (packages/sim will offer a full simulated
 * world; this package's tests need only this much and must not depend on it.)
 */
import type { Clock, Timer } from '@shoal/runtime';

interface PendingTimer {
  atMs: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  nowMs = 0;
  /** How many times `defer` was called. */
  defers = 0;
  private timers: PendingTimer[] = [];
  private deferred: (() => void)[] = [];
  private seq = 0;

  monoMs(): number {
    return this.nowMs;
  }

  wallMs(): number {
    return 1_700_000_000_000 + this.nowMs;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    const t: PendingTimer = { atMs: this.nowMs + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  defer(fn: () => void): void {
    this.defers++;
    this.deferred.push(fn);
  }

  /** Runs the callbacks deferred so far (one event-loop turn); returns how many ran. */
  turn(): number {
    const batch = this.deferred;
    this.deferred = [];
    for (const fn of batch) fn();
    return batch.length;
  }

  /** Runs deferred callbacks until none are left. */
  runDeferred(): void {
    while (this.turn() > 0);
  }

  /** Deferred callbacks, then promise jobs, until quiet (for async behaviours). */
  async settle(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      this.runDeferred();
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.deferred.length === 0) return;
    }
  }

  /** Timers due, earliest first, in at most `ms` of time. */
  pendingTimers(): number[] {
    return this.timers.filter((t) => !t.cancelled).map((t) => t.atMs - this.nowMs).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing due timers in order and running deferred work after each. */
  advance(ms: number): void {
    const end = this.nowMs + ms;
    this.runDeferred();
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.atMs <= end).sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.nowMs = due.atMs;
      due.fn();
      this.runDeferred();
    }
    this.nowMs = end;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }
}
