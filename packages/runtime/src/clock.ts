/**
 * Clock: the only source of time and of scheduled callbacks in Shoal.
 *
 * Two readings, because they answer different questions:
 * - `monoMs()` is monotonic (never jumps, never goes back): use it for timeouts, intervals and
 *   durations. Its origin is arbitrary.
 * - `wallMs()` is wall-clock time since the Unix epoch: use it only for timestamps people read
 *   and for hybrid logical clocks. It may jump (NTP, an operator, clock skew in tests).
 *
 * Callbacks: `setTimer` runs a function once after a delay; `defer` runs it after the current
 * task, after pending I/O, before later timers (Node's `setImmediate`). The simulator implements
 * the same interface on simulated time, so code written against it is deterministic under test.
 */

/** A scheduled callback; `cancel()` is idempotent and safe after the timer fired. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds (fractional) since an arbitrary origin. */
  monoMs(): number;
  /** Wall-clock milliseconds since the Unix epoch. */
  wallMs(): number;
  /** Runs `fn` once, `delayMs` (≥ 0, clamped) from now. */
  setTimer(delayMs: number, fn: () => void): Timer;
  /** Runs `fn` after the current task and pending I/O callbacks (a fresh turn of the loop). */
  defer(fn: () => void): void;
}

/** Runs `fn` every `intervalMs` until cancelled; the next run is scheduled after `fn` returns. */
export function every(clock: Clock, intervalMs: number, fn: () => void): Timer {
  let cancelled = false;
  let current: Timer | undefined;
  const arm = (): void => {
    current = clock.setTimer(intervalMs, () => {
      if (cancelled) return;
      fn();
      if (!cancelled) arm();
    });
  };
  arm();
  return {
    cancel(): void {
      cancelled = true;
      current?.cancel();
    },
  };
}

/** Resolves after `delayMs` on the given clock, or rejects with the signal's reason if aborted. */
export function sleep(clock: Clock, delayMs: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = opts;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimer(delayMs, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The Node.js clock: `performance.now()`, `Date.now()`, `setTimeout`, `setImmediate`. */
export function nodeClock(): Clock {
  return {
    monoMs: () => performance.now(),
    wallMs: () => Date.now(),
    setTimer(delayMs, fn) {
      const handle = setTimeout(fn, Math.max(0, delayMs));
      return { cancel: () => clearTimeout(handle) };
    },
    defer(fn) {
      setImmediate(fn);
    },
  };
}
