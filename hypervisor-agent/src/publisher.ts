/**
 * Keeps the agent's hypervisor record current in the ring's `hypervisors` bucket.
 *
 * The agent is not a ring member, so it publishes through a core node: `agent.record-publish`
 * to the actor `['hypervisors']` of a core node SWIM holds alive (packages/cluster/src/
 * hypervisor-store.ts), which writes the record only if it is newer than the stored one.
 *
 * Every `publishIntervalMs` the publisher compares the record's revision with the last one the
 * store confirmed; when it moved (a ledger or zone change) — or `publishRefreshMs` passed —
 * it sends the record as it is now. One publish is in flight at a time, so a burst of changes
 * coalesces into one write of the latest record. It stays with the core node that answered last;
 * on any failure (no answer, an error answer) it moves to the next core node in name order and
 * waits: `publishIntervalMs` after the first failure, doubling up to `publishBackoffMaxMs`.
 *
 * A store holding a *newer* revision than this agent's means another agent runs under this name,
 * or this host's clock went back across a restart; the publisher says so in the log (once per
 * revision) and keeps trying at the refresh interval.
 */
import { NodeDownError, QueryTimeoutError, SystemStoppedError, UndeliverableError, query, refFromJSON, type ActorSystem } from '@shoal/actors';
import { every, type Clock, type Logger, type Timer } from '@shoal/runtime';
import { agentReplySchema, recordPublishResultSchema, validate, type HypervisorRecord, type RecordPublishResult } from '@shoal/wire';
import { AgentRequestError } from './client.js';
import { limits } from './limits.js';

/** Where a core node serves `agent.record-publish`. */
export const hypervisorRegistryPath = ['hypervisors'] as const;

export type Revision = HypervisorRecord['revision'];

export function compareRevision(a: Revision, b: Revision): number {
  return a.boot !== b.boot ? a.boot - b.boot : a.seq - b.seq;
}

/** Sends one record to the core node `core`; throws AgentRequestError (codes as the agent protocol's). */
export async function publishRecord(system: ActorSystem, core: string, record: HypervisorRecord, timeoutMs: number = limits.publishTimeoutMs): Promise<RecordPublishResult> {
  let reply: unknown;
  try {
    reply = await query(refFromJSON(system, { node: core, path: [...hypervisorRegistryPath] }), { type: 'agent.record-publish', record }, timeoutMs);
  } catch (err) {
    if (err instanceof QueryTimeoutError) throw new AgentRequestError('timeout', `core node ${core} did not answer within ${timeoutMs} ms`);
    if (err instanceof UndeliverableError || err instanceof NodeDownError || err instanceof SystemStoppedError) throw new AgentRequestError('unreachable', `core node ${core} cannot be reached (${err.message})`);
    throw err;
  }
  const checked = validate(agentReplySchema, reply, 'reply');
  if (!checked.ok) throw new AgentRequestError('bad-reply', `core node ${core} answered something unreadable: ${checked.reason}`);
  if (checked.value.type === 'agent.reply-error') throw new AgentRequestError(checked.value.code, `core node ${core}: ${checked.value.message}`);
  const result = validate(recordPublishResultSchema, checked.value.result, 'result');
  if (!result.ok) throw new AgentRequestError('bad-reply', `core node ${core} answered an unreadable result: ${result.reason}`);
  return result.value;
}

export interface PublisherOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** The record as it is now. */
  record(): HypervisorRecord;
  /** Its revision, cheaply (checked every interval). */
  revision(): Revision;
  /** Core nodes that can take a publish now (SWIM: role core, alive), in name order. */
  cores(): readonly string[];
  send(core: string, record: HypervisorRecord): Promise<RecordPublishResult>;
  readonly intervalMs?: number;
  readonly refreshMs?: number;
  readonly backoffMaxMs?: number;
}

export interface PublisherStats {
  /** Publishes the store wrote. */
  written: number;
  /** Publishes the store already held (refreshes, retries). */
  unchanged: number;
  failed: number;
  /** The revision of ours the store last confirmed (undefined while it holds someone else's newer one). */
  stored: Revision | undefined;
  /** The core node that answered last. */
  core: string | undefined;
  lastError: string | undefined;
}

export class RecordPublisher {
  readonly stats: PublisherStats = { written: 0, unchanged: 0, failed: 0, stored: undefined, core: undefined, lastError: undefined };
  private timer: Timer | undefined;
  private inFlight = false;
  private stopped = false;
  private failures = 0;
  private nextAttemptMs = 0;
  private lastOkMs = -Infinity;
  private warnedNewer: Revision | undefined;
  private readonly intervalMs: number;
  private readonly refreshMs: number;
  private readonly backoffMaxMs: number;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly opts: PublisherOptions) {
    this.intervalMs = opts.intervalMs ?? limits.publishIntervalMs;
    this.refreshMs = opts.refreshMs ?? limits.publishRefreshMs;
    this.backoffMaxMs = opts.backoffMaxMs ?? limits.publishBackoffMaxMs;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = every(this.opts.clock, this.intervalMs, () => this.tick());
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w();
  }

  /** True when the store has confirmed the current revision. */
  get current(): boolean {
    const s = this.stats.stored;
    return s !== undefined && compareRevision(s, this.opts.revision()) >= 0;
  }

  /** Resolves after the next publish attempt settles (tests and shutdown). */
  settled(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private due(now: number): boolean {
    if (now < this.nextAttemptMs) return false;
    const stored = this.stats.stored;
    if (stored === undefined || compareRevision(stored, this.opts.revision()) < 0) return true;
    return now - this.lastOkMs >= this.refreshMs;
  }

  private pickCore(): string | undefined {
    const cores = this.opts.cores();
    if (cores.length === 0) return undefined;
    const last = this.stats.core;
    if (last !== undefined && this.failures === 0 && cores.includes(last)) return last;
    // After a failure, the next core node after the one that failed (name order, wrapping).
    if (last === undefined) return cores[0];
    return cores.find((c) => c > last) ?? cores[0];
  }

  private tick(): void {
    if (this.stopped || this.inFlight) return;
    const now = this.opts.clock.monoMs();
    if (!this.due(now)) return;
    const core = this.pickCore();
    if (core === undefined) return;
    const record = this.opts.record();
    this.inFlight = true;
    this.opts.send(core, record).then(
      (result) => this.succeeded(core, record, result),
      (err: unknown) => this.failedWith(core, err),
    );
  }

  private succeeded(core: string, record: HypervisorRecord, result: RecordPublishResult): void {
    this.inFlight = false;
    this.failures = 0;
    this.stats.core = core;
    this.stats.lastError = undefined;
    this.lastOkMs = this.opts.clock.monoMs();
    this.nextAttemptMs = 0;
    if (result.written) this.stats.written++;
    else this.stats.unchanged++;
    if (compareRevision(result.revision, record.revision) > 0) {
      // Someone else's record under our name, or our clock went back: the store does not hold
      // ours (`current` stays false), and we do not hammer it.
      this.stats.stored = undefined;
      if (!this.warnedNewer || compareRevision(this.warnedNewer, result.revision) !== 0) {
        this.warnedNewer = result.revision;
        this.opts.log.warn('the store holds a newer record under this hypervisor name: is another agent running with this name, or did the clock go back?', { stored: result.revision, ours: record.revision });
      }
      this.nextAttemptMs = this.lastOkMs + this.refreshMs;
    } else {
      this.stats.stored = record.revision;
    }
    this.wake();
  }

  private failedWith(core: string, err: unknown): void {
    this.inFlight = false;
    this.failures++;
    this.stats.failed++;
    this.stats.core = core;
    const message = err instanceof Error ? err.message : String(err);
    if (this.failures === 1 || this.stats.lastError !== message) this.opts.log.warn('cannot publish the hypervisor record; trying another core node', { core, err: message });
    this.stats.lastError = message;
    const wait = Math.min(this.backoffMaxMs, this.intervalMs * 2 ** Math.min(this.failures - 1, 16));
    this.nextAttemptMs = this.opts.clock.monoMs() + wait;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
