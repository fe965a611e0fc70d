/**
 * ActorNet: the RemoteRouter that carries actor messages between nodes over links (link.ts).
 *
 * - **One link per node pair.** A node dials a peer when it has something to send and no link.
 *   If both dial at once, the dial from the node with the smaller name wins: the other is
 *   refused at `link-open`, before anything was sent on it, so per-pair message order holds and
 *   nothing is lost to the tie-break. A link from a new incarnation of a peer replaces the old.
 * - **Bounded, batched outbound.** Each peer has a queue of at most `outboundQueueMax` items;
 *   when full, `dispatch` throws `OutboundQueueFullError`. Items queued in one turn of the loop
 *   are flushed together, up to `batchItemsMax` per frame (one WebSocket message), while the
 *   stream has fewer than `highWaterBytes` unsent; a single message in flight goes at once.
 * - **Failure semantics are Erlang's.** Delivery is at most once and in order per pair. When a
 *   link closes, the peer is down for this node: monitors on its actors fire `node-down` and
 *   queries to it fail (`system.nodeDown`). Messages still queued are sent on the next link; if
 *   the peer cannot be reached `unreachableAfterFailures` times in a row they become `no-route`
 *   dead letters (their queries fail at once).
 * - **Bad input closes the link.** A frame that fails the session cipher or decoding is counted
 *   and closes the stream; it never throws into the actor system.
 */
import { every, type Address, type Logger, type Stream, type StreamListener, type Timer, type World } from '@shoal/runtime';
import {
  ActorDemonitor,
  ActorMonitor,
  ActorSends,
  DecodeStats,
  EncodeError,
  isMessage,
  shoalRegistry,
  WireCodec,
  sessionOverheadBytes,
  type ActorRefWire,
  type Keyring,
  type Message,
} from '@shoal/wire';
import { assertNever, OutboundQueueFullError } from '../errors.js';
import { isQueryRef } from '../queries.js';
import type { ActorRef} from '../ref.js';
import { refFromJSON } from '../ref.js';
import { decodeRefs, type RemoteRouter } from '../remote.js';
import type { ActorSystem } from '../system.js';
import { bodyDepthMax, fromWireBody, WireBodies } from './body.js';
import { bindIndexed, itemAt, OutboundQueue, toBatchItems, type Outbound } from './sends.js';
import { acceptServerLink, Link, LinkError, openClientLink, type LinkConfig, type RefuseReason } from './link.js';
import { netDefaults, type NetOptions, type NetSettings } from './settings.js';
import { emptyNetStats, type NetStats, type PeerInfo } from './stats.js';

type AnyRef = ActorRef<unknown>;

interface Peer {
  node: string;
  address: Address | undefined;
  queue: OutboundQueue;
  link: Link | undefined;
  connecting: boolean;
  /** The dial in progress was overtaken by an inbound link: close it when it lands. */
  superseded: boolean;
  failures: number;
  retry: Timer | undefined;
  pumpScheduled: boolean;
  lastError: string | undefined;
  incarnation: string | undefined;
  /** Callers of `whenRoom` waiting for the queue to shrink to `atMost`. */
  roomWaiters: { atMost: number; resolve: () => void }[];
}

/**
 * What `followMember` reads of a membership event (SWIM's `MemberEvent` has this shape; the
 * kinds are SWIM's `MemberEventKind`, restated here because actors does not depend on swim).
 */
export interface MembershipEvent {
  readonly kind: 'joined' | 'updated' | 'suspected' | 'failed' | 'left' | 'recovered';
  readonly member: { readonly name: string; readonly meta: { readonly addresses: { readonly cluster: string } } };
}

export class ActorNet implements RemoteRouter {
  readonly settings: NetSettings;
  readonly stats: NetStats = emptyNetStats();
  private readonly peers = new Map<string, Peer>();
  /** The items of the frame being encoded (`sendChunk`), four slots each; empty between frames. */
  private readonly chunk: unknown[] = [];
  private readonly codec: WireCodec;
  /** Message bodies to wire form, checked against the receiver's limits for `actor.sends`. */
  private readonly bodies: WireBodies;
  /**
   * An `actor.sends` frame whose value count (`toBatchItems`) is at most this, and whose bodies
   * were all checked at dispatch, skips the codec's scan of its own output (`encode`); 0 when
   * the limits leave no room for it.
   */
  private readonly checkedElementsMax: number;
  private readonly linkStats = new DecodeStats();
  private readonly log: Logger;
  private readonly linkConfig: LinkConfig;
  private listener: StreamListener | undefined;
  private readonly inbound = new Set<Link>();
  private stopping = false;
  private sweeper: Timer | undefined;
  /** Links paused for inbound flow control, and the timer that checks when to resume them. */
  private readonly pausedLinks = new Set<Link>();
  private resumeCheck: Timer | undefined;

  constructor(
    readonly system: ActorSystem,
    private readonly world: World,
    private readonly keyring: Keyring,
    opts: NetOptions,
  ) {
    this.settings = { ...netDefaults, ...opts };
    const frameBytesMax = this.settings.batchBytesMax + sessionOverheadBytes;
    // Every body we encode is free of `undefined` (WireBodies drops it; link and monitor
    // bodies have none), so the codec may use msgpackr's faster path (codec.ts).
    this.codec = new WireCodec(shoalRegistry, {
      batch: { batchItemsMax: this.settings.batchItemsMax * 2, batchBytesMax: this.settings.batchBytesMax },
      undefinedFields: 'reject',
    });
    const sendsLimits = this.codec.limitsOf(ActorSends);
    this.bodies = new WireBodies(sendsLimits);
    // Half the bound: a miscount cannot reach it. The envelope adds two levels above a body.
    this.checkedElementsMax = sendsLimits.depthMax >= bodyDepthMax + 3 ? sendsLimits.elementsMax >> 1 : 0;
    this.log = world.logger.child({ component: 'actor-net' });
    this.linkConfig = {
      node: system.name,
      cluster: this.settings.cluster,
      keyring,
      random: world.random,
      clock: world.clock,
      codec: this.codec,
      incarnation: this.settings.incarnation ?? Buffer.from(world.random.bytes(8)).toString('hex'),
      openTimeoutMs: this.settings.openTimeoutMs,
      frameBytesMax,
      stats: this.linkStats,
    };
  }

  get incarnation(): string {
    return this.linkConfig.incarnation;
  }

  get localAddress(): Address | undefined {
    return this.listener?.local;
  }

  /** Listens for links and attaches to the system as its router. */
  async start(): Promise<Address> {
    this.listener = await this.world.transport.listenStreams(this.settings.listen, (stream) => this.accept(stream), {
      maxFrameBytes: this.linkConfig.frameBytesMax,
    });
    this.system.attachRemote(this);
    // Peers idle in backoff are retried by their timers; this only forgets long-idle strangers.
    this.sweeper = every(this.world.clock, 60_000, () => this.sweep());
    return this.listener.local;
  }

  /** Closes every link and the listener; queued messages become dead letters. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sweeper?.cancel();
    this.resumeCheck?.cancel();
    this.system.detachRemote(this);
    for (const peer of this.peers.values()) {
      peer.retry?.cancel();
      peer.link?.close('node shutting down');
      this.bounceAll(peer);
    }
    for (const link of this.inbound) link.close('node shutting down');
    await this.listener?.close();
  }

  /** Where `node`'s cluster transport listens (from membership or configuration). */
  setPeerAddress(node: string, address: Address): void {
    const peer = this.peer(node);
    peer.address = address;
    if (peer.queue.size > 0) this.schedulePump(peer);
  }

  /**
   * Follows one membership event (SWIM's `MemberEvent`, by shape): a member that joined,
   * recovered or changed gets its cluster address; one that failed or left is forgotten and
   * declared down to the local system (its monitors fire, queries to it fail). Other kinds, and
   * events about this node, change nothing.
   */
  followMember(event: MembershipEvent): void {
    const m = event.member;
    if (m.name === this.system.name) return;
    switch (event.kind) {
      case 'joined':
      case 'recovered':
      case 'updated':
        this.setPeerAddress(m.name, m.meta.addresses.cluster);
        return;
      case 'failed':
      case 'left':
        this.forgetPeer(m.name);
        this.system.nodeDown(m.name);
        return;
      case 'suspected':
        return; // a suspect may refute: its link stays, its messages keep their place
      default:
        return assertNever(event.kind);
    }
  }

  /** A peer node left for good: close its link and forget it. */
  forgetPeer(node: string): void {
    const peer = this.peers.get(node);
    if (!peer) return;
    peer.retry?.cancel();
    peer.link?.close('peer forgotten');
    this.bounceAll(peer);
    this.peers.delete(node);
  }

  peersInfo(): PeerInfo[] {
    return [...this.peers.values()].map((p) => ({
      node: p.node,
      address: p.address ?? null,
      state: p.link ? 'connected' : p.connecting ? 'connecting' : p.retry ? 'backoff' : 'idle',
      queued: p.queue.size,
      incarnation: p.incarnation ?? null,
      lastError: p.lastError ?? null,
    }));
  }

  handshakeStats(): ReturnType<DecodeStats['snapshot']> {
    return this.linkStats.snapshot();
  }

  decodeStats(): ReturnType<WireCodec['statsSnapshot']> {
    return this.codec.statsSnapshot();
  }

  // ---- RemoteRouter (called synchronously by the system) ----

  send(to: AnyRef, msg: unknown, sender: AnyRef | undefined): void {
    // toWire throws for non-plain data: the caller of dispatch sees it at once.
    const body = this.bodies.toWire(msg);
    const peer = this.admit(to.node);
    peer.queue.pushSend(to, sender, body, this.bodies.elements);
    this.queued(peer);
  }

  monitor(watcher: AnyRef, target: AnyRef, monitorId: number): void {
    this.push(target.node, { k: 'monitor', watcher: watcher.toJSON(), target: target.toJSON(), id: monitorId });
  }

  demonitor(watcher: AnyRef, target: AnyRef, monitorId: number): void {
    this.push(target.node, { k: 'demonitor', watcher: watcher.toJSON(), target: target.toJSON(), id: monitorId });
  }

  // ---- outbound ----

  private peer(node: string): Peer {
    let peer = this.peers.get(node);
    if (!peer) {
      peer = {
        node,
        address: undefined,
        queue: new OutboundQueue(),
        link: undefined,
        connecting: false,
        superseded: false,
        failures: 0,
        retry: undefined,
        pumpScheduled: false,
        lastError: undefined,
        incarnation: undefined,
        roomWaiters: [],
      };
      this.peers.set(node, peer);
    }
    return peer;
  }

  private push(node: string, item: Exclude<Outbound, { k: 'send' }>): void {
    const peer = this.admit(node);
    peer.queue.push(item);
    this.queued(peer);
  }

  /**
   * Resolves once the outbound queue to `node` holds at most `atMost` messages (default: half of
   * `outboundQueueMax`) — at once if it already does, if the node is unknown, or when the net
   * stops or forgets the peer (its queue is emptied then). For bulk senders: after an
   * `OutboundQueueFullError`, wait for room instead of retrying in a loop.
   */
  whenRoom(node: string, atMost: number = Math.floor(this.settings.outboundQueueMax / 2)): Promise<void> {
    const peer = this.peers.get(node);
    if (!peer || this.stopping || peer.queue.size <= atMost) return Promise.resolve();
    return new Promise((resolve) => peer.roomWaiters.push({ atMost, resolve }));
  }

  /** Wakes the `whenRoom` callers whose threshold the queue has reached. */
  private wakeRoom(peer: Peer): void {
    if (peer.roomWaiters.length === 0) return;
    const size = peer.queue.size;
    const still: Peer['roomWaiters'] = [];
    for (const w of peer.roomWaiters) {
      if (size <= w.atMost || this.stopping) w.resolve();
      else still.push(w);
    }
    peer.roomWaiters = still;
  }

  /** The peer, if its queue has room for one more item; throws OutboundQueueFullError if not. */
  private admit(node: string): Peer {
    const peer = this.peer(node);
    if (peer.queue.size >= this.settings.outboundQueueMax) {
      this.stats.queueFull++;
      throw new OutboundQueueFullError(`outbound queue to node ${node} is full (${this.settings.outboundQueueMax} messages): the peer is slow or unreachable`);
    }
    return peer;
  }

  /** After a push: send now, or at the end of the turn. */
  private queued(peer: Peer): void {
    // Latency: a lone message on an idle link goes out now; anything more waits for the turn's
    // end and leaves in one frame with whatever else was queued meanwhile.
    const link = peer.link;
    if (peer.queue.size === 1 && link && !peer.pumpScheduled && link.bufferedBytes() === 0) this.sendChunk(peer, link);
    else this.schedulePump(peer);
  }

  private schedulePump(peer: Peer): void {
    if (peer.pumpScheduled) return;
    peer.pumpScheduled = true;
    this.world.clock.defer(() => {
      peer.pumpScheduled = false;
      this.pump(peer);
    });
  }

  /** Moves queued items onto the link, or gets a link, or gives up on an unknown peer. */
  private pump(peer: Peer): void {
    if (peer.queue.size === 0 || this.stopping) return;
    const link = peer.link;
    if (link) {
      while (peer.queue.size > 0 && link.bufferedBytes() < this.settings.highWaterBytes && !link.closed) this.sendChunk(peer, link);
      return;
    }
    if (peer.connecting || peer.retry) return;
    if (peer.address === undefined) {
      peer.lastError = 'no address known for this node';
      this.bounceAll(peer);
      return;
    }
    void this.connect(peer, peer.address);
  }

  private sendChunk(peer: Peer, link: Link): void {
    // The items travel in one reused array of four slots each (sends.ts `takeInto`): no object
    // per message between the queue and the codec.
    const chunk = this.chunk;
    const n = peer.queue.takeInto(chunk, this.settings.batchItemsMax);
    this.wakeRoom(peer);
    let frames: Uint8Array[];
    try {
      frames = this.encode(peer, chunk, 0, n);
    } finally {
      chunk.fill(undefined, 0, 4 * n); // the bodies are not kept alive by the next chunk's wait
    }
    for (const frame of frames) {
      try {
        link.send(frame);
      } catch (err) {
        // The stream closed under us: its onClose handles the peer; these items are lost with it.
        this.log.debug('send on a closing link', { peer: peer.node, err: String(err) });
        return;
      }
      this.stats.framesOut++;
      this.stats.bytesOut += frame.byteLength;
    }
    this.stats.messagesOut += n;
  }

  /**
   * Frames for items `start` to `end` of `chunk`, in order. A run the codec refuses (an item
   * over a limit, a frame over `batchBytesMax`) is split in halves until the culprit is alone;
   * it becomes a dead letter.
   */
  private encode(peer: Peer, chunk: readonly unknown[], start: number, end: number): Uint8Array[] {
    if (end <= start) return [];
    try {
      const batch = toBatchItems(chunk, start, end);
      return [this.codec.encodeBatch(batch.items, { scan: !(batch.checked && batch.elements <= this.checkedElementsMax) })];
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err;
      if (end - start === 1) {
        this.log.warn('message cannot be encoded for the wire; dropped as a dead letter', { peer: peer.node, err: err.message });
        this.unencodable(peer, itemAt(chunk, 4 * start));
        return [];
      }
      const half = (start + end) >> 1;
      return [...this.encode(peer, chunk, start, half), ...this.encode(peer, chunk, half, end)];
    }
  }

  private async connect(peer: Peer, address: Address): Promise<void> {
    peer.connecting = true;
    peer.superseded = false;
    this.stats.dials++;
    let outcome: Link | LinkError;
    try {
      const stream = await this.world.transport.connectStream(address, { maxFrameBytes: this.linkConfig.frameBytesMax, timeoutMs: this.settings.openTimeoutMs });
      outcome = await openClientLink(stream, this.linkConfig);
    } catch (err) {
      outcome = err instanceof LinkError ? err : new LinkError('closed', err instanceof Error ? err.message : String(err));
    }
    peer.connecting = false;
    if (outcome instanceof Link) {
      if (this.stopping || peer.superseded || peer.link || outcome.peerNode !== peer.node) {
        const why = outcome.peerNode !== peer.node ? `dialled ${peer.node} at ${address} but reached ${outcome.peerNode}` : 'duplicate link';
        if (outcome.peerNode !== peer.node) peer.lastError = why;
        outcome.close(why);
        if (!peer.link) this.failed(peer, why);
        return;
      }
      this.adopt(peer, outcome);
      return;
    }
    this.stats.dialFailures[outcome.category]++;
    if (peer.link) return; // An inbound link landed meanwhile: nothing to retry.
    if (outcome.refuse === 'duplicate') {
      // The peer is dialling us (its name is smaller); give its link time to land, then retry.
      this.retryLater(peer, this.settings.openTimeoutMs);
      return;
    }
    this.failed(peer, outcome.message);
  }

  private failed(peer: Peer, why: string): void {
    peer.failures++;
    peer.lastError = why;
    this.log.debug('link to peer failed', { peer: peer.node, failures: peer.failures, why });
    if (peer.failures >= this.settings.unreachableAfterFailures && peer.queue.size > 0) {
      this.log.warn('peer unreachable; its queued messages are dead letters', { peer: peer.node, why });
      this.bounceAll(peer);
      this.system.nodeDown(peer.node);
      peer.failures = 0;
      return;
    }
    const backoff = Math.min(this.settings.reconnectMaxMs, this.settings.reconnectMinMs * 2 ** (peer.failures - 1));
    this.retryLater(peer, backoff * (0.75 + this.world.random.float() / 2));
  }

  private retryLater(peer: Peer, delayMs: number): void {
    peer.retry?.cancel();
    peer.retry = this.world.clock.setTimer(delayMs, () => {
      peer.retry = undefined;
      this.schedulePump(peer);
    });
  }

  private bounceAll(peer: Peer): void {
    for (let item = peer.queue.shift(); item !== undefined; item = peer.queue.shift()) this.bounce(item);
    this.wakeRoom(peer);
  }

  /** Tells the local system about an item that will not be delivered. */
  private bounce(item: Outbound): void {
    this.stats.bounced++;
    const s = this.system;
    switch (item.k) {
      case 'send':
        s.undeliverable(item.to, localBody(item.body, s), item.from);
        return;
      case 'monitor':
        s.deliver(refFromJSON(s, item.watcher), { type: 'shoal.down', ref: refFromJSON(s, item.target), reason: 'node-down', monitorId: item.id });
        return;
      case 'demonitor':
        return;
    }
  }

  /**
   * An item the codec refused: a dead letter here; and if it was a reply to a query on the peer,
   * a small notice goes there instead, so that query fails at once rather than timing out.
   */
  private unencodable(peer: Peer, item: Outbound): void {
    this.stats.bounced++;
    if (item.k !== 'send') return;
    const s = this.system;
    const to = item.to;
    s.deadLetter('unencodable', to, localBody(item.body, s), item.from);
    if (isQueryRef(to) && to.node === peer.node) {
      const body = this.bodies.toWire({ type: 'shoal.undeliverable', ref: item.from ?? to, reason: 'unencodable' });
      peer.queue.pushSend(to, undefined, body, this.bodies.elements);
      this.schedulePump(peer);
    }
  }

  // ---- links ----

  private accept(stream: Stream): void {
    this.stats.accepted++;
    acceptServerLink(
      stream,
      this.linkConfig,
      (node, incarnation) => this.decide(node, incarnation),
      (link) => this.adoptInbound(link),
      (err) => {
        if (err.category === 'refused') this.stats.refused[err.refuse ?? 'duplicate']++;
        else this.stats.acceptFailures[err.category]++;
        this.log.debug('inbound link failed', { err: err.message });
      },
    );
  }

  private decide(node: string, incarnation: string): 'accept' | RefuseReason {
    if (this.stopping) return 'shutting-down';
    if (node === this.system.name) return 'duplicate';
    const peer = this.peer(node);
    if (peer.link) {
      if (peer.link.peerIncarnation === incarnation) return 'duplicate';
      // The peer restarted: its old link is dead even if our side has not noticed yet.
      peer.link.close('replaced by a new incarnation of the peer');
    }
    // Our dial may be to the peer's previous process (it restarted): a new incarnation's link wins.
    const newIncarnation = peer.incarnation !== undefined && peer.incarnation !== incarnation;
    if (peer.connecting && this.system.name < node && !newIncarnation) return 'duplicate';
    return 'accept';
  }

  private adoptInbound(link: Link): void {
    const peer = this.peer(link.peerNode);
    if (peer.link || this.stopping) {
      link.close('duplicate link');
      return;
    }
    if (peer.connecting) peer.superseded = true;
    this.adopt(peer, link);
  }

  private adopt(peer: Peer, link: Link): void {
    peer.link = link;
    peer.failures = 0;
    peer.lastError = undefined;
    peer.retry?.cancel();
    peer.retry = undefined;
    peer.incarnation = link.peerIncarnation;
    this.stats.linksOpened++;
    this.log.debug('link up', { peer: peer.node, initiator: link.initiator });
    link.attach({
      onFrame: (plaintext) => this.receive(link, plaintext),
      onClose: (reason) => this.linkClosed(peer, link, reason),
      onDrain: () => this.schedulePump(peer),
    });
    this.schedulePump(peer);
  }

  private linkClosed(peer: Peer, link: Link, reason: string): void {
    if (peer.link !== link) return;
    peer.link = undefined;
    this.stats.linksClosed++;
    this.log.info('link down; peer considered down', { peer: peer.node, reason });
    this.system.nodeDown(peer.node);
    if (peer.queue.size > 0 && !this.stopping) this.retryLater(peer, this.settings.reconnectMinMs);
  }

  private receive(link: Link, plaintext: Uint8Array): void {
    this.stats.framesIn++;
    this.stats.bytesIn += plaintext.byteLength;
    const batch = this.codec.decodeBatch(plaintext);
    if (!batch.ok) {
      link.close(`bad frame from ${link.peerNode} (${batch.category}): ${batch.reason}`);
      return;
    }
    for (const msg of batch.messages) this.dispatchInbound(link, msg);
    if (this.system.pendingMessages > this.settings.inboundBacklogMax) this.throttle(link);
  }

  /** The mailboxes are full enough: stop reading this link until the actors catch up. */
  private throttle(link: Link): void {
    if (this.pausedLinks.has(link)) return;
    this.pausedLinks.add(link);
    this.stats.throttled++;
    link.pause();
    this.resumeCheck ??= every(this.world.clock, 1, () => {
      if (this.system.pendingMessages > this.settings.inboundBacklogMax / 2 && !this.stopping) return;
      this.resumeCheck?.cancel();
      this.resumeCheck = undefined;
      const links = [...this.pausedLinks];
      this.pausedLinks.clear();
      for (const l of links) if (!l.closed) l.resume();
    });
  }

  private dispatchInbound(link: Link, msg: Message): void {
    if (isMessage(msg, ActorSends)) {
      this.deliverSends(link, msg.body.refs, msg.body.items);
      return;
    }
    const s = this.system;
    try {
      if (isMessage(msg, ActorMonitor)) {
        s.remoteMonitor(refFromJSON(s, msg.body.watcher), refFromJSON(s, msg.body.target), msg.body.id);
      } else if (isMessage(msg, ActorDemonitor)) {
        s.remoteDemonitor(refFromJSON(s, msg.body.watcher), refFromJSON(s, msg.body.target), msg.body.id);
      } else {
        this.stats.unexpected++;
        this.log.warn('unexpected message on an actor link', { peer: link.peerNode, type: msg.name });
      }
    } catch (err) {
      // A ref that does not bind (bad names) or a system that stopped: count it, keep the link.
      this.stats.inboundErrors++;
      this.log.warn('inbound actor message rejected', { peer: link.peerNode, type: msg.name, err: String(err) });
    }
  }

  /**
   * The messages of one `actor.sends` body, in order. Each ref is bound once per frame (so a
   * target's cell is looked up once, then cached in the ref); a ref that does not bind (bad
   * names) makes its messages inbound errors, counted one by one, and the rest still arrive.
   */
  private deliverSends(link: Link, refs: readonly ActorRefWire[], items: readonly unknown[]): void {
    const s = this.system;
    const bound = new Array<AnyRef | null | undefined>(refs.length);
    let rejected = 0;
    let firstError = '';
    for (let i = 0; i < items.length; i += 3) {
      this.stats.messagesIn++;
      const to = bindIndexed(s, refs, bound, items[i] as number);
      const fromIndex = items[i + 1] as number | null;
      const from = fromIndex === null ? undefined : bindIndexed(s, refs, bound, fromIndex);
      try {
        if (to === null || from === null) throw new Error('a ref of the message does not bind');
        s.deliver(to, fromWireBody(items[i + 2], s), from);
      } catch (err) {
        // A ref that does not bind, a system that stopped: count it, keep the link.
        this.stats.inboundErrors++;
        if (rejected++ === 0) firstError = String(err);
      }
    }
    // One line per frame, however many of its messages a broken or hostile peer spoiled.
    if (rejected > 0) this.log.warn('inbound actor messages rejected', { peer: link.peerNode, type: ActorSends.name, rejected, first: firstError });
  }

  private sweep(): void {
    for (const [node, peer] of this.peers) {
      if (!peer.link && !peer.connecting && !peer.retry && peer.queue.size === 0 && peer.address === undefined) this.peers.delete(node);
    }
  }
}

/**
 * A queued body back as a message for the local system. Unlike `fromWireBody` (which binds refs
 * in place in a freshly decoded body), this copies: a queued body may be the sender's own
 * object, since `toWire` only copies what it must change.
 */
function localBody(body: unknown, system: ActorSystem): unknown {
  return decodeRefs(body, system);
}
