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
import { estimateBytes, type MuxMessage } from './mux.js';
import { TurnBatches } from './turn-batches.js';

interface Outgoing {
  readonly to: ActorRef<MuxMessage>;
  readonly items: [number, unknown][];
  bytes: number;
}

const newOutgoing = (_key: string, to: ActorRef<MuxMessage>): Outgoing => ({ to, items: [], bytes: 0 });

export class ReplyBatcher {
  /** The open batch of replies per asker (turn-batches.ts). */
  private readonly buffers: TurnBatches<Outgoing, ActorRef<MuxMessage>>;
  readonly stats = { batchesOut: 0, dropped: 0 };

  constructor(
    clock: Clock,
    private readonly log: Logger,
    private readonly from: () => ActorRef<unknown> | undefined,
  ) {
    this.buffers = new TurnBatches(clock, newOutgoing, (key, buf) => this.send(key, buf));
  }

  /** Where replies to `to` (an asker's reply actor) are queued: `(rid, reply) => void`. */
  sink(to: ActorRef<MuxMessage>): (rid: number, reply: unknown) => void {
    const key = to.toString();
    return (rid, reply) => {
      this.buffers.room(key, estimateBytes(reply) + 16, to).items.push([rid, reply]);
    };
  }

  private send(key: string, buf: Outgoing): void {
    try {
      dispatch(buf.to, { t: 'replies', items: buf.items }, this.from());
      this.stats.batchesOut++;
    } catch (err) {
      this.stats.dropped += buf.items.length;
      this.log.debug('replies not sent', { to: key, count: buf.items.length, err: String(err) });
    }
  }
}
