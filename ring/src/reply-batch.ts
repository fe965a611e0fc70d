/**
 * The receiving half of the request multiplexer (mux.ts): replies to batched commands, gathered
 * per asker and sent at the end of the event loop turn in which they were made, as
 * `{ t: 'replies', items: [[rid, reply], …] }`. A reply is never held past its turn, so replies
 * of one request batch leave as soon as each is ready (a read now, a write after its quorum).
 * Batches are cut by the same bounds as requests (`muxBatchItemsMax`, `muxBatchBytesMax`).
 *
 * If the transport refuses a reply batch (the asker's node is unreachable, its queue is full),
 * the replies are dropped and counted: the asker's calls end by timeout or its down notice.
 */
import { dispatch, type ActorRef } from '@shoal/actors';
import type { Clock, Logger } from '@shoal/runtime';
import { estimateBytes, muxBatchBytesMax, muxBatchItemsMax, type MuxMessage } from './mux.js';

interface Outgoing {
  readonly to: ActorRef<MuxMessage>;
  items: [number, unknown][];
  bytes: number;
}

export class ReplyBatcher {
  private readonly buffers = new Map<string, Outgoing>();
  private scheduled = false;
  readonly stats = { batchesOut: 0, dropped: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly from: () => ActorRef<unknown> | undefined,
  ) {}

  /** Where replies to `to` (an asker's reply actor) are queued: `(rid, reply) => void`. */
  sink(to: ActorRef<MuxMessage>): (rid: number, reply: unknown) => void {
    const key = to.toString();
    return (rid, reply) => this.add(to, key, rid, reply);
  }

  private add(to: ActorRef<MuxMessage>, key: string, rid: number, reply: unknown): void {
    const bytes = estimateBytes(reply) + 16;
    let buf = this.buffers.get(key);
    if (buf && (buf.items.length >= muxBatchItemsMax || buf.bytes + bytes > muxBatchBytesMax)) {
      this.send(buf);
      buf = undefined;
    }
    if (!buf) this.buffers.set(key, (buf = { to, items: [], bytes: 0 }));
    buf.items.push([rid, reply]);
    buf.bytes += bytes;
    if (!this.scheduled) {
      this.scheduled = true;
      this.clock.defer(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const all = [...this.buffers.values()];
    this.buffers.clear();
    for (const buf of all) this.send(buf);
  };

  private send(buf: Outgoing): void {
    const key = buf.to.toString();
    if (this.buffers.get(key) === buf) this.buffers.delete(key);
    try {
      dispatch(buf.to, { t: 'replies', items: buf.items }, this.from());
      this.stats.batchesOut++;
    } catch (err) {
      this.stats.dropped += buf.items.length;
      this.log.debug('replies not sent', { to: key, count: buf.items.length, err: String(err) });
    }
  }
}
