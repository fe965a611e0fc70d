/**
 * The SWIM + Lifeguard protocol core: a deterministic state machine with no I/O.
 *
 * Algorithm (SWIM, Das, Gupta, Motivala 2002; Lifeguard, Dadgar, Phillips, Currey 2017; the
 * details follow hashicorp/memberlist): every protocol period the node pings one member, taken
 * in shuffled round-robin order; without an ack by the probe timeout it asks `indirectChecks`
 * others to ping it (ping-req, with nacks under Lifeguard); without any ack by the end of the
 * period it suspects the member. A suspicion is disseminated and times out into `dead` unless
 * the member refutes it with a higher incarnation. Membership news rides on every packet
 * (piggybacking) and on gossip rounds every `gossipIntervalMs` to `gossipNodes` members, each
 * item retransmitted `retransmitMult × ceil(log10(n+1))` times. A periodic push-pull exchanges
 * full state with one member (anti-entropy), and a reconnect push-pull with one dead member
 * heals partitions. Lifeguard adds the local health score (awareness.ts) that stretches the
 * period and timeout, the confirmation-shrunk suspicion timeout (suspicion.ts) and the buddy
 * system (a suspect's probe carries the suspicion, so it can refute at once).
 *
 * Interface: inputs are method calls carrying the current monotonic time — `tick` (timers),
 * `receive` (a decoded packet), `mergeRemoteState` (a push-pull), `join`, `leave`,
 * `updateMeta`, `reportLag`. Each returns the effects to perform: packets to send, push-pulls
 * to run, member events to publish. `nextDeadlineMs()` says when to call `tick` next.
 *
 * Invariants: every packet the core asks for fits `packetBytesMax` (the piggyback budget uses
 * the shell's real encoded sizes and overheads); the core keeps bounded state (members ≤
 * membersMax, broadcasts ≤ broadcastQueueMax, indirect probes ≤ indirectPendingMax); nothing
 * here reads a clock or a random source other than the injected one.
 */
import type { Random } from '@shoal/runtime';
import { applyHealthDelta, failedProbeDelta, lagDelta, nackTimeoutFraction, scaleByHealth } from './awareness.js';
import { BroadcastQueue, retransmitLimit } from './broadcast.js';
import type { SwimConfig } from './config.js';
import { isLive, MemberTable, publicMember, snapshotOf, type Member, type MemberRecord, type StateCounts } from './members.js';
import type { MemberMeta, MemberSnapshot, MemberState, SwimMessage } from './messages.js';
import { probeDeadline, probeStep, type IndirectProbe, type ProbeState } from './probe.js';
import { aliveNode, assertNever, deadNode, emptyStats, expireSuspicion, isOlderNews, newsAbout, suspectNode, type Ctx, type MemberEventKind, type SwimStats } from './state.js';

/** (sender, member) pairs remembered for the correction rate limit, at most; then forgotten. */
const correctionsTrackedMax = 1024;

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
  /** Bytes one message adds to a packet (its encoded id and body). */
  measure(msg: SwimMessage): number;
  /** Fixed bytes of one packet (frame header and encryption). */
  packetOverheadBytes: number;
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
  private readonly selfSinceMs: number;
  /** Last correction sent per (address, member), for the rate limit; bounded. */
  private readonly corrected = new Map<string, number>();
  private announcedJoin = false;
  /** Time of the input being handled (for eager gossip). */
  private nowMs: number;
  private lastGossipMs = -Infinity;

  constructor(private readonly opts: CoreOptions) {
    this.config = opts.config;
    this.random = opts.random;
    this.broadcasts = new BroadcastQueue(opts.config.broadcastQueueMax);
    this.ctx = {
      config: opts.config,
      selfName: opts.name,
      selfIncarnation: opts.incarnation ?? 0,
      selfMeta: opts.meta,
      leaving: false,
      health: 0,
      table: new MemberTable(opts.random),
      stats: emptyStats(),
      broadcast: (key, msg) => this.queueBroadcast(key, msg),
      emit: (kind, r) => this.effects.push({ kind: 'event', event: { kind, member: publicMember(r) } }),
    };
    const now = opts.nowMs;
    this.nowMs = now;
    this.selfSinceMs = now;
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

  get meta(): MemberMeta {
    return this.ctx.selfMeta;
  }

  get leaving(): boolean {
    return this.ctx.leaving;
  }

  /** Lifeguard local health score, 0 (healthy) … healthMax − 1. */
  get health(): number {
    return this.ctx.health;
  }

  get stats(): Readonly<SwimStats> {
    return this.ctx.stats;
  }

  get broadcastQueueLength(): number {
    return this.broadcasts.size;
  }

  /** Members by state, this node included (alive, or left once leaving). */
  counts(): StateCounts {
    const c = { ...this.ctx.table.counts };
    c[this.selfState()]++;
    return c;
  }

  /** Every known member, this node first. */
  members(): Member[] {
    return [this.self(), ...[...this.ctx.table.all()].map(publicMember)];
  }

  member(name: string): Member | undefined {
    if (name === this.ctx.selfName) return this.self();
    const r = this.ctx.table.get(name);
    return r ? publicMember(r) : undefined;
  }

  /** This node's view for a push-pull exchange. */
  localState(): MemberSnapshot[] {
    const self: MemberSnapshot = { name: this.ctx.selfName, inc: this.ctx.selfIncarnation, state: this.selfState(), meta: this.ctx.selfMeta };
    return [self, ...[...this.ctx.table.all()].map(snapshotOf)];
  }

  nextDeadlineMs(): number {
    let t = Math.min(this.nextProbeMs, this.nextGossipMs, this.nextReapMs);
    if (this.config.pushPullIntervalMs > 0) t = Math.min(t, this.nextPushPullMs);
    if (this.config.reconnectIntervalMs > 0) t = Math.min(t, this.nextReconnectMs);
    if (this.probe) t = Math.min(t, probeDeadline(this.probe));
    for (const ip of this.indirect.values()) t = Math.min(t, ip.deadlineMs);
    for (const r of this.ctx.table.suspects) if (r.suspicion) t = Math.min(t, r.suspicion.deadlineMs());
    return t;
  }

  // ---- inputs ----

  /** Contacts seeds with a full state exchange (the shell reports failures to the caller). */
  join(seeds: readonly string[]): Effect[] {
    for (const to of seeds) this.effects.push({ kind: 'push-pull', to, join: true });
    return this.drain();
  }

  /** Graceful leave: broadcast that we left, at once; the shell keeps gossiping for leavePropagateMs. */
  leave(nowMs: number): Effect[] {
    if (this.ctx.leaving) return [];
    this.nowMs = nowMs;
    this.ctx.leaving = true;
    const leave: SwimMessage = { t: 'dead', name: this.ctx.selfName, inc: this.ctx.selfIncarnation, from: this.ctx.selfName };
    this.ctx.broadcast(this.ctx.selfName, leave);
    this.probe = undefined;
    this.announce(leave);
    return this.drain();
  }

  /** New metadata (addresses, tags): a new incarnation carries it to everyone. Ignored once leaving. */
  updateMeta(meta: MemberMeta, nowMs: number): Effect[] {
    if (this.ctx.leaving) return [];
    this.nowMs = nowMs;
    this.ctx.selfMeta = meta;
    this.ctx.selfIncarnation++;
    this.ctx.broadcast(this.ctx.selfName, { t: 'alive', name: this.ctx.selfName, inc: this.ctx.selfIncarnation, meta });
    return this.drain();
  }

  /**
   * The shell saw its own timer fire `lagMs` late. Above `lagThresholdMs`, under Lifeguard, the
   * health score rises by one step per period lost: a starved process doubts itself first.
   * Returns whether the lag counted (the shell then reads pending packets before ticking).
   */
  reportLag(lagMs: number): boolean {
    if (!this.config.lifeguard || !(lagMs > this.config.lagThresholdMs)) return false;
    this.ctx.stats.lagEvents++;
    this.ctx.health = applyHealthDelta(this.ctx.health, lagDelta(lagMs, this.config.probeIntervalMs), this.config.healthMax);
    return true;
  }

  receive(from: string, messages: readonly SwimMessage[], nowMs: number): Effect[] {
    this.nowMs = nowMs;
    for (const msg of messages) this.handle(from, msg, nowMs);
    return this.drain();
  }

  /**
   * Merges a peer's full state (push-pull), as memberlist does: alive and left are applied as
   * they are; suspect and dead become our own suspicion (dead is downgraded so the member gets
   * to refute). Members we never heard of are learned only when alive or suspect.
   */
  mergeRemoteState(states: readonly MemberSnapshot[], nowMs: number, opts: { joined?: boolean } = {}): Effect[] {
    const self = this.ctx.selfName;
    this.nowMs = nowMs;
    for (const s of states) {
      const known = s.name === self || this.ctx.table.get(s.name) !== undefined;
      switch (s.state) {
        case 'alive':
          aliveNode(this.ctx, { t: 'alive', name: s.name, inc: s.inc, meta: s.meta }, nowMs);
          break;
        case 'suspect':
          if (!known) aliveNode(this.ctx, { t: 'alive', name: s.name, inc: s.inc, meta: s.meta }, nowMs);
          suspectNode(this.ctx, { t: 'suspect', name: s.name, inc: s.inc, from: self }, nowMs);
          break;
        case 'dead':
          if (known) suspectNode(this.ctx, { t: 'suspect', name: s.name, inc: s.inc, from: self }, nowMs);
          break;
        case 'left':
          if (known) deadNode(this.ctx, { t: 'dead', name: s.name, inc: s.inc, from: s.name }, nowMs);
          break;
        default:
          assertNever(s.state);
      }
    }
    // Our first successful join: tell members directly that we are here (see announceMembersMax).
    if (opts.joined && !this.announcedJoin && !this.ctx.leaving) {
      this.announcedJoin = true;
      this.announce({ t: 'alive', name: self, inc: this.ctx.selfIncarnation, meta: this.ctx.selfMeta });
    }
    return this.drain();
  }

  tick(nowMs: number): Effect[] {
    this.nowMs = nowMs;
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
        return this.handleNack(msg.seq, nowMs);
      case 'alive':
        this.correctIfOlder(from, msg, nowMs);
        return aliveNode(this.ctx, msg, nowMs);
      case 'suspect':
        this.correctIfOlder(from, msg, nowMs);
        return suspectNode(this.ctx, msg, nowMs);
      case 'dead':
        this.correctIfOlder(from, msg, nowMs);
        return deadNode(this.ctx, msg, nowMs);
      default:
        assertNever(msg);
    }
  }

  /**
   * Anti-entropy on disagreement (Shoal's addition to memberlist): news about another member
   * that is strictly older than ours means its sender missed something; answer it with our news,
   * directly, at most once per (sender, member) per protocol period. Each answer carries strictly
   * newer news than the sender held, so exchanges end.
   */
  private correctIfOlder(from: string, msg: Extract<SwimMessage, { t: 'alive' | 'suspect' | 'dead' }>, nowMs: number): void {
    if (msg.name === this.ctx.selfName) return;
    const r = this.ctx.table.get(msg.name);
    if (!r || !isOlderNews(msg, r)) return;
    const key = `${from}\u0000${msg.name}`;
    const last = this.corrected.get(key);
    if (last !== undefined && nowMs - last < this.config.probeIntervalMs) return;
    if (this.corrected.size >= correctionsTrackedMax) this.corrected.clear();
    this.corrected.set(key, nowMs);
    this.ctx.stats.correctionsSent++;
    this.send(from, [newsAbout(this.ctx, r)]);
  }

  /** Sends `msg` once, directly, to up to announceMembersMax random live members. */
  private announce(msg: SwimMessage): void {
    const to = this.ctx.table.sample(this.config.announceMembersMax, isLive);
    for (const r of to) {
      this.ctx.stats.announcements++;
      this.send(r.meta.addresses.gossip, [msg]);
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
    if (this.indirect.size >= this.config.indirectPendingMax) {
      this.ctx.stats.indirectRequestsIgnored++;
      return;
    }
    const seq = this.nextSeq();
    const deadlineMs = nowMs + this.config.probeTimeoutMs * (msg.nack ? nackTimeoutFraction : 1);
    this.indirect.set(seq, { requesterAddr: from, requesterSeq: msg.seq, deadlineMs, nack: msg.nack });
    this.ctx.stats.indirectProbesServed++;
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

  private handleNack(seq: number, nowMs: number): void {
    // A nack for an older probe says nothing about this one.
    if (!this.probe || this.probe.seq !== seq) return;
    this.probe.nacks++;
    this.ctx.stats.nacksReceived++;
    this.advanceProbe(nowMs); // the last nack completes the evidence (probe.ts)
  }

  // ---- timers ----

  private nextSeq(): number {
    this.seq = this.seq >= 0xffff_ffff ? 1 : this.seq + 1;
    return this.seq;
  }

  private startProbe(nowMs: number): void {
    const health = this.config.lifeguard ? this.ctx.health : 0;
    const period = scaleByHealth(this.config.probeIntervalMs, health);
    this.nextProbeMs = nowMs + period;
    if (this.ctx.leaving) return; // A leaving node accuses nobody.
    const target = this.ctx.table.nextProbeTarget();
    if (!target) return;
    const seq = this.nextSeq();
    this.probe = {
      seq,
      target: target.name,
      targetAddr: target.meta.addresses.gossip,
      timeoutAtMs: nowMs + scaleByHealth(this.config.probeTimeoutMs, health),
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
    const nack = this.config.lifeguard;
    p.expectedNacks = nack ? helpers.length : 0;
    for (const h of helpers) {
      this.ctx.stats.indirectProbes++;
      this.send(h.meta.addresses.gossip, [{ t: 'ping-req', seq: p.seq, target: p.target, targetAddr: p.targetAddr, from: this.ctx.selfName, nack }]);
    }
  }

  private failProbe(p: ProbeState, nowMs: number): void {
    this.probe = undefined;
    this.ctx.stats.probeFailures++;
    if (this.config.lifeguard) {
      this.ctx.health = applyHealthDelta(this.ctx.health, failedProbeDelta(p.expectedNacks, p.nacks), this.config.healthMax);
    }
    const r = this.ctx.table.get(p.target);
    if (!r || !isLive(r)) return;
    suspectNode(this.ctx, { t: 'suspect', name: r.name, inc: r.incarnation, from: this.ctx.selfName }, nowMs);
  }

  private expireSuspicions(nowMs: number): void {
    const due: MemberRecord[] = [];
    for (const r of this.ctx.table.suspects) if (r.suspicion && nowMs >= r.suspicion.deadlineMs()) due.push(r);
    for (const r of due) expireSuspicion(this.ctx, r, nowMs);
  }

  private expireIndirect(nowMs: number): void {
    for (const [seq, ip] of this.indirect) {
      if (nowMs < ip.deadlineMs) continue;
      this.indirect.delete(seq);
      if (ip.nack) this.send(ip.requesterAddr, [{ t: 'nack', seq: ip.requesterSeq }]);
    }
  }

  /**
   * Queues news for dissemination and, if no round ran in the last quarter interval, moves the
   * next gossip round to now: fresh news leaves at once instead of waiting up to a whole
   * interval at every hop (eager gossip), while rounds stay at most 4 per interval.
   */
  private queueBroadcast(key: string, msg: SwimMessage): void {
    this.broadcasts.queue(key, msg, this.opts.measure(msg));
    const earliest = Math.max(this.nowMs, this.lastGossipMs + this.config.gossipIntervalMs / 4);
    if (earliest < this.nextGossipMs) this.nextGossipMs = earliest;
  }

  private gossip(nowMs: number): void {
    this.lastGossipMs = nowMs;
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
    if (isLive(r)) return true;
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
    if (this.ctx.leaving) return;
    const [peer] = this.ctx.table.sample(1, (r) => r.state === 'dead');
    if (peer) this.effects.push({ kind: 'push-pull', to: peer.meta.addresses.gossip, join: false });
  }

  private reap(nowMs: number): void {
    this.nextReapMs = nowMs + 1000;
    if (this.ctx.table.counts.dead + this.ctx.table.counts.left === 0) return;
    const gone: string[] = [];
    for (const r of this.ctx.table.all()) {
      const age = nowMs - r.stateChangeMs;
      if ((r.state === 'dead' && age > this.config.deadRememberMs) || (r.state === 'left' && age > this.config.leftRememberMs)) gone.push(r.name);
    }
    for (const name of gone) this.ctx.table.remove(name);
  }

  // ---- output ----

  private selfState(): MemberState {
    return this.ctx.leaving ? 'left' : 'alive';
  }

  private self(): Member {
    return { name: this.ctx.selfName, incarnation: this.ctx.selfIncarnation, state: this.selfState(), meta: this.ctx.selfMeta, stateChangeMs: this.selfSinceMs };
  }

  /** Bytes left in a packet after its overhead and the `primary` messages. */
  private budget(primary: readonly SwimMessage[]): number {
    let used = this.opts.packetOverheadBytes;
    for (const m of primary) used += this.opts.measure(m);
    return this.config.packetBytesMax - used;
  }

  private takeBroadcasts(budgetBytes: number): SwimMessage[] {
    const limit = retransmitLimit(this.config.retransmitMult, this.ctx.table.liveCount());
    return this.broadcasts.take(budgetBytes, 0, limit);
  }

  /** Sends `primary` with as many piggybacked broadcasts as fit in one packet. */
  private send(to: string, primary: SwimMessage[]): void {
    const piggyback = this.takeBroadcasts(this.budget(primary));
    this.effects.push({ kind: 'send', to, messages: piggyback.length > 0 ? [...primary, ...piggyback] : primary });
  }

  private drain(): Effect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }
}
