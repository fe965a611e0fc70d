/**
 * The SWIM + Lifeguard protocol core: a deterministic state machine with no I/O.
 *
 * Inputs are method calls carrying the current monotonic time: `tick` (timers), `receive` (a
 * decoded packet), `mergeRemoteState` (a push-pull exchange), `join`, `leave`, `updateMeta`,
 * `reportLag`. Each returns the effects to perform: packets to send, push-pull exchanges to run,
 * member events to publish. `nextDeadlineMs()` tells the shell when to call `tick` next. The
 * simulator drives this class directly through the shell; nothing here reads a clock.
 */
import type { Random } from '@shoal/runtime';
import { applyHealthDelta, failedProbeDelta, scaleByHealth } from './awareness.js';
import { BroadcastQueue, retransmitLimit } from './broadcast.js';
import type { SwimConfig } from './config.js';
import { MemberTable, publicMember, snapshotOf, type Member, type MemberRecord } from './members.js';
import type { MemberMeta, MemberSnapshot, SwimMessage } from './messages.js';
import { probeDeadline, probeStep, type IndirectProbe, type ProbeState } from './probe.js';
import { aliveNode, assertNever, deadNode, emptyStats, expireSuspicion, suspectNode, type Ctx, type MemberEventKind, type SwimStats } from './state.js';

export interface MemberEvent {
  kind: MemberEventKind;
  member: Member;
}

export type Effect =
  | { kind: 'send'; to: string; messages: SwimMessage[] }
  | { kind: 'push-pull'; to: string; join: boolean }
  | { kind: 'event'; event: MemberEvent };

export interface CoreOptions {
  config: SwimConfig;
  name: string;
  meta: MemberMeta;
  random: Random;
  /** Encoded size of one message in a packet (bytes), for the piggyback budget. */
  measure(msg: SwimMessage): number;
  /** Fixed bytes per packet (framing and encryption) and per message in it. */
  packetOverheadBytes: number;
  perMessageBytes: number;
  nowMs: number;
  /** Starting incarnation (0 for a fresh process; refutation raises it as needed). */
  incarnation?: number;
}

export class SwimCore {
  private readonly ctx: Ctx;
  private readonly config: SwimConfig;
  private readonly random: Random;
  private readonly broadcasts: BroadcastQueue;
  private effects: Effect[] = [];
  private seq = 0;
  private probe: ProbeState | undefined;
  private readonly indirect = new Map<number, IndirectProbe>();
  private nextProbeMs: number;
  private nextGossipMs: number;
  private nextPushPullMs: number;
  private nextReconnectMs: number;
  private nextReapMs: number;

  constructor(private readonly opts: CoreOptions) {
    this.config = opts.config;
    this.random = opts.random;
    this.broadcasts = new BroadcastQueue(opts.config.broadcastQueueMax);
    const table = new MemberTable(opts.random);
    const core = this;
    this.ctx = {
      config: opts.config,
      selfName: opts.name,
      selfIncarnation: opts.incarnation ?? 0,
      selfMeta: opts.meta,
      leaving: false,
      health: 0,
      table,
      stats: emptyStats(),
      broadcast: (key, msg) => core.broadcasts.queue(key, msg, opts.measure(msg)),
      emit: (kind, r) => core.effects.push({ kind: 'event', event: { kind, member: publicMember(r) } }),
    };
    const now = opts.nowMs;
    // Spread periodic work over the first interval so restarted clusters do not beat in step.
    this.nextProbeMs = now + this.random.float() * this.config.probeIntervalMs;
    this.nextGossipMs = now + this.random.float() * this.config.gossipIntervalMs;
    this.nextPushPullMs = now + this.pushPullIntervalMs() * (0.5 + this.random.float() / 2);
    this.nextReconnectMs = now + this.config.reconnectIntervalMs * (0.5 + this.random.float());
    this.nextReapMs = now + 1000;
    this.ctx.broadcast(opts.name, { t: 'alive', name: opts.name, inc: this.ctx.selfIncarnation, meta: opts.meta });
  }

  // ---- queries ----

  get name(): string {
    return this.ctx.selfName;
  }

  get incarnation(): number {
    return this.ctx.selfIncarnation;
  }

  get health(): number {
    return this.ctx.health;
  }

  get stats(): Readonly<SwimStats> {
    return this.ctx.stats;
  }

  get broadcastQueueLength(): number {
    return this.broadcasts.size;
  }

  /** Every known member, this node first. */
  members(nowMs: number): Member[] {
    const self: Member = { name: this.ctx.selfName, incarnation: this.ctx.selfIncarnation, state: this.ctx.leaving ? 'left' : 'alive', meta: this.ctx.selfMeta, stateChangeMs: nowMs };
    return [self, ...[...this.ctx.table.all()].map(publicMember)];
  }

  member(name: string): Member | undefined {
    const r = this.ctx.table.get(name);
    return r ? publicMember(r) : undefined;
  }

  /** This node's view for a push-pull exchange. */
  localState(): MemberSnapshot[] {
    const self: MemberSnapshot = { name: this.ctx.selfName, inc: this.ctx.selfIncarnation, state: this.ctx.leaving ? 'left' : 'alive', meta: this.ctx.selfMeta };
    return [self, ...[...this.ctx.table.all()].map(snapshotOf)];
  }

  nextDeadlineMs(): number {
    let t = Math.min(this.nextProbeMs, this.nextGossipMs, this.nextReapMs);
    if (this.config.pushPullIntervalMs > 0) t = Math.min(t, this.nextPushPullMs);
    if (this.config.reconnectIntervalMs > 0) t = Math.min(t, this.nextReconnectMs);
    if (this.probe) t = Math.min(t, probeDeadline(this.probe));
    for (const ip of this.indirect.values()) t = Math.min(t, ip.deadlineMs);
    for (const r of this.ctx.table.all()) if (r.suspicion) t = Math.min(t, r.suspicion.deadlineMs());
    return t;
  }

  // ---- inputs ----

  /** Contacts seeds with a full state exchange (the shell reports failures to the caller). */
  join(seeds: readonly string[]): Effect[] {
    for (const to of seeds) this.effects.push({ kind: 'push-pull', to, join: true });
    return this.drain();
  }

  /** Graceful leave: broadcast that we left; the shell keeps gossiping for leavePropagateMs. */
  leave(): Effect[] {
    this.ctx.leaving = true;
    this.ctx.broadcast(this.ctx.selfName, { t: 'dead', name: this.ctx.selfName, inc: this.ctx.selfIncarnation, from: this.ctx.selfName });
    return this.drain();
  }

  /** New metadata (addresses, tags): a new incarnation carries it to everyone. */
  updateMeta(meta: MemberMeta): Effect[] {
    this.ctx.selfMeta = meta;
    this.ctx.selfIncarnation++;
    this.ctx.broadcast(this.ctx.selfName, { t: 'alive', name: this.ctx.selfName, inc: this.ctx.selfIncarnation, meta });
    return this.drain();
  }

  /** The shell saw its own timers fire `lagMs` late: a starved process doubts itself first. */
  reportLag(lagMs: number): void {
    if (this.config.lifeguard && lagMs > this.config.lagThresholdMs) {
      this.ctx.health = applyHealthDelta(this.ctx.health, 1, this.config.healthMax);
    }
  }

  receive(from: string, messages: readonly SwimMessage[], nowMs: number): Effect[] {
    for (const msg of messages) this.handle(from, msg, nowMs);
    return this.drain();
  }

  /** Merges a peer's full state (push-pull). Dead is downgraded to suspect: the member gets to refute. */
  mergeRemoteState(sender: string, states: readonly MemberSnapshot[], nowMs: number): Effect[] {
    for (const s of states) {
      switch (s.state) {
        case 'alive':
          aliveNode(this.ctx, { t: 'alive', name: s.name, inc: s.inc, meta: s.meta }, nowMs);
          break;
        case 'suspect':
        case 'dead':
          // Learn the member first if it is new to us, then weigh the accusation.
          if (!this.ctx.table.get(s.name) && s.name !== this.ctx.selfName) {
            aliveNode(this.ctx, { t: 'alive', name: s.name, inc: s.inc, meta: s.meta }, nowMs);
          }
          suspectNode(this.ctx, { t: 'suspect', name: s.name, inc: s.inc, from: sender }, nowMs);
          break;
        case 'left':
          if (!this.ctx.table.get(s.name) && s.name !== this.ctx.selfName) break; // Never learned, nothing to forget.
          deadNode(this.ctx, { t: 'dead', name: s.name, inc: s.inc, from: s.name }, nowMs);
          break;
        default:
          assertNever(s.state);
      }
    }
    return this.drain();
  }

  tick(nowMs: number): Effect[] {
    this.expireSuspicions(nowMs);
    this.expireIndirect(nowMs);
    this.advanceProbe(nowMs);
    if (nowMs >= this.nextProbeMs) this.startProbe(nowMs);
    if (nowMs >= this.nextGossipMs) this.gossip(nowMs);
    if (this.config.pushPullIntervalMs > 0 && nowMs >= this.nextPushPullMs) this.pushPull(nowMs);
    if (this.config.reconnectIntervalMs > 0 && nowMs >= this.nextReconnectMs) this.reconnect(nowMs);
    if (nowMs >= this.nextReapMs) this.reap(nowMs);
    return this.drain();
  }

  // ---- message handlers ----

  private handle(from: string, msg: SwimMessage, nowMs: number): void {
    switch (msg.t) {
      case 'ping':
        return this.handlePing(from, msg);
      case 'ping-req':
        return this.handlePingReq(from, msg, nowMs);
      case 'ack':
        return this.handleAck(msg.seq);
      case 'nack':
        if (this.probe && this.probe.seq === msg.seq) this.probe.nacks++;
        return;
      case 'alive':
        return aliveNode(this.ctx, msg, nowMs);
      case 'suspect':
        return suspectNode(this.ctx, msg, nowMs);
      case 'dead':
        return deadNode(this.ctx, msg, nowMs);
      default:
        assertNever(msg);
    }
  }

  private handlePing(from: string, msg: Extract<SwimMessage, { t: 'ping' }>): void {
    // A ping meant for another member (a reused address) must not be acked in its name.
    if (msg.target !== this.ctx.selfName) {
      this.ctx.stats.misdirectedPings++;
      return;
    }
    this.send(from, [{ t: 'ack', seq: msg.seq }]);
  }

  private handlePingReq(from: string, msg: Extract<SwimMessage, { t: 'ping-req' }>, nowMs: number): void {
    // Bounded: a flood of requests cannot make us keep unbounded state.
    if (this.indirect.size >= this.config.indirectPendingMax) return;
    const seq = ++this.seq;
    this.indirect.set(seq, { requesterAddr: from, requesterSeq: msg.seq, deadlineMs: nowMs + this.config.probeTimeoutMs, nack: msg.nack });
    this.send(msg.targetAddr, [{ t: 'ping', seq, target: msg.target, from: this.ctx.selfName }]);
  }

  private handleAck(seq: number): void {
    const p = this.probe;
    if (p && p.seq === seq && !p.acked) {
      p.acked = true;
      if (this.config.lifeguard) this.ctx.health = applyHealthDelta(this.ctx.health, -1, this.config.healthMax);
      return;
    }
    const ip = this.indirect.get(seq);
    if (ip) {
      this.indirect.delete(seq);
      this.send(ip.requesterAddr, [{ t: 'ack', seq: ip.requesterSeq }]);
    }
  }

  // ---- timers ----

  private startProbe(nowMs: number): void {
    const period = scaleByHealth(this.config.probeIntervalMs, this.ctx.health);
    this.nextProbeMs = nowMs + period;
    const target = this.ctx.table.nextProbeTarget();
    if (!target) return;
    const seq = ++this.seq;
    this.probe = {
      seq,
      target: target.name,
      targetAddr: target.meta.addresses.gossip,
      timeoutAtMs: nowMs + scaleByHealth(this.config.probeTimeoutMs, this.ctx.health),
      endAtMs: nowMs + period,
      indirectSent: false,
      expectedNacks: 0,
      nacks: 0,
      acked: false,
    };
    this.ctx.stats.probes++;
    const msgs: SwimMessage[] = [{ t: 'ping', seq, target: target.name, from: this.ctx.selfName }];
    // Lifeguard's buddy system: a suspect learns of its suspicion in the probe itself.
    if (this.config.lifeguard && target.state === 'suspect') {
      msgs.push({ t: 'suspect', name: target.name, inc: target.incarnation, from: this.ctx.selfName });
    }
    this.send(target.meta.addresses.gossip, msgs);
  }

  private advanceProbe(nowMs: number): void {
    const p = this.probe;
    if (!p) return;
    const step = probeStep(p, nowMs);
    switch (step) {
      case 'wait':
        return;
      case 'done':
        this.probe = undefined;
        return;
      case 'send-indirect':
        return this.sendIndirect(p);
      case 'fail':
        return this.failProbe(p, nowMs);
      default:
        assertNever(step);
    }
  }

  private sendIndirect(p: ProbeState): void {
    p.indirectSent = true;
    const helpers = this.ctx.table.sample(this.config.indirectChecks, (r) => r.state === 'alive' && r.name !== p.target);
    p.expectedNacks = this.config.lifeguard ? helpers.length : 0;
    for (const h of helpers) {
      this.ctx.stats.indirectProbes++;
      this.send(h.meta.addresses.gossip, [{ t: 'ping-req', seq: p.seq, target: p.target, targetAddr: p.targetAddr, from: this.ctx.selfName, nack: this.config.lifeguard }]);
    }
  }

  private failProbe(p: ProbeState, nowMs: number): void {
    this.probe = undefined;
    this.ctx.stats.probeFailures++;
    if (this.config.lifeguard) {
      this.ctx.health = applyHealthDelta(this.ctx.health, failedProbeDelta(p.expectedNacks, p.nacks), this.config.healthMax);
    }
    const r = this.ctx.table.get(p.target);
    if (!r || (r.state !== 'alive' && r.state !== 'suspect')) return;
    suspectNode(this.ctx, { t: 'suspect', name: r.name, inc: r.incarnation, from: this.ctx.selfName }, nowMs);
  }

  private expireSuspicions(nowMs: number): void {
    for (const r of this.ctx.table.all()) {
      if (r.state === 'suspect' && r.suspicion && nowMs >= r.suspicion.deadlineMs()) expireSuspicion(this.ctx, r, nowMs);
    }
  }

  private expireIndirect(nowMs: number): void {
    for (const [seq, ip] of this.indirect) {
      if (nowMs < ip.deadlineMs) continue;
      this.indirect.delete(seq);
      if (ip.nack) this.send(ip.requesterAddr, [{ t: 'nack', seq: ip.requesterSeq }]);
    }
  }

  private gossip(nowMs: number): void {
    this.nextGossipMs = nowMs + this.config.gossipIntervalMs;
    if (this.broadcasts.size === 0) return;
    const targets = this.ctx.table.sample(this.config.gossipNodes, (r) => this.isGossipTarget(r, nowMs));
    for (const t of targets) {
      const msgs = this.takeBroadcasts(this.budget([]));
      if (msgs.length === 0) break;
      this.effects.push({ kind: 'send', to: t.meta.addresses.gossip, messages: msgs });
    }
  }

  private isGossipTarget(r: MemberRecord, nowMs: number): boolean {
    if (r.state === 'alive' || r.state === 'suspect') return true;
    return r.state === 'dead' && nowMs - r.stateChangeMs < this.config.gossipToTheDeadMs;
  }

  private pushPullIntervalMs(): number {
    const n = this.ctx.table.liveCount();
    const scale = n <= 32 ? 1 : Math.ceil(Math.log2(n) - Math.log2(32)) + 1;
    return this.config.pushPullIntervalMs * scale;
  }

  private pushPull(nowMs: number): void {
    this.nextPushPullMs = nowMs + this.pushPullIntervalMs();
    const [peer] = this.ctx.table.sample(1, (r) => r.state === 'alive');
    if (peer) this.effects.push({ kind: 'push-pull', to: peer.meta.addresses.gossip, join: false });
  }

  /** Tries a dead (not left) member, so that a healed partition reunites without an operator. */
  private reconnect(nowMs: number): void {
    this.nextReconnectMs = nowMs + this.config.reconnectIntervalMs * (0.5 + this.random.float());
    const [peer] = this.ctx.table.sample(1, (r) => r.state === 'dead');
    if (peer) this.effects.push({ kind: 'push-pull', to: peer.meta.addresses.gossip, join: false });
  }

  private reap(nowMs: number): void {
    this.nextReapMs = nowMs + 1000;
    const gone: string[] = [];
    for (const r of this.ctx.table.all()) {
      const age = nowMs - r.stateChangeMs;
      if ((r.state === 'dead' && age > this.config.deadRememberMs) || (r.state === 'left' && age > this.config.leftRememberMs)) gone.push(r.name);
    }
    for (const name of gone) this.ctx.table.remove(name);
  }

  // ---- output ----

  private budget(primary: readonly SwimMessage[]): number {
    let used = this.opts.packetOverheadBytes;
    for (const m of primary) used += this.opts.measure(m) + this.opts.perMessageBytes;
    return this.config.packetBytesMax - used;
  }

  private takeBroadcasts(budgetBytes: number): SwimMessage[] {
    const limit = retransmitLimit(this.config.retransmitMult, this.ctx.table.liveCount());
    return this.broadcasts.take(budgetBytes, this.opts.perMessageBytes, limit);
  }

  /** Sends `primary` with as many piggybacked broadcasts as fit in one packet. */
  private send(to: string, primary: SwimMessage[]): void {
    const piggyback = this.takeBroadcasts(this.budget(primary));
    this.effects.push({ kind: 'send', to, messages: [...primary, ...piggyback] });
  }

  private drain(): Effect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }
}
