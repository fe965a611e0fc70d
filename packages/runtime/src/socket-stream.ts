/**
 * What the Node stream implementations share — WebSocket (node-transport.ts) and length-prefixed
 * TCP (tcp-stream.ts): the inbox of received frames (transport.ts `StreamInbox`), the count of
 * bytes handed to the socket and not yet written (`queued` makes a write's callback, which
 * announces the drain when the count is back to 0), and pause/resume of inbox and socket
 * together. Each subclass frames, sends and closes in its own way.
 */
import { StreamInbox, type Address, type Stream, type StreamHandlers } from './transport.js';

/** A socket that can stop and resume reading (`ws` WebSocket, `net.Socket`). */
interface Readable {
  pause(): unknown;
  resume(): unknown;
}

export abstract class SocketStream implements Stream {
  protected readonly inbox = new StreamInbox();
  private pendingBytes = 0;
  closed = false;

  protected constructor(
    readonly remote: Address,
    private readonly reading: Readable,
  ) {}

  abstract send(frame: Uint8Array): void;
  abstract close(reason?: string): void;

  attach(handlers: StreamHandlers): void {
    this.inbox.attach(handlers);
  }

  bufferedBytes(): number {
    return this.pendingBytes;
  }

  pause(): void {
    this.inbox.pause();
    this.reading.pause();
  }

  resume(): void {
    this.inbox.resume();
    this.reading.resume();
  }

  /** Counts `size` bytes as queued; returns the callback their write completes with. */
  protected queued(size: number): () => void {
    this.pendingBytes += size;
    return () => {
      this.pendingBytes -= size;
      if (this.pendingBytes === 0) this.inbox.drain();
    };
  }
}
