/**
 * The Node.js Transport: UDP datagrams (`node:dgram`), and streams framed by WebSockets (`ws`,
 * the default) or by a length prefix over plain TCP (`framing: 'tcp'`: tcp-stream.ts). `ws` is
 * loaded at the first WebSocket listen or connect, so a process that never opens one (a SWIM
 * member, the CLI) does not load it, nor the http and tls modules it pulls in.
 *
 * Measured here (shared/DEPENDENCIES.md): UDP on loopback drops 2.5–6 % of packets with the
 * default receive buffer and none with 4 MiB, so sockets ask for 4 MiB. `ws` has no
 * backpressure beyond the send callback and a 100 MiB default `maxPayload`, so every stream
 * counts its unsent bytes and sets `maxPayload` from the caller's frame limit. Per-message
 * deflate is off (CPU for little gain on small binary frames); Nagle is off (ws's default).
 */
import dgram from 'node:dgram';
import type * as WsModule from 'ws';
import type { RawData, WebSocket } from 'ws';
import { SocketStream } from './socket-stream.js';
import { connectTcp, listenTcp } from './tcp-stream.js';
import { listening } from './listening.js';
import {
  ConnectError,
  StreamClosedError,
  formatAddress,
  parseAddress,
  type Address,
  type DatagramEndpoint,
  type DatagramHandler,
  type Stream,
  type StreamListener,
  type StreamOptions,
  type Transport,
} from './transport.js';

const udpBufferBytes = 4 * 1024 * 1024;

/** `ws`, imported at its first use. */
let wsModule: Promise<typeof WsModule> | undefined;
const loadWs = (): Promise<typeof WsModule> => (wsModule ??= import('ws'));

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

async function bindUdp(local: Address, onDatagram: DatagramHandler): Promise<DatagramEndpoint> {
  const { host, port } = parseAddress(local);
  const socket = dgram.createSocket({
    type: host.includes(':') ? 'udp6' : 'udp4',
    recvBufferSize: udpBufferBytes,
    sendBufferSize: udpBufferBytes,
  });
  // After bind, socket errors (ICMP unreachable and the like) are network conditions, not bugs.
  await listening('UDP', local, socket, (ready) => socket.bind(port, host, ready));
  socket.on('message', (msg, rinfo) => onDatagram(msg, formatAddress(rinfo.address, rinfo.port)));
  const bound = socket.address();
  const parsed = new Map<Address, { host: string; port: number }>();
  let closed = false;
  return {
    local: formatAddress(bound.address, bound.port),
    send(to, data) {
      if (closed) return;
      let dest = parsed.get(to);
      if (!dest) {
        dest = parseAddress(to);
        if (parsed.size > 10_000) parsed.clear();
        parsed.set(to, dest);
      }
      socket.send(data, dest.port, dest.host, () => undefined);
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}

class WsStream extends SocketStream {
  constructor(
    private readonly ws: WebSocket,
    remote: Address,
  ) {
    super(remote, ws);
    ws.on('message', (data) => this.inbox.frame(toBytes(data)));
    ws.on('close', (code, reason) => this.finish(`closed (${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`));
    ws.on('error', (err) => this.finish(`error: ${err.message}`));
  }

  send(frame: Uint8Array): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) throw new StreamClosedError(`stream to ${this.remote} is closed`);
    this.ws.send(frame, { binary: true }, this.queued(frame.byteLength));
  }

  close(reason = 'closed by this side'): void {
    if (this.closed) return;
    // Close codes 4000-4999 are for applications; the reason travels to the peer (≤ 123 bytes).
    this.ws.close(4000, reason.slice(0, 120));
    this.finish(reason);
  }

  private finish(reason: string): void {
    if (!this.closed) this.closed = true;
    this.inbox.close(reason);
    // A peer that never answers the close handshake must not hold the socket forever.
    if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
  }
}

async function listenWs(local: Address, onStream: (s: Stream) => void, opts: StreamOptions): Promise<StreamListener> {
  const { host, port } = parseAddress(local);
  const { WebSocketServer } = await loadWs();
  const server = new WebSocketServer({ host, port, maxPayload: opts.maxFrameBytes, perMessageDeflate: false, clientTracking: true });
  await listening('WebSocket', local, server, (ready) => server.once('listening', ready));
  server.on('connection', (ws, req) => {
    const remote = formatAddress(req.socket.remoteAddress ?? '0.0.0.0', req.socket.remotePort ?? 0);
    onStream(new WsStream(ws, remote));
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr !== null ? addr.port : port;
  return {
    local: formatAddress(host, boundPort),
    close() {
      for (const client of server.clients) client.terminate();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function connectWs(remote: Address, opts: StreamOptions & { signal?: AbortSignal; timeoutMs?: number }): Promise<Stream> {
  const { host, port } = parseAddress(remote);
  const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  const { WebSocket } = await loadWs();
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new ConnectError(`connect to ${remote} aborted`));
      return;
    }
    const ws = new WebSocket(url, {
      maxPayload: opts.maxFrameBytes,
      perMessageDeflate: false,
      handshakeTimeout: opts.timeoutMs ?? 5000,
      // RFC 6455 masks client frames so that browsers cannot poison proxy caches; between Shoal
      // nodes every frame is already AES-GCM ciphertext, and masking cost 9 % of a remote send
      // (measured, bench actors). An all-zero mask makes ws skip the XOR on both ends.
      generateMask: (mask: Buffer) => mask.fill(0),
    });
    const onAbort = (): void => {
      ws.terminate();
      reject(new ConnectError(`connect to ${remote} aborted`));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const fail = (err: Error): void => {
      opts.signal?.removeEventListener('abort', onAbort);
      ws.terminate();
      reject(new ConnectError(`cannot connect to ${remote}: ${err.message}`));
    };
    ws.once('error', fail);
    ws.once('open', () => {
      ws.off('error', fail);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(new WsStream(ws, remote));
    });
  });
}

export function nodeTransport(): Transport {
  return {
    bindDatagram: bindUdp,
    listenStreams: (local, onStream, opts) => (opts.framing === 'tcp' ? listenTcp(local, onStream, opts) : listenWs(local, onStream, opts)),
    connectStream: (remote, opts) => (opts.framing === 'tcp' ? connectTcp(remote, opts) : connectWs(remote, opts)),
  };
}
