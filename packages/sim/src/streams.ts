/**
 * Simulated streams: reliable, ordered, framed connections between nodes (TCP/WebSocket-like).
 *
 * Fault model (what a test can rely on):
 * - Connect: a SYN takes the link delay to reach the peer. No host, a host that is down, or a
 *   cut path in either direction: nothing answers and the connect rejects with ConnectError
 *   after its timeout (`timeoutMs`, default `connectTimeoutMs`). No listener on the port: the
 *   peer answers and the connect rejects ("refused") after a round trip. A listener: the server
 *   side is accepted (`onStream`) when the SYN arrives; the client's promise resolves one
 *   return-trip later.
 * - Frames: never lost, duplicated or reordered while the path is up. A frame departs when the
 *   link's bandwidth queue allows and arrives after the link delay, but never before a frame
 *   sent earlier on the same stream direction (arrival = max(depart + delay, previous arrival)).
 *   `bufferedBytes()` counts bytes not yet departed; `onDrain` fires when it returns to 0.
 *   A frame larger than the receiver's `maxFrameBytes` closes the stream at the receiver (both
 *   sides then see onClose), as ws's `maxPayload` does.
 * - Close: the closing side sees onClose at once; the peer sees it after the frames already in
 *   flight and the link delay (a FIN). A crash closes every stream of the process the same way,
 *   without notifying the dead side (the kernel resets its connections). Closing a listener
 *   closes the streams it accepted.
 * - Cut: when a partition cuts a stream's path in either direction, the stream is doomed at that
 *   instant: nothing more is delivered on it (frames and FINs in flight are lost), and
 *   `streamBreakTimeoutMs` later both ends still open see onClose ("timed out"). Healing the
 *   partition before then does not save it. So the frames a side received are always a prefix
 *   of those the other side sent.
 */
import {
  ConnectError,
  StreamClosedError,
  StreamInbox,
  parseAddress,
  type Address,
  type Stream,
  type StreamHandlers,
  type StreamListener,
  type StreamOptions,
} from '@shoal/runtime';
import { SimBindError, SimConfigError } from './errors.js';
import type { SimEvent } from './scheduler.js';
import type { NetContext, NetHost } from './hosts.js';

interface Listener {
  readonly host: NetHost;
  readonly port: number;
  readonly local: Address;
  readonly onStream: (stream: Stream) => void;
  readonly maxFrameBytes: number;
  readonly ends: Set<StreamEnd>;
  closed: boolean;
}

interface Pair {
  readonly id: number;
  doomedAtMs: number | undefined;
  readonly ends: StreamEnd[];
}

export class StreamEnd implements Stream {
  private readonly inbox = new StreamInbox();
  closed = false;
  buffered = 0;
  /** No frame or FIN may arrive at this end before this time (per-direction FIFO). */
  arrivalFloorMs = 0;
  peer!: StreamEnd;

  constructor(
    private readonly net: StreamNet,
    readonly pair: Pair,
    readonly host: NetHost,
    readonly incarnation: number,
    readonly port: number,
    readonly remote: Address,
    readonly maxFrameBytes: number,
    readonly listener: Listener | undefined,
  ) {}

  attach(handlers: StreamHandlers): void {
    this.inbox.attach(handlers);
  }

  send(frame: Uint8Array): void {
    if (this.closed) throw new StreamClosedError(`stream to ${this.remote} is closed`);
    this.net.sendFrame(this, frame.slice());
  }

  bufferedBytes(): number {
    return this.buffered;
  }

  /** Holds arriving frames at this end (the sender is not slowed: a simplification of TCP). */
  pause(): void {
    this.inbox.pause();
  }

  resume(): void {
    this.inbox.resume();
  }

  close(reason = 'closed by this side'): void {
    this.net.closeEnd(this, reason, `closed by peer (${reason})`, true);
  }

  /** Network side: hands an arrived frame / the close / a drain to the handlers. */
  deliver(frame: Uint8Array): void {
    this.inbox.frame(frame);
  }

  notifyClose(reason: string): void {
    this.inbox.close(reason);
  }

  notifyDrain(): void {
    this.inbox.drain();
  }
}

class ConnectAttempt {
  settled = false;
  timer: SimEvent | undefined;
  private onAbort: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly from: NetHost,
    readonly incarnation: number,
    readonly remote: Address,
    readonly maxFrameBytes: number,
    private readonly ctx: NetContext,
    private readonly resolveFn: (s: Stream) => void,
    private readonly rejectFn: (e: Error) => void,
    private readonly signal: AbortSignal | undefined,
  ) {
    if (signal) {
      this.onAbort = () => {
        if (this.fail(new ConnectError(`connect to ${remote} aborted`))) ctx.trace.record(ctx.sched.nowMs, `conn #${id} aborted`);
      };
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.timer) this.ctx.sched.cancel(this.timer);
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    return true;
  }

  succeed(stream: Stream): boolean {
    if (!this.finish()) return false;
    this.resolveFn(stream);
    return true;
  }

  fail(err: Error): boolean {
    if (!this.finish()) return false;
    this.rejectFn(err);
    return true;
  }
}

export function checkBindHost(h: NetHost, host: string): void {
  if (host !== h.host && host !== '0.0.0.0') {
    throw new SimBindError(`node ${h.name} cannot bind ${host}: its address is ${h.host}`);
  }
}

function checkFrameLimit(maxFrameBytes: number): void {
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes <= 0) {
    throw new SimConfigError(`maxFrameBytes must be a positive integer, got ${maxFrameBytes}`);
  }
}

export class StreamNet {
  private readonly pairs = new Map<number, Pair>();
  private readonly listeners = new Map<NetHost, Map<number, Listener>>();
  private readonly ends = new Map<NetHost, Set<StreamEnd>>();
  private nextId = 1;

  constructor(private readonly ctx: NetContext) {}

  private endsOf(h: NetHost): Set<StreamEnd> {
    let set = this.ends.get(h);
    if (!set) this.ends.set(h, (set = new Set()));
    return set;
  }

  private listenersOf(h: NetHost): Map<number, Listener> {
    let map = this.listeners.get(h);
    if (!map) this.listeners.set(h, (map = new Map()));
    return map;
  }

  private record(what: string): void {
    this.ctx.trace.record(this.ctx.sched.nowMs, what);
  }

  listen(h: NetHost, local: Address, onStream: (s: Stream) => void, opts: StreamOptions): StreamListener {
    checkFrameLimit(opts.maxFrameBytes);
    const { host, port: asked } = parseAddress(local);
    checkBindHost(h, host);
    if (asked !== 0 && h.tcpPorts.has(asked)) throw new SimBindError(`${h.address(asked)} is already in use`);
    const port = asked === 0 ? h.ephemeral((p) => h.tcpPorts.has(p)) : asked;
    h.tcpPorts.add(port);
    const listener: Listener = { host: h, port, local: h.address(port), onStream, maxFrameBytes: opts.maxFrameBytes, ends: new Set(), closed: false };
    this.listenersOf(h).set(port, listener);
    this.record(`listen ${h.name} ${listener.local}`);
    return {
      local: listener.local,
      close: () => {
        this.closeListener(listener);
        return Promise.resolve();
      },
    };
  }

  private closeListener(listener: Listener): void {
    if (listener.closed) return;
    listener.closed = true;
    const h = listener.host;
    if (this.listenersOf(h).get(listener.port) === listener) this.listenersOf(h).delete(listener.port);
    h.tcpPorts.delete(listener.port);
    this.record(`unlisten ${h.name} ${listener.local}`);
    for (const end of [...listener.ends]) this.closeEnd(end, 'listener closed', 'closed by peer (listener closed)', true);
  }

  connect(h: NetHost, incarnation: number, remote: Address, opts: StreamOptions & { signal?: AbortSignal; timeoutMs?: number }): Promise<Stream> {
    checkFrameLimit(opts.maxFrameBytes);
    const { host, port } = parseAddress(remote);
    if (opts.signal?.aborted) return Promise.reject(new ConnectError(`connect to ${remote} aborted`));
    const timeoutMs = opts.timeoutMs ?? this.ctx.limits.connectTimeoutMs;
    const { sched, links, cuts } = this.ctx;
    return new Promise<Stream>((resolve, reject) => {
      const id = this.nextId++;
      const attempt = new ConnectAttempt(id, h, incarnation, remote, opts.maxFrameBytes, this.ctx, resolve, reject, opts.signal);
      attempt.timer = sched.schedule(sched.nowMs + timeoutMs, { node: h.name, incarnation }, 'connect timeout', () => {
        if (attempt.fail(new ConnectError(`connect to ${remote} timed out after ${timeoutMs} ms`))) this.record(`conn #${id} timeout`);
      });
      const dest = this.ctx.hostOf(host);
      this.record(`conn #${id} ${h.name}>${dest?.name ?? '?'} connect ${remote}`);
      if (!dest) return this.record(`conn #${id} lost no-route`);
      if (cuts.isCut(h.name, dest.name)) return this.record(`conn #${id} lost cut`);
      const atMs = sched.nowMs + links.latencyMs(h.name, dest.name);
      sched.schedule(atMs, { node: dest.name }, 'syn', () => this.onSyn(attempt, dest, port));
    });
  }

  private onSyn(attempt: ConnectAttempt, dest: NetHost, port: number): void {
    const { sched, links, cuts } = this.ctx;
    const from = attempt.from;
    const id = attempt.id;
    if (attempt.settled || !from.isLive(attempt.incarnation)) return this.record(`conn #${id} lost client-gone`);
    if (cuts.isCut(from.name, dest.name) || cuts.isCut(dest.name, from.name)) return this.record(`conn #${id} lost cut`);
    if (!dest.alive) return this.record(`conn #${id} lost down`);
    const backMs = sched.nowMs + links.latencyMs(dest.name, from.name);
    const listener = this.listenersOf(dest).get(port);
    const clientOwner = { node: from.name, incarnation: attempt.incarnation };
    if (!listener) {
      this.record(`conn #${id} refused`);
      sched.schedule(backMs, clientOwner, 'rst', () => {
        if (cuts.isCut(dest.name, from.name)) return this.record(`conn #${id} lost cut`);
        this.ctx.stats.streamsRefused++;
        attempt.fail(new ConnectError(`connection refused by ${attempt.remote}`));
      });
      return;
    }
    const pair: Pair = { id, doomedAtMs: undefined, ends: [] };
    const clientPort = from.ephemeral((p) => from.tcpPorts.has(p));
    from.tcpPorts.add(clientPort);
    const server = new StreamEnd(this, pair, dest, dest.incarnation, listener.port, from.address(clientPort), listener.maxFrameBytes, listener);
    const client = new StreamEnd(this, pair, from, attempt.incarnation, clientPort, attempt.remote, attempt.maxFrameBytes, undefined);
    server.peer = client;
    client.peer = server;
    server.arrivalFloorMs = sched.nowMs;
    client.arrivalFloorMs = backMs;
    pair.ends.push(client, server);
    this.pairs.set(id, pair);
    this.endsOf(dest).add(server);
    this.endsOf(from).add(client);
    listener.ends.add(server);
    this.record(`conn #${id} accepted by ${dest.name} from ${server.remote}`);
    sched.schedule(backMs, clientOwner, 'syn-ack', () => this.onSynAck(attempt, client));
    listener.onStream(server);
  }

  private onSynAck(attempt: ConnectAttempt, client: StreamEnd): void {
    if (client.pair.doomedAtMs !== undefined || client.closed) return;
    if (attempt.settled) {
      this.closeEnd(client, 'connect abandoned', 'connection reset by peer', false);
      return;
    }
    this.ctx.stats.streamsOpened++;
    this.record(`conn #${attempt.id} established`);
    attempt.succeed(client);
  }

  sendFrame(end: StreamEnd, frame: Uint8Array): void {
    const { sched, links, stats } = this.ctx;
    const peer = end.peer;
    const bytes = frame.byteLength;
    end.buffered += bytes;
    stats.framesSent++;
    const departMs = links.departMs(end.host.name, peer.host.name, bytes, sched.nowMs);
    sched.schedule(departMs, { node: end.host.name, incarnation: end.incarnation }, 'depart', () => {
      end.buffered -= bytes;
      if (end.buffered === 0 && !end.closed) end.notifyDrain();
    });
    if (end.pair.doomedAtMs !== undefined || peer.closed) return;
    const atMs = Math.max(departMs + links.latencyMs(end.host.name, peer.host.name), peer.arrivalFloorMs);
    peer.arrivalFloorMs = atMs;
    sched.schedule(atMs, { node: peer.host.name, incarnation: peer.incarnation }, 'frame', () => this.deliverFrame(peer, frame));
  }

  private deliverFrame(end: StreamEnd, frame: Uint8Array): void {
    const id = end.pair.id;
    if (end.closed || end.pair.doomedAtMs !== undefined) return this.record(`stream #${id} frame lost at ${end.host.name}`);
    if (frame.byteLength > end.maxFrameBytes) {
      const why = `frame of ${frame.byteLength} bytes is over the ${end.maxFrameBytes}-byte limit`;
      this.closeEnd(end, why, `closed by peer (${why})`, true);
      return;
    }
    this.ctx.stats.framesDelivered++;
    this.record(`stream #${id} frame ${end.peer.host.name}>${end.host.name} ${frame.byteLength}B`);
    end.deliver(frame);
  }

  /** Closes one end; the peer hears of it after in-flight frames and the link delay. */
  closeEnd(end: StreamEnd, localReason: string, peerReason: string, notifyLocal: boolean): void {
    if (end.closed) return;
    end.closed = true;
    const pair = end.pair;
    this.endsOf(end.host).delete(end);
    end.listener?.ends.delete(end);
    if (!end.listener) end.host.tcpPorts.delete(end.port);
    this.record(`stream #${pair.id} close ${end.host.name} (${localReason})`);
    if (notifyLocal) end.notifyClose(localReason);
    const peer = end.peer;
    if (peer.closed) {
      this.pairs.delete(pair.id);
      return;
    }
    if (pair.doomedAtMs !== undefined) return;
    const { sched, links } = this.ctx;
    const atMs = Math.max(sched.nowMs + links.latencyMs(end.host.name, peer.host.name), peer.arrivalFloorMs);
    peer.arrivalFloorMs = atMs;
    sched.schedule(atMs, { node: peer.host.name, incarnation: peer.incarnation }, 'fin', () => {
      if (pair.doomedAtMs === undefined) this.closeEnd(peer, peerReason, peerReason, true);
    });
  }

  /** Dooms every stream whose path the current cuts sever (see the header). */
  doomCutStreams(): void {
    const { sched, cuts, limits } = this.ctx;
    for (const pair of this.pairs.values()) {
      const [a, b] = pair.ends as [StreamEnd, StreamEnd];
      if (pair.doomedAtMs !== undefined) continue;
      if (!cuts.isCut(a.host.name, b.host.name) && !cuts.isCut(b.host.name, a.host.name)) continue;
      pair.doomedAtMs = sched.nowMs;
      this.ctx.stats.streamsBroken++;
      this.record(`stream #${pair.id} cut`);
      for (const end of pair.ends) {
        if (end.closed) continue;
        sched.schedule(sched.nowMs + limits.streamBreakTimeoutMs, { node: end.host.name, incarnation: end.incarnation }, 'stream timeout', () => {
          const why = 'timed out: the network path to the peer is cut';
          this.closeEnd(end, why, why, true);
        });
      }
    }
  }

  /** A crash: listeners vanish, every stream end closes without telling the dead side. */
  crash(h: NetHost): void {
    for (const listener of this.listenersOf(h).values()) listener.closed = true;
    this.listenersOf(h).clear();
    for (const end of [...this.endsOf(h)]) this.closeEnd(end, 'process crashed', `connection reset (${h.name} crashed)`, false);
  }
}
