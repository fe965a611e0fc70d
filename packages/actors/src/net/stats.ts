/** Counters of the actor transport, for metrics and tests. */

export interface NetStats {
  messagesOut: number;
  messagesIn: number;
  framesOut: number;
  framesIn: number;
  bytesOut: number;
  bytesIn: number;
  /** Items that became dead letters at this node (unreachable peer, unencodable body). */
  bounced: number;
  queueFull: number;
  dials: number;
  dialFailures: Record<'timeout' | 'handshake' | 'refused' | 'protocol' | 'closed', number>;
  accepted: number;
  acceptFailures: Record<'timeout' | 'handshake' | 'refused' | 'protocol' | 'closed', number>;
  refused: Record<'duplicate' | 'shutting-down' | 'version', number>;
  linksOpened: number;
  linksClosed: number;
  unexpected: number;
  inboundErrors: number;
  /** Times a link was paused because local mailboxes were too full. */
  throttled: number;
}

export function emptyNetStats(): NetStats {
  const failures = () => ({ timeout: 0, handshake: 0, refused: 0, protocol: 0, closed: 0 });
  return {
    messagesOut: 0,
    messagesIn: 0,
    framesOut: 0,
    framesIn: 0,
    bytesOut: 0,
    bytesIn: 0,
    bounced: 0,
    queueFull: 0,
    dials: 0,
    dialFailures: failures(),
    accepted: 0,
    acceptFailures: failures(),
    refused: { duplicate: 0, 'shutting-down': 0, version: 0 },
    linksOpened: 0,
    linksClosed: 0,
    unexpected: 0,
    inboundErrors: 0,
    throttled: 0,
  };
}

export interface PeerInfo {
  node: string;
  address: string | null;
  state: 'connected' | 'connecting' | 'backoff' | 'idle';
  queued: number;
  incarnation: string | null;
  lastError: string | null;
}
