/**
 * Dead letters: every message the runtime could not deliver ends here, never silently.
 *
 * Reasons: the target actor is `stopped`; no actor has that path (`unknown`); its mailbox held
 * `mailboxMax` messages (`mailbox-full`); a reply reached a query that had already ended by
 * reply, timeout or failure (`query-closed`); the target is on another node and no router is
 * attached (`no-route`); the message was sent to the "nobody" sender of a message that had none
 * (`nobody`); a remote router could not encode it for the wire, e.g. over a size limit
 * (`unencodable`).
 *
 * Each dead letter is counted by reason, offered to subscribers (tests, metrics), and logged at
 * debug — at most `deadLetterLogBurstMax` lines per `deadLetterLogWindowMs`, then one line with
 * the number suppressed, so a flood of dead letters cannot flood the log.
 */
import type { Clock, Logger } from '@shoal/runtime';
import type { ActorRef } from './ref.js';

export type DeadLetterReason = 'stopped' | 'unknown' | 'mailbox-full' | 'query-closed' | 'no-route' | 'nobody' | 'unencodable';

export const deadLetterReasons: readonly DeadLetterReason[] = Object.freeze([
  'stopped',
  'unknown',
  'mailbox-full',
  'query-closed',
  'no-route',
  'nobody',
  'unencodable',
]);

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  readonly to: ActorRef<unknown>;
  readonly message: unknown;
  readonly sender: ActorRef<unknown> | undefined;
}

export type DeadLetterListener = (letter: DeadLetter) => void;

export class DeadLetters {
  /** Dead letters since the system started. */
  total = 0;
  /** Dead letters since the system started, by reason. */
  readonly byReason: Record<DeadLetterReason, number> = {
    stopped: 0,
    unknown: 0,
    'mailbox-full': 0,
    'query-closed': 0,
    'no-route': 0,
    nobody: 0,
    unencodable: 0,
  };
  private listeners: DeadLetterListener[] = [];
  private windowStartMs = -Infinity;
  private loggedInWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly logBurstMax: number,
    private readonly logWindowMs: number,
  ) {}

  /** Calls `listener` for every dead letter from now on; returns the unsubscribe function. */
  subscribe(listener: DeadLetterListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** A plain copy of the counters. */
  stats(): { total: number; byReason: Record<DeadLetterReason, number> } {
    return { total: this.total, byReason: { ...this.byReason } };
  }

  /** Engine entry point: counts, logs (rate-limited) and notifies. */
  record(letter: DeadLetter): void {
    this.total++;
    this.byReason[letter.reason]++;
    this.log(letter);
    for (const listener of this.listeners) {
      try {
        listener(letter);
      } catch (err) {
        this.logger.warn('dead-letter listener threw', { err });
      }
    }
  }

  private log(letter: DeadLetter): void {
    const now = this.clock.monoMs();
    if (now - this.windowStartMs >= this.logWindowMs) {
      if (this.suppressed > 0) this.logger.debug('dead letters not logged', { count: this.suppressed });
      this.windowStartMs = now;
      this.loggedInWindow = 0;
      this.suppressed = 0;
    }
    if (this.loggedInWindow >= this.logBurstMax) {
      this.suppressed++;
      return;
    }
    this.loggedInWindow++;
    this.logger.debug('dead letter', {
      reason: letter.reason,
      to: letter.to.toString(),
      sender: letter.sender?.toString(),
      type: messageType(letter.message),
    });
  }
}

function messageType(msg: unknown): string {
  if (typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string') {
    return (msg as { type: string }).type;
  }
  return typeof msg;
}
