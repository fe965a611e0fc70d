/**
 * Per-destination batches of one event-loop turn, the mechanism both halves of the request
 * multiplexer use (mux.ts for commands, reply-batch.ts for replies): items for one destination
 * gather in an open batch, which leaves when it reaches `muxBatchItemsMax` items or
 * `muxBatchBytesMax` estimated bytes (an item alone over the byte bound gets a batch of its own),
 * or at the end of the turn (`clock.defer`). Each batch is handed to `send` exactly once.
 */
import type { Clock } from '@shoal/runtime';
import { muxBatchBytesMax, muxBatchItemsMax } from './limits.js';

/** What a batch must carry for the bounds; the owner adds its items to `items`. */
export interface TurnBatch {
  readonly items: unknown[];
  bytes: number;
}

export class TurnBatches<B extends TurnBatch, C> {
  private readonly open = new Map<string, B>();
  private scheduled = false;

  /**
   * @param make a new, empty batch for destination `key` (`ctx`: what `room` was given)
   * @param send a batch that left (cut, or at the end of the turn)
   */
  constructor(
    private readonly clock: Clock,
    private readonly make: (key: string, ctx: C) => B,
    private readonly send: (key: string, batch: B) => void,
  ) {}

  /** The open batch for `key`, with room for an item of `bytes` counted in: a full one leaves first. */
  room(key: string, bytes: number, ctx: C): B {
    let batch = this.open.get(key);
    if (batch && (batch.items.length >= muxBatchItemsMax || batch.bytes + bytes > muxBatchBytesMax)) {
      this.open.delete(key);
      this.send(key, batch);
      batch = undefined;
    }
    if (!batch) this.open.set(key, (batch = this.make(key, ctx)));
    batch.bytes += bytes;
    if (!this.scheduled) {
      this.scheduled = true;
      this.clock.defer(this.flush);
    }
    return batch;
  }

  /** Drops every open batch unsent (the owner stops). */
  clear(): void {
    this.open.clear();
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const all = [...this.open];
    this.open.clear();
    for (const [key, batch] of all) this.send(key, batch);
  };
}
