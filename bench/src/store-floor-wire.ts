/**
 * What both sides of the store benchmark's floor share: the request shapes and the session
 * cipher. The keys are fixed (the floor measures the cipher's cost, not a handshake): a fixed
 * cluster key and fixed nonces through the transport's own key derivation.
 */
import type { Key as LmdbKey } from 'lmdb';
import { Session, deriveSessionKeys } from '@shoal/wire';

/**
 * A frame is a msgpackr array of these:
 *   [0, id, key, value]         put; answered `id` once durable
 *   [1, id, key]                get; answered `[id, value | null]`
 *   [2, id, key, value, third]  coordinate (sent by n1 to the key's coordinator): put here; send
 *                               n1 its copy at once (`[id, key, value]`); post the value to
 *                               `third` (a peer's index, or -1 for n1: then n1 gets no post, its
 *                               copy is the one above); answer `id` once this copy is durable
 *   [3, key, value]             post: put, no answer
 *   [9, id, port]               connect to the other replica at `port`; answered `id` once open
 */
export type FloorRequest =
  | readonly [0, number, LmdbKey, Uint8Array]
  | readonly [1, number, LmdbKey]
  | readonly [2, number, LmdbKey, Uint8Array, number]
  | readonly [3, LmdbKey, Uint8Array]
  | readonly [9, number, number];

/** An acknowledgement `id`, a get's `[id, value | null]`, or a coordinator's copy for n1 `[id, key, value]`. */
export type FloorAnswer = number | readonly [number, Uint8Array | null] | readonly [number, LmdbKey, Uint8Array];

const clusterKey = new Uint8Array(32).fill(7);
const nonce = new Uint8Array(16).fill(1);

export function floorSession(role: 'client' | 'server'): Session {
  return new Session(deriveSessionKeys(clusterKey, nonce, nonce, role), 'bench');
}

/** Messages queued in one event-loop turn leave as one sealed frame (what the ring's multiplexer does). */
export class TurnSender<T> {
  private queue: T[] = [];
  private flushing = false;

  constructor(
    private readonly session: Session,
    private readonly write: (frame: Uint8Array) => void,
    private readonly pack: (batch: T[]) => Uint8Array,
  ) {}

  send(item: T): void {
    this.queue.push(item);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      const batch = this.queue;
      this.queue = [];
      this.write(this.session.seal(this.pack(batch)));
    });
  }
}
