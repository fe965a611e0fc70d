/** Settings of the actor transport (router.ts), with their defaults and reasons. */
import type { Address } from '@shoal/runtime';

export interface NetSettings {
  /** Cluster name: authenticated in the handshake and every frame. */
  cluster: string;
  /** Where to listen for links (`host:port`; port 0 = any). */
  listen: Address;
  /** This process's incarnation (random hex when absent). */
  incarnation?: string;
  /** Items queued per peer before `dispatch` fails (memory bound). */
  outboundQueueMax: number;
  /** Items per frame (one WebSocket message) at most. */
  batchItemsMax: number;
  /** Bytes per frame at most (the wire codec's batch limit; ws maxPayload follows). */
  batchBytesMax: number;
  /** Stop writing to a link while it has this many unsent bytes; resume on drain. */
  highWaterBytes: number;
  /** Connect + handshake + link-open must finish within this. */
  openTimeoutMs: number;
  /** Backoff between dials: doubles from min to max, ±25 % jitter. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Consecutive failed dials after which queued messages become dead letters. */
  unreachableAfterFailures: number;
  /**
   * Inbound flow control: while the local mailboxes hold more than this many messages, links
   * stop reading (the peers' senders then back up to their outbound queues); they resume below
   * half of it. Keeps remote senders from overflowing mailboxes into dead letters.
   */
  inboundBacklogMax: number;
}

export type NetOptions = Partial<NetSettings> & Pick<NetSettings, 'cluster' | 'listen'>;

export const netDefaults: Omit<NetSettings, 'cluster' | 'listen'> = {
  outboundQueueMax: 100_000,
  batchItemsMax: 1024,
  batchBytesMax: 4 * 1024 * 1024,
  highWaterBytes: 1024 * 1024,
  openTimeoutMs: 5_000,
  reconnectMinMs: 100,
  reconnectMaxMs: 5_000,
  unreachableAfterFailures: 3,
  inboundBacklogMax: 20_000,
};
