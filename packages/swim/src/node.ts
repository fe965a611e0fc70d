/**
 * SwimNode: the thin shell around the protocol core (core.ts). It owns the only I/O of SWIM —
 * one UDP endpoint and one push-pull stream listener on the gossip address, one clock timer —
 * all taken from the injected World, so the same code runs on Node and in the simulator.
 *
 * What the shell adds to the core:
 * - bytes: every packet and push-pull frame is sealed with the cluster keyring and decoded with
 *   bounded codecs (net.ts); a packet that fails authentication or decoding is counted by
 *   reason and dropped, never thrown. A node with another key therefore never joins: its
 *   packets are dropped and its push-pulls refused.
 * - time: one timer, armed at `core.nextDeadlineMs()` and re-armed whenever an input produced an
 *   earlier deadline. Its lateness is the event-loop lag input of Lifeguard's health score:
 *   when it fires more than `lagThresholdMs` late, the core raises the score and the tick runs
 *   one loop turn later (`clock.defer`), after the packets that queued up while the process was
 *   starved — so a probe whose ack is sitting in the socket buffer does not fail, and a starved
 *   process doubts itself before it accuses others.
 * - joins with retry and backoff, graceful leave (broadcast, gossip `leavePropagateMs`, stop),
 *   member events to subscribers, and counters for metrics.
 *
 * Invariants: after `stop()` resolves, the node holds no timer, socket or stream; events are
 * delivered in the order the core produced them; a subscriber that throws is logged, not fatal.
 */
import { sleep, type DatagramEndpoint, type Logger, type StreamListener, type Timer, type World } from '@shoal/runtime';
import type { Keyring } from '@shoal/wire';
import { checkSelf, packetOverheadBytes } from './codec.js';
import type { SwimConfig } from './config.js';
import { SwimCore, type Effect, type MemberEvent } from './core.js';
import type { Member, StateCounts } from './members.js';
import type { MemberMeta } from './messages.js';
import { dropReasons, PacketIO, PacketTooLargeError, type DropReason } from './net.js';
import { assertNever, emptyStats, type SwimStats } from './state.js';
import { PushPullError, pushPullFraming, requestReply, serveOne, type ExchangeFailure } from './stream.js';

export interface SwimNodeOptions {
  world: World;
  config: SwimConfig;
  /** This member's name (1–64 bytes, `[A-Za-z0-9][A-Za-z0-9._-]*`), unique in the cluster. */
  name: string;
  /** Role, version, addresses (gossip = the advertised SWIM address), tags. */
  meta: MemberMeta;
  keyring: Keyring;
  /** Cluster name: authenticated data of every packet; clusters with other names cannot talk. */
  cluster: string;
  /** Local address to bind (UDP and streams); defaults to `meta.addresses.gossip`. Port 0 picks one. */
  bind?: string;
  /** Starting incarnation (a restarted process may pass the last one it knew; 0 is fine). */
  incarnation?: number;
}

export class SwimStateError extends Error {
  override name = 'SwimStateError';
}

/** Counters and gauges for metrics: plain numbers, safe to serialize. */
export interface SwimNodeStats extends SwimStats {
  /** Members by state, this node included. */
  members: StateCounts;
  incarnation: number;
  /** Lifeguard local health score (0 = healthy … healthMax − 1). */
  health: number;
  broadcastQueue: number;
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
  /** Packets dropped, by reason; `decode` is split by category in `decodeFailures`. */
  packetsDropped: Record<DropReason, number>;
  decodeFailures: Record<string, number>;
  /** Packets the core overfilled (a bug; should stay 0) and were not sent. */
  packetsOversizeBug: number;
  pushPullsStarted: number;
  pushPullsSucceeded: number;
  pushPullsFailed: number;
  pushPullsServed: number;
  pushPullsRefused: number;
  /** Lateness of the last timer firing, and the largest seen, ms. */
  eventLoopLagMs: number;
  eventLoopLagMaxMs: number;
}

export type MemberListener = (event: MemberEvent) => void;

/** Sessions of inbound push-pull served at once, at most; more are refused (closed). */
export const pushPullInboundMax = 128;

type Phase = 'new' | 'starting' | 'running' | 'leaving' | 'stopped';

export class SwimNode {
  private readonly world: World;
  private readonly config: SwimConfig;
  private readonly log: Logger;
  private readonly io: PacketIO;
  private core: SwimCore | undefined;
  private endpoint: DatagramEndpoint | undefined;
  private listener: StreamListener | undefined;
  private timer: Timer | undefined;
  private armedAtMs = Infinity;
  private phase: Phase = 'new';
  private meta: MemberMeta;
  private inbound = 0;
  private readonly listeners = new Set<MemberListener>();
  private readonly aborts = new Set<AbortController>();
  private readonly counters = {
    packetsSent: 0,
    bytesSent: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    packetsOversizeBug: 0,
    pushPullsStarted: 0,
    pushPullsSucceeded: 0,
    pushPullsFailed: 0,
    pushPullsServed: 0,
    pushPullsRefused: 0,
    eventLoopLagMs: 0,
    eventLoopLagMaxMs: 0,
  };
  private readonly dropped = Object.fromEntries(dropReasons.map((r) => [r, 0])) as Record<DropReason, number>;
  private readonly decodeFailures: Record<string, number> = {};

  constructor(private readonly opts: SwimNodeOptions) {
    this.world = opts.world;
    this.config = opts.config;
    this.meta = opts.meta;
    this.log = opts.world.logger.child({ component: 'swim', member: opts.name });
    this.io = this.makeIO();
    // Port 0 (pick one at bind) is fine here; the real port is checked by the codec when sent.
    const gossip = opts.meta.addresses.gossip.replace(/:0$/, ':1');
    checkSelf(this.io.codec, opts.name, { ...opts.meta, addresses: { ...opts.meta.addresses, gossip } });
  }

  get name(): string {
    return this.opts.name;
  }

  /** The advertised gossip address (known once started when binding port 0). */
  get address(): string {
    return this.meta.addresses.gossip;
  }

  get running(): boolean {
    return this.phase === 'running' || this.phase === 'leaving';
  }

  /** Binds UDP and the push-pull listener on the gossip address and starts the protocol. */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw new SwimStateError(`cannot start a SWIM node that is ${this.phase}`);
    this.phase = 'starting';
    await this.bind();
    if (this.phase !== 'starting') {
      // stop() ran while we were binding: release what bind() opened.
      await Promise.all([this.endpoint?.close(), this.listener?.close()]);
      this.endpoint = undefined;
      this.listener = undefined;
      return;
    }
    this.core = new SwimCore({
      config: this.config,
      name: this.opts.name,
      meta: this.meta,
      random: this.world.random,
      measure: (m) => this.io.codec.measure(m),
      packetOverheadBytes,
      nowMs: this.world.clock.monoMs(),
      ...(this.opts.incarnation !== undefined ? { incarnation: this.opts.incarnation } : {}),
    });
    this.phase = 'running';
    this.rearm();
    this.log.info('swim started', { gossip: this.address });
  }

  private async bind(): Promise<void> {
    const { transport } = this.world;
    const bindAddr = this.opts.bind ?? this.meta.addresses.gossip;
    this.endpoint = await transport.bindDatagram(bindAddr, (data, from) => this.onDatagram(data, from));
    const local = this.endpoint.local;
    const streamAddr = bindAddr.endsWith(':0') ? local : bindAddr;
    try {
      this.listener = await transport.listenStreams(streamAddr, (s) => this.onStream(s), { maxFrameBytes: this.io.frameBytesMax, framing: pushPullFraming });
    } catch (err) {
      await this.endpoint.close();
      this.endpoint = undefined;
      this.phase = 'stopped';
      throw err;
    }
    if (this.meta.addresses.gossip.endsWith(':0')) {
      const port = local.slice(local.lastIndexOf(':') + 1);
      const host = this.meta.addresses.gossip.slice(0, this.meta.addresses.gossip.lastIndexOf(':'));
      this.meta = { ...this.meta, addresses: { ...this.meta.addresses, gossip: `${host}:${port}` } };
    }
  }

  private makeIO(): PacketIO {
    return new PacketIO({
      keyring: this.opts.keyring,
      cluster: this.opts.cluster,
      random: this.world.random,
      packetBytesMax: this.config.packetBytesMax,
      membersMax: this.config.membersMax,
    });
  }

  // ---- public operations ----

  /**
   * Joins through `seeds` (gossip addresses): a push-pull with each, in parallel. Resolves with
   * the number of seeds that answered (0 = not joined; see joinInBackground to keep trying).
   */
  async join(seeds: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<number> {
    const core = this.requireRunning('join');
    const targets = [...new Set(seeds)].filter((s) => s !== this.address);
    const effects = core.join(targets);
    const results = await Promise.all(effects.map((e) => (e.kind === 'push-pull' ? this.pushPull(e.to, true, opts.signal) : Promise.resolve(false))));
    return results.filter(Boolean).length;
  }

  /**
   * Keeps joining until at least one seed answers, with exponential backoff from
   * `joinRetryMinMs` to `joinRetryMaxMs` (± 25 % jitter). Resolves with the seeds contacted in
   * the successful round, or 0 if the node stopped or `signal` aborted first. Never rejects.
   */
  async joinInBackground(seeds: readonly string[], opts: { signal?: AbortSignal; onRetry?: (attempt: number, delayMs: number) => void } = {}): Promise<number> {
    let delayMs = this.config.joinRetryMinMs;
    for (let attempt = 1; ; attempt++) {
      if (!this.running || opts.signal?.aborted) return 0;
      const n = await this.join(seeds, opts).catch(() => 0);
      if (n > 0) return n;
      const wait = delayMs * (0.75 + this.world.random.float() / 2);
      opts.onRetry?.(attempt, wait);
      try {
        await this.sleep(wait, opts.signal);
      } catch {
        return 0;
      }
      delayMs = Math.min(this.config.joinRetryMaxMs, delayMs * 2);
    }
  }

  /** Graceful leave: tells the cluster, keeps gossiping `leavePropagateMs`, then stops. */
  async leave(): Promise<void> {
    if (this.phase !== 'running') return this.stop();
    const core = this.requireRunning('leave');
    this.phase = 'leaving';
    this.apply(core.leave(this.world.clock.monoMs()));
    this.rearm();
    await this.sleep(this.config.leavePropagateMs).catch(() => undefined);
    await this.stop();
  }

  /** Stops at once (no leave message): closes sockets and streams, cancels the timer. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.timer?.cancel();
    this.timer = undefined;
    for (const a of this.aborts) a.abort();
    const closing: Promise<void>[] = [];
    if (this.endpoint) closing.push(this.endpoint.close());
    if (this.listener) closing.push(this.listener.close());
    this.endpoint = undefined;
    this.listener = undefined;
    await Promise.all(closing);
    this.log.info('swim stopped');
  }

  /** Every known member, this node first. */
  members(): Member[] {
    return this.core ? this.core.members() : [];
  }

  member(name: string): Member | undefined {
    return this.core?.member(name);
  }

  /** Publishes new metadata with a new incarnation. Throws SwimMetaError if it is invalid or too large. */
  updateMeta(meta: MemberMeta): void {
    const core = this.requireRunning('updateMeta');
    // The gossip address is where we are bound: it cannot move while running.
    const next: MemberMeta = { ...meta, addresses: { ...meta.addresses, gossip: this.meta.addresses.gossip } };
    checkSelf(this.io.codec, this.opts.name, next);
    this.meta = next;
    this.apply(core.updateMeta(next, this.world.clock.monoMs()));
    this.rearm();
  }

  /** Members by state, this node included (cheap: for polling). */
  counts(): StateCounts {
    return this.core ? this.core.counts() : { alive: 0, suspect: 0, dead: 0, left: 0 };
  }

  /** Subscribes to member events (joined, updated, suspected, failed, left, recovered); returns the unsubscribe. */
  subscribe(listener: MemberListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): SwimNodeStats {
    const core = this.core;
    const members = core ? core.counts() : { alive: 0, suspect: 0, dead: 0, left: 0 };
    return {
      ...(core ? core.stats : emptyStats()),
      ...this.counters,
      members,
      incarnation: core?.incarnation ?? 0,
      health: core?.health ?? 0,
      broadcastQueue: core?.broadcastQueueLength ?? 0,
      packetsDropped: { ...this.dropped },
      decodeFailures: { ...this.decodeFailures },
    };
  }

  // ---- timer ----

  /** Arms the timer at the core's next deadline, if that is earlier than the armed one. */
  private rearm(): void {
    const core = this.core;
    if (!core || !this.running) return;
    const due = core.nextDeadlineMs();
    if (this.timer && due >= this.armedAtMs) return;
    this.timer?.cancel();
    this.armedAtMs = due;
    const delay = Math.max(0, due - this.world.clock.monoMs());
    this.timer = this.world.clock.setTimer(delay, () => this.onTimer(due));
  }

  private onTimer(dueMs: number): void {
    this.timer = undefined;
    this.armedAtMs = Infinity;
    const core = this.core;
    if (!core || !this.running) return;
    const lagMs = Math.max(0, this.world.clock.monoMs() - dueMs);
    this.counters.eventLoopLagMs = lagMs;
    this.counters.eventLoopLagMaxMs = Math.max(this.counters.eventLoopLagMaxMs, lagMs);
    if (core.reportLag(lagMs)) {
      // Starved: read what queued up meanwhile before deciding that anyone failed.
      this.log.debug('timer late: event loop lag', { lagMs });
      this.world.clock.defer(() => this.tick());
      return;
    }
    this.tick();
  }

  private tick(): void {
    const core = this.core;
    if (!core || !this.running) return;
    this.apply(core.tick(this.world.clock.monoMs()));
    this.rearm();
  }

  // ---- packets ----

  private onDatagram(data: Uint8Array, from: string): void {
    this.counters.packetsReceived++;
    this.counters.bytesReceived += data.byteLength;
    const core = this.core;
    if (!core || !this.running) return this.drop('not-running', 'node not running');
    const opened = this.io.openPacket(data);
    if (!opened.ok) {
      if (opened.reason === 'decode') this.decodeFailures[opened.category] = (this.decodeFailures[opened.category] ?? 0) + 1;
      return this.drop(opened.reason, opened.detail, from);
    }
    this.apply(core.receive(from, opened.value, this.world.clock.monoMs()));
    this.rearm();
  }

  private drop(reason: DropReason, detail: string, from?: string): void {
    this.dropped[reason]++;
    this.log.debug('packet dropped', { reason, detail, from });
  }

  private apply(effects: readonly Effect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          this.sendPacket(e.to, e);
          break;
        case 'push-pull':
          void this.pushPull(e.to, e.join);
          break;
        case 'event':
          this.emit(e.event);
          break;
        default:
          assertNever(e);
      }
    }
  }

  private sendPacket(to: string, e: Extract<Effect, { kind: 'send' }>): void {
    const endpoint = this.endpoint;
    if (!endpoint) return;
    let packet: Uint8Array;
    try {
      packet = this.io.sealPacket(e.messages);
    } catch (err) {
      if (!(err instanceof PacketTooLargeError)) throw err;
      this.counters.packetsOversizeBug++;
      this.log.error('SWIM packet over packetBytesMax not sent (a bug in the piggyback budget)', { err });
      return;
    }
    this.counters.packetsSent++;
    this.counters.bytesSent += packet.byteLength;
    endpoint.send(to, packet);
  }

  private emit(event: MemberEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch (err) {
        this.log.error('member event listener threw', { err, kind: event.kind, member: event.member.name });
      }
    }
  }

  // ---- push-pull ----

  /** One push-pull with `to`; true when the state was exchanged and merged. Never rejects. */
  private async pushPull(to: string, join: boolean, signal?: AbortSignal): Promise<boolean> {
    const core = this.core;
    if (!core || !this.running) return false;
    this.counters.pushPullsStarted++;
    const abort = new AbortController();
    const onAbort = (): void => abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.aborts.add(abort);
    try {
      const request = this.io.sealPushPull(core.name, core.localState(), { join, reply: false });
      const frame = await requestReply(this.world.transport, this.world.clock, to, request, {
        maxFrameBytes: this.io.frameBytesMax,
        timeoutMs: this.config.pushPullTimeoutMs,
        signal: abort.signal,
      });
      return this.mergeReply(to, frame, join);
    } catch (err) {
      if (!(err instanceof PushPullError)) throw err;
      return this.pushPullFailed(to, err.reason, err.message);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.aborts.delete(abort);
    }
  }

  private mergeReply(to: string, frame: Uint8Array, join: boolean): boolean {
    const core = this.core;
    const opened = this.io.openPushPull(frame);
    if (!opened.ok) return this.pushPullFailed(to, opened.reason, opened.detail);
    if (!opened.value.reply) return this.pushPullFailed(to, 'decode', 'answer is not a push-pull reply');
    if (!core || !this.running) return false;
    this.counters.pushPullsSucceeded++;
    this.apply(core.mergeRemoteState(opened.value.members, this.world.clock.monoMs(), { joined: join }));
    this.rearm();
    return true;
  }

  private pushPullFailed(to: string, reason: ExchangeFailure | DropReason, detail: string): false {
    this.counters.pushPullsFailed++;
    this.log.debug('push-pull failed', { to, reason, detail });
    return false;
  }

  private onStream(stream: Parameters<typeof serveOne>[0]): void {
    if (!this.running || this.inbound >= pushPullInboundMax) {
      this.counters.pushPullsRefused++;
      stream.close(this.running ? 'too many push-pulls' : 'not running');
      return;
    }
    this.inbound++;
    serveOne(stream, this.world.clock, this.config.pushPullTimeoutMs, (frame) => this.answerPushPull(frame, stream.remote), () => this.inbound--);
  }

  /** The reply to a push-pull request, or undefined to refuse it. */
  private answerPushPull(frame: Uint8Array, remote: string): Uint8Array | undefined {
    const core = this.core;
    if (!core || !this.running) return undefined;
    const opened = this.io.openPushPull(frame);
    if (!opened.ok || opened.value.reply) {
      this.counters.pushPullsRefused++;
      const reason = opened.ok ? 'decode' : opened.reason;
      if (!opened.ok && opened.reason === 'decode') this.decodeFailures[opened.category] = (this.decodeFailures[opened.category] ?? 0) + 1;
      this.log.debug('push-pull refused', { remote, reason, detail: opened.ok ? 'a reply where a request was expected' : opened.detail });
      return undefined;
    }
    this.counters.pushPullsServed++;
    // Merge first: the reply then carries our refutations of anything the peer held against us.
    this.apply(core.mergeRemoteState(opened.value.members, this.world.clock.monoMs()));
    this.rearm();
    return this.io.sealPushPull(core.name, core.localState(), { join: false, reply: true });
  }

  // ---- helpers ----

  private requireRunning(what: string): SwimCore {
    if (!this.core || !this.running) throw new SwimStateError(`cannot ${what}: the SWIM node is ${this.phase}`);
    return this.core;
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const abort = new AbortController();
    this.aborts.add(abort);
    const onAbort = (): void => abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    return sleep(this.world.clock, ms, { signal: abort.signal }).finally(() => {
      this.aborts.delete(abort);
      signal?.removeEventListener('abort', onAbort);
    });
  }
}
