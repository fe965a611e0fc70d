/**
 * Streams over plain TCP: each frame is a 4-byte big-endian length, then that many bytes
 * (`framing: 'tcp'` in StreamOptions; node-transport.ts picks this or WebSockets per listener
 * and per connection).
 *
 * Why a second framing: a WebSocket costs an HTTP upgrade per connection, and the first one in
 * a process runs ws's and http's client code for the first time — 13.7 ms of CPU against 1.2 ms
 * for a TCP connect and one frame, measured here under `--lite-mode` (later connections 1.3–1.6
 * against 0.4–0.5 ms). SWIM's push-pull opens a short-lived stream per exchange (every join,
 * then every 30 s), so that cost is paid by every member at every cold start; the long-lived
 * cluster transport keeps WebSockets. memberlist's push-pull is plain TCP too.
 *
 * Contract (transport.ts): frames whole and in order, or the stream closes; a frame longer than
 * `maxFrameBytes` closes the stream (and nothing of it is buffered past its header); `close`
 * flushes what was queued, then ends the connection. Unlike a WebSocket, the reason of a close
 * does not travel: the peer sees "closed by the peer".
 */
import net from 'node:net';
import { SocketStream } from './socket-stream.js';
import { listening } from './listening.js';
import { ConnectError, StreamClosedError, formatAddress, parseAddress, type Address, type Stream, type StreamListener, type StreamOptions } from './transport.js';

const headerBytes = 4;

class TcpStream extends SocketStream {
  /** Bytes received and not yet framed: the chunks, and their total. */
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    private readonly socket: net.Socket,
    remote: Address,
    private readonly maxFrameBytes: number,
  ) {
    super(remote, socket);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.finish('closed by the peer'));
    socket.on('close', () => this.finish('closed by the peer'));
    socket.on('error', (err) => this.finish(`error: ${err.message}`));
  }

  send(frame: Uint8Array): void {
    if (this.closed || this.socket.destroyed) throw new StreamClosedError(`stream to ${this.remote} is closed`);
    const header = Buffer.allocUnsafe(headerBytes);
    header.writeUInt32BE(frame.byteLength, 0);
    // One writev for header and frame, no copy of the frame.
    this.socket.cork();
    this.socket.write(header);
    this.socket.write(frame, this.queued(frame.byteLength));
    this.socket.uncork();
  }

  close(reason = 'closed by this side'): void {
    if (this.closed) return;
    this.finish(reason);
  }

  /** Splits what arrived into frames; a header announcing more than the limit closes the stream. */
  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    while (this.buffered >= headerBytes) {
      const head = this.chunks[0]!.byteLength >= headerBytes ? this.chunks[0]! : this.gather();
      const size = head.readUInt32BE(0);
      if (size > this.maxFrameBytes) return this.finish(`frame of ${size} bytes over the ${this.maxFrameBytes}-byte limit`);
      if (this.buffered < headerBytes + size) return;
      const first = this.chunks[0]!.byteLength >= headerBytes + size ? this.chunks[0]! : this.gather();
      // A copy: the frame outlives this chunk (it is queued while paused, or kept by the receiver).
      const frame = Uint8Array.prototype.slice.call(first, headerBytes, headerBytes + size);
      const rest = first.subarray(headerBytes + size);
      this.buffered -= headerBytes + size;
      if (rest.byteLength > 0) this.chunks[0] = rest;
      else this.chunks.shift();
      this.inbox.frame(frame);
      if (this.closed) return;
    }
  }

  /** Joins every buffered chunk into one (a header or a frame that spans chunks). */
  private gather(): Buffer {
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [all];
    return all;
  }

  private finish(reason: string): void {
    if (!this.closed) this.closed = true;
    this.chunks = [];
    this.buffered = 0;
    this.inbox.close(reason);
    // Queued frames are still written; the socket is destroyed once they are flushed.
    if (!this.socket.destroyed) this.socket.destroySoon();
  }
}

export async function listenTcp(local: Address, onStream: (s: Stream) => void, opts: StreamOptions): Promise<StreamListener> {
  const { host, port } = parseAddress(local);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onStream(new TcpStream(socket, formatAddress(socket.remoteAddress ?? '0.0.0.0', socket.remotePort ?? 0), opts.maxFrameBytes));
  });
  await listening('TCP', local, server, (ready) => server.listen(port, host, ready));
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr !== null ? addr.port : port;
  return {
    local: formatAddress(host, boundPort),
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export function connectTcp(remote: Address, opts: StreamOptions & { signal?: AbortSignal; timeoutMs?: number }): Promise<Stream> {
  const { host, port } = parseAddress(remote);
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new ConnectError(`connect to ${remote} aborted`));
      return;
    }
    const socket = net.connect({ host, port });
    const timeoutMs = opts.timeoutMs ?? 5000;
    const timer = setTimeout(() => fail(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => {
      done();
      socket.destroy();
      reject(new ConnectError(`connect to ${remote} aborted`));
    };
    const done = (): void => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.off('error', fail);
    };
    function fail(err: Error): void {
      done();
      socket.destroy();
      reject(new ConnectError(`cannot connect to ${remote}: ${err.message}`));
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', fail);
    socket.once('connect', () => {
      done();
      resolve(new TcpStream(socket, remote, opts.maxFrameBytes));
    });
  });
}
