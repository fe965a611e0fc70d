/**
 * Pending queries (nact's `query`, Erlang's call): a temporary ref stands in for the asker.
 *
 * The temp ref is a real ref — `node/$query/<id>` — so it can travel in a message to another
 * node and be replied to through the router like any actor. It has no mailbox: a message sent to
 * it settles the query's promise directly. A query ends exactly once:
 * - a reply resolves it (later replies are dead letters, reason `query-closed`);
 * - its timeout rejects it with `QueryTimeoutError` (target and timeout in the message);
 * - its message became a dead letter (target stopped, unknown, full, unroutable — here or on the
 *   remote node, which sends back an undeliverable notice): `UndeliverableError`, at once;
 * - the target's node went down: `NodeDownError`, at once;
 * - the system stopped: `SystemStoppedError`.
 */
import type { Timer } from '@shoal/runtime';
import type { DeadLetterReason } from './dead-letters.js';
import { deadLetterReasons } from './dead-letters.js';
import { QueryTimeoutError, UndeliverableError } from './errors.js';
import { queryPrefix } from './names.js';
import { makeRef, type ActorRef } from './ref.js';
import type { ActorSystem } from './system.js';

type AnyRef = ActorRef<unknown>;

/** What a node sends back to a remote query whose message it could not deliver. */
export interface UndeliverableNotice {
  readonly type: 'shoal.undeliverable';
  readonly ref: AnyRef;
  readonly reason: DeadLetterReason;
}

export function isUndeliverableNotice(msg: unknown): msg is UndeliverableNotice {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Partial<UndeliverableNotice>;
  return m.type === 'shoal.undeliverable' && deadLetterReasons.includes(m.reason as DeadLetterReason) && typeof m.ref === 'object';
}

export function isQueryRef(ref: { readonly path: readonly string[] }): boolean {
  return ref.path.length === 2 && ref.path[0] === queryPrefix;
}

interface Pending {
  readonly target: AnyRef;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  timer: Timer | undefined;
}

export class QueryTable {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;
  /**
   * A random prefix per system instance: a restarted node must not hand out the ids of its
   * previous life, or a late reply to an old query would settle a new one.
   */
  private readonly epoch: string;

  constructor(private readonly system: ActorSystem) {
    this.epoch = Buffer.from(system.random.bytes(4)).toString('hex');
  }

  get size(): number {
    return this.pending.size;
  }

  /** Opens a query to `target`; the caller sends its message with `tempRef` as the sender. */
  open(target: AnyRef, timeoutMs: number): { tempRef: AnyRef; id: string; promise: Promise<unknown> } {
    const id = `${this.epoch}-${++this.counter}`;
    const tempRef = makeRef<unknown>(this.system, this.system.name, [queryPrefix, id], undefined);
    let entry: Pending | undefined;
    const promise = new Promise<unknown>((resolve, reject) => {
      entry = { target, resolve, reject, timer: undefined };
    });
    const p = entry as unknown as Pending;
    this.pending.set(id, p);
    p.timer = this.system.clock.setTimer(timeoutMs, () => {
      p.timer = undefined;
      this.fail(id, new QueryTimeoutError(target.toString(), timeoutMs));
    });
    return { tempRef, id, promise };
  }

  /** A message for the temp ref `id`; false if that query has already ended. */
  reply(id: string, msg: unknown): boolean {
    const p = this.take(id);
    if (p === undefined) return false;
    if (isUndeliverableNotice(msg)) p.reject(new UndeliverableError(p.target.toString(), msg.reason));
    else p.resolve(msg);
    return true;
  }

  fail(id: string, err: Error): boolean {
    const p = this.take(id);
    if (p === undefined) return false;
    p.reject(err);
    return true;
  }

  /** Fails every pending query whose target matches. */
  failWhere(match: (target: AnyRef) => boolean, err: (target: AnyRef) => Error): void {
    for (const [id, p] of [...this.pending]) if (match(p.target)) this.fail(id, err(p.target));
  }

  private take(id: string): Pending | undefined {
    const p = this.pending.get(id);
    if (p === undefined) return undefined;
    this.pending.delete(id);
    p.timer?.cancel();
    return p;
  }
}
