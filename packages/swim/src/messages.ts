/**
 * SWIM messages as the protocol core sees them (typed objects). The shell turns them into wire
 * frames with the codecs in `codec.ts`; the core never sees bytes.
 *
 * - `ping` / `ack`: a direct probe and its answer (the ack goes back to the packet's source).
 * - `ping-req`: "probe `target` for me" (SWIM's indirect probe); with `nack` set, the helper answers
 *   `nack` if the target stays silent, so the requester can tell a dead target from its own
 *   trouble hearing (Lifeguard).
 * - `alive` / `suspect` / `dead`: membership updates, disseminated by piggybacking (infection
 *   style). A `dead` whose `from` is the member itself is a graceful leave.
 */

export type MemberRole = 'core' | 'agent';

export interface MemberAddresses {
  /** UDP (and push-pull stream) address of the member's SWIM endpoint. */
  gossip: string;
  /** Cluster transport (actor messages). */
  cluster: string;
  /** HTTP API, when the member serves one. */
  http?: string;
}

export interface MemberMeta {
  role: MemberRole;
  version: string;
  addresses: MemberAddresses;
  /** Free-form labels (bounded by the codec), for later subsystems. */
  tags: Record<string, string>;
}

export type SwimMessage =
  | { t: 'ping'; seq: number; target: string; from: string }
  | { t: 'ping-req'; seq: number; target: string; targetAddr: string; from: string; nack: boolean }
  | { t: 'ack'; seq: number }
  | { t: 'nack'; seq: number }
  | { t: 'alive'; name: string; inc: number; meta: MemberMeta }
  | { t: 'suspect'; name: string; inc: number; from: string }
  | { t: 'dead'; name: string; inc: number; from: string };

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** One member as pushed and pulled in a full state exchange. */
export interface MemberSnapshot {
  name: string;
  inc: number;
  state: MemberState;
  meta: MemberMeta;
}

export function sameMeta(a: MemberMeta, b: MemberMeta): boolean {
  if (a.role !== b.role || a.version !== b.version) return false;
  if (a.addresses.gossip !== b.addresses.gossip || a.addresses.cluster !== b.addresses.cluster || a.addresses.http !== b.addresses.http) return false;
  const ka = Object.keys(a.tags);
  if (ka.length !== Object.keys(b.tags).length) return false;
  return ka.every((k) => a.tags[k] === b.tags[k]);
}
