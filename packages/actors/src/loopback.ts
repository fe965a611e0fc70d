/**
 * LoopbackNetwork: an in-memory RemoteRouter connecting actor systems in one process — the
 * reference implementation of the seam (remote.ts), for tests and for the simulator.
 *
 * Each attached system gets an endpoint whose outbound queue holds frames (send, monitor,
 * demonitor). Messages are serialized on the way in — refs encoded, then `structuredClone` —
 * so the receiver gets a copy (mutating the original after `dispatch` changes nothing), refs
 * come out bound to the receiving system, and a message that could not cross a real wire
 * (functions, class behaviour) fails at `dispatch`. Frames are delivered on the next
 * `clock.defer` turn, in order, per sending node. The queue is bounded by `queueMax`: when full,
 * the router throws `OutboundQueueFullError` and `dispatch` fails with it.
 *
 * `disconnect(node)` models the node vanishing: frames to and from it are dropped, the other
 * systems get `nodeDown(node)` and it gets `nodeDown` for each of them. A message that cannot
 * be delivered (its node left, or never joined) comes back to its sender's system as a
 * `no-route` dead letter; a monitor request, as a `node-down` message to the watcher.
 */
import { nodeClock, type Clock } from '@shoal/runtime';
import { checkCount } from './config.js';
import { OutboundQueueFullError } from './errors.js';
import { RingQueue } from './queue.js';
import { ActorRef, refFromJSON, type RefJSON } from './ref.js';
import { decodeRefs, encodeRefs, type RemoteRouter } from './remote.js';
import type { ActorSystem } from './system.js';

type AnyRef = ActorRef<unknown>;

export interface LoopbackOptions {
  clock?: Clock;
  /** Frames an endpoint may hold before `send` throws. Default 100 000. */
  queueMax?: number;
}

type Frame =
  | { kind: 'send'; node: string; to: RefJSON; msg: unknown; sender: RefJSON | undefined }
  | { kind: 'monitor' | 'demonitor'; node: string; watcher: RefJSON; target: RefJSON; id: number };

class Endpoint implements RemoteRouter {
  readonly queue = new RingQueue<Frame>();
  private flushing = false;

  constructor(
    readonly net: LoopbackNetwork,
    readonly system: ActorSystem,
  ) {}

  send(to: AnyRef, msg: unknown, sender: AnyRef | undefined): void {
    this.push({ kind: 'send', node: to.node, to: to.toJSON(), msg: structuredClone(encodeRefs(msg)), sender: sender?.toJSON() });
  }

  monitor(watcher: AnyRef, target: AnyRef, id: number): void {
    this.push({ kind: 'monitor', node: target.node, watcher: watcher.toJSON(), target: target.toJSON(), id });
  }

  demonitor(watcher: AnyRef, target: AnyRef, id: number): void {
    this.push({ kind: 'demonitor', node: target.node, watcher: watcher.toJSON(), target: target.toJSON(), id });
  }

  private push(frame: Frame): void {
    if (this.queue.size >= this.net.queueMax) {
      throw new OutboundQueueFullError(`outbound queue of node ${this.system.name} is full (${this.net.queueMax} frames)`);
    }
    this.queue.push(frame);
    if (!this.flushing) {
      this.flushing = true;
      this.net.clock.defer(() => this.flush());
    }
  }

  private flush(): void {
    this.flushing = false;
    for (let f = this.queue.shift(); f !== undefined; f = this.queue.shift()) {
      const dest = this.net.endpoint(f.node);
      // Either end left the network since the frame was queued (or the node was never on it).
      if (dest === undefined || this.net.endpoint(this.system.name) !== this) {
        this.net.dropped++;
        this.bounce(f);
        continue;
      }
      this.net.delivered++;
      dest.receive(f);
    }
  }

  /** Tells the sending system about a frame that cannot be delivered. */
  private bounce(f: Frame): void {
    const s = this.system;
    switch (f.kind) {
      case 'send':
        s.undeliverable(refFromJSON(s, f.to), decodeRefs(f.msg, s), f.sender === undefined ? undefined : refFromJSON(s, f.sender));
        return;
      case 'monitor':
        s.deliver(refFromJSON(s, f.watcher), { type: 'shoal.down', ref: refFromJSON(s, f.target), reason: 'node-down', monitorId: f.id });
        return;
      case 'demonitor':
        return;
    }
  }

  private receive(f: Frame): void {
    const s = this.system;
    switch (f.kind) {
      case 'send':
        s.deliver(refFromJSON(s, f.to), decodeRefs(f.msg, s), f.sender === undefined ? undefined : refFromJSON(s, f.sender));
        return;
      case 'monitor':
        s.remoteMonitor(refFromJSON(s, f.watcher), refFromJSON(s, f.target), f.id);
        return;
      case 'demonitor':
        s.remoteDemonitor(refFromJSON(s, f.watcher), refFromJSON(s, f.target), f.id);
        return;
    }
  }
}

export class LoopbackNetwork {
  readonly clock: Clock;
  readonly queueMax: number;
  /** Frames handed to a destination, and frames dropped because an end had left. */
  delivered = 0;
  dropped = 0;
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(opts: LoopbackOptions = {}) {
    this.clock = opts.clock ?? nodeClock();
    this.queueMax = checkCount('queueMax', opts.queueMax ?? 100_000, 1);
  }

  /** Connects a system (given by itself or any of its refs) to the network. */
  attach(via: ActorSystem | ActorRef<unknown>): void {
    const system = via instanceof ActorRef ? via.system : via;
    if (this.endpoints.has(system.name)) throw new Error(`node ${system.name} is already on this network`);
    const endpoint = new Endpoint(this, system);
    this.endpoints.set(system.name, endpoint);
    system.attachRemote(endpoint);
  }

  /** The node leaves abruptly: in-flight frames are lost and every side sees the other down. */
  disconnect(node: string): void {
    const endpoint = this.endpoints.get(node);
    if (endpoint === undefined) return;
    this.endpoints.delete(node);
    endpoint.system.detachRemote(endpoint);
    for (const other of this.endpoints.values()) {
      other.system.nodeDown(node);
      endpoint.system.nodeDown(other.system.name);
    }
  }

  /** @internal */
  endpoint(node: string): Endpoint | undefined {
    return this.endpoints.get(node);
  }
}

/** Connects the given systems (or their root refs) on a new loopback network. */
export function linkSystems(...systems: (ActorSystem | ActorRef<unknown>)[]): LoopbackNetwork {
  const net = new LoopbackNetwork();
  for (const s of systems) net.attach(s);
  return net;
}
