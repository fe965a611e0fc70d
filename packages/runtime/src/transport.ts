/**
 * Transport: how bytes leave a Shoal process.
 *
 * Two services, because the protocols above need both:
 * - **datagrams**: unreliable, unordered, size-limited packets (SWIM probes and gossip). A send
 *   never throws for network conditions; a lost packet is the protocol's problem.
 * - **streams**: reliable, ordered, message-framed connections (actor messages, push-pull state
 *   sync, handoff). Frames arrive whole and in order, or the stream closes.
 *
 * Addresses are strings `host:port` (IPv6 hosts in brackets), so they serialize, compare and key
 * maps without ceremony. The Node implementation uses UDP (`node:dgram`) and WebSockets (`ws`) or
 * length-prefixed TCP (`StreamOptions.framing`); the simulator implements the same interfaces
 * over a seeded simulated network.
 */

/** `host:port`, e.g. `127.0.0.1:7946` or `[::1]:7946`. */
export type Address = string;

export interface HostPort {
  host: string;
  port: number;
}

export class AddressError extends Error {
  override name = 'AddressError';
}

/** Parses `host:port`; throws AddressError with a clear sentence if it is not one. */
export function parseAddress(address: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(address);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AddressError(`not a host:port address: ${JSON.stringify(address)}`);
  }
  return { host, port };
}

export function formatAddress(host: string, port: number): Address {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export type DatagramHandler = (data: Uint8Array, from: Address) => void;

export interface DatagramEndpoint {
  /** The bound address (with the real port when 0 was asked for). */
  readonly local: Address;
  /** Sends one packet, best effort. Never throws for network conditions. */
  send(to: Address, data: Uint8Array): void;
  close(): Promise<void>;
}

export interface StreamHandlers {
  onFrame(frame: Uint8Array): void;
  /** Called once, when the stream is closed by either side or breaks. */
  onClose(reason: string): void;
  /** Called when buffered outbound bytes have been handed to the network. */
  onDrain?(): void;
}

export interface Stream {
  /** The peer's address as this side sees it. */
  readonly remote: Address;
  /**
   * Attaches the handlers. Frames that arrived before this call are delivered first, in order;
   * if the stream already closed, `onClose` follows them.
   */
  attach(handlers: StreamHandlers): void;
  /** Queues one frame. Throws StreamClosedError once the stream is closed. */
  send(frame: Uint8Array): void;
  /** Bytes queued but not yet handed to the network. */
  bufferedBytes(): number;
  /**
   * Stops delivering frames (and, where the transport can, stops reading, so the sender is
   * slowed by the network's own flow control). Frames that arrive meanwhile are kept in order;
   * the peer's close may not be seen until `resume` (a paused reader does not read the FIN).
   */
  pause(): void;
  /** Delivers the frames kept while paused (then a close that came meanwhile), and resumes. */
  resume(): void;
  /** Closes the stream; idempotent. */
  close(reason?: string): void;
  readonly closed: boolean;
}

export class StreamClosedError extends Error {
  override name = 'StreamClosedError';
}

export class ConnectError extends Error {
  override name = 'ConnectError';
}

const listenReasons: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another process, or another Shoal on the same port?)',
  EADDRNOTAVAIL: 'no interface of this machine has that address',
  EACCES: 'permission denied (ports below 1024 need privileges)',
};

/** A socket could not be bound or listen: one sentence naming what, where and why. */
export class ListenError extends Error {
  override name = 'ListenError';
  readonly code: string | undefined;
  constructor(what: string, address: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const why = (code && listenReasons[code]) ?? (cause instanceof Error ? cause.message : String(cause));
    super(`cannot listen on ${address} (${what}): ${why}${code && listenReasons[code] ? ` [${code}]` : ''}`);
    this.code = code;
  }
}

export interface StreamListener {
  readonly local: Address;
  close(): Promise<void>;
}

export interface StreamOptions {
  /** Frames larger than this close the stream (a limit on what a peer can make us buffer). */
  maxFrameBytes: number;
  /**
   * How the Node transport frames a stream on the wire: `'ws'` (WebSocket, the default: the
   * long-lived cluster transport) or `'tcp'` (a 4-byte length before each frame: cheap to open,
   * for short exchanges such as SWIM's push-pull; tcp-stream.ts). Both ends must agree: a
   * listener speaks one framing. The simulator ignores it.
   */
  framing?: 'ws' | 'tcp';
}

export interface Transport {
  bindDatagram(local: Address, onDatagram: DatagramHandler): Promise<DatagramEndpoint>;
  listenStreams(local: Address, onStream: (stream: Stream) => void, opts: StreamOptions): Promise<StreamListener>;
  /** Opens a stream; rejects with ConnectError if the peer cannot be reached. */
  connectStream(remote: Address, opts: StreamOptions & { signal?: AbortSignal; timeoutMs?: number }): Promise<Stream>;
}

/**
 * Buffers frames and close until handlers are attached; shared by every Stream implementation
 * so that "attach after connect resolves" never loses an early frame.
 */
export class StreamInbox {
  private handlers: StreamHandlers | undefined;
  /** Frames not yet delivered: before `attach`, or while paused. */
  private held: Uint8Array[] = [];
  private paused = false;
  private closedReason: string | undefined;
  private closeDelivered = false;

  attach(handlers: StreamHandlers): void {
    if (this.handlers) throw new Error('stream handlers already attached');
    this.handlers = handlers;
    this.flush();
  }

  frame(frame: Uint8Array): void {
    if (this.closedReason !== undefined) return;
    if (this.handlers && !this.paused && this.held.length === 0) this.handlers.onFrame(frame);
    else this.held.push(frame);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.flush();
  }

  /** A close is announced after the frames that arrived before it, paused or not. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.paused = false;
    this.flush();
  }

  private flush(): void {
    const handlers = this.handlers;
    if (!handlers) return;
    while (this.held.length > 0 && !this.paused) handlers.onFrame(this.held.shift() as Uint8Array);
    if (this.closedReason !== undefined && !this.closeDelivered && this.held.length === 0) {
      this.closeDelivered = true;
      handlers.onClose(this.closedReason);
    }
  }

  drain(): void {
    this.handlers?.onDrain?.();
  }
}
