/**
 * Membership state changes, named after what they do (memberlist's aliveNode / suspectNode /
 * deadNode / refute). Each applies one update about one member to the table, following SWIM's
 * incarnation rules (Das, Gupta, Motivala 2002, §4.2):
 * - an update with a lower incarnation than we hold is stale and ignored;
 * - `alive` needs a strictly higher incarnation to override anything (only the member itself
 *   raises its incarnation, by refuting or changing its metadata);
 * - `suspect` at the same or a higher incarnation overrides `alive`; `dead` overrides `alive`
 *   and `suspect`; a graceful leave (`dead` sent by the member itself) also turns `dead` into
 *   `left`, the more accurate state;
 * - news about ourselves that says we are suspect or dead, or alive with an incarnation we have
 *   not used or other metadata (an older process of ours), is refuted: we raise our incarnation
 *   above it and broadcast `alive` (and, with Lifeguard, doubt ourselves one step).
 * Every accepted change is re-broadcast (infection-style dissemination) and raised as an event.
 * With Lifeguard, a suspicion that another member already holds is confirmed when one more
 * member independently reports it, which shortens its timeout (suspicion.ts).
 */
import { applyHealthDelta } from './awareness.js';
import type { SwimConfig } from './config.js';
import type { MemberTable, MemberRecord } from './members.js';
import { sameMeta, type MemberMeta, type SwimMessage } from './messages.js';
import { expectedConfirmations, Suspicion, suspicionBoundsMs } from './suspicion.js';

export type MemberEventKind = 'joined' | 'updated' | 'suspected' | 'failed' | 'left' | 'recovered';

/** Protocol counters of the core (the shell adds packet and byte counters). */
export interface SwimStats {
  /** Direct probes started. */
  probes: number;
  /** ping-req messages sent (indirect probes asked of others). */
  indirectProbes: number;
  /** Indirect probes run on behalf of others. */
  indirectProbesServed: number;
  /** Probes that ended without any ack. */
  probeFailures: number;
  /** Nacks received from helpers. */
  nacksReceived: number;
  /** Members this node started suspecting (from its own probe or from news). */
  suspicions: number;
  /** Independent confirmations of live suspicions (Lifeguard). */
  suspicionConfirmations: number;
  /** Times this node refuted news of its own suspicion or death. */
  refutations: number;
  /** Suspects that came back with a refutation before their timeout. */
  falseSuspicionsRefuted: number;
  /** Suspicions that timed out here: members this node declared dead. */
  deadDeclared: number;
  /** Members seen failing (declared here or learned), and leaving. */
  failuresObserved: number;
  leavesObserved: number;
  /** Pings for another name at our address (a stale address), not acked. */
  misdirectedPings: number;
  /** Updates older than what we hold. */
  staleUpdates: number;
  /** New members ignored because the table was full (membersMax). */
  membersIgnored: number;
  /** ping-req ignored because indirectPendingMax were outstanding. */
  indirectRequestsIgnored: number;
  /** Late timers reported by the shell (event-loop lag above lagThresholdMs). */
  lagEvents: number;
  /** Older news answered with ours, directly to its sender (anti-entropy). */
  correctionsSent: number;
  /** Packets sent to announce our own join or leave to members directly. */
  announcements: number;
}

export function emptyStats(): SwimStats {
  return {
    probes: 0,
    indirectProbes: 0,
    indirectProbesServed: 0,
    probeFailures: 0,
    nacksReceived: 0,
    suspicions: 0,
    suspicionConfirmations: 0,
    refutations: 0,
    falseSuspicionsRefuted: 0,
    deadDeclared: 0,
    failuresObserved: 0,
    leavesObserved: 0,
    misdirectedPings: 0,
    staleUpdates: 0,
    membersIgnored: 0,
    indirectRequestsIgnored: 0,
    lagEvents: 0,
    correctionsSent: 0,
    announcements: 0,
  };
}

export interface Ctx {
  readonly config: SwimConfig;
  readonly selfName: string;
  selfIncarnation: number;
  selfMeta: MemberMeta;
  leaving: boolean;
  health: number;
  readonly table: MemberTable;
  readonly stats: SwimStats;
  broadcast(key: string, msg: SwimMessage): void;
  emit(kind: MemberEventKind, r: MemberRecord): void;
}

/** Raises our incarnation above `seenIncarnation` and tells everyone we are alive. */
export function refute(ctx: Ctx, seenIncarnation: number): void {
  ctx.selfIncarnation = Math.max(ctx.selfIncarnation, seenIncarnation) + 1;
  ctx.stats.refutations++;
  // Lifeguard: having to refute means others could not hear us; doubt ourselves a little.
  if (ctx.config.lifeguard) ctx.health = applyHealthDelta(ctx.health, 1, ctx.config.healthMax);
  ctx.broadcast(ctx.selfName, { t: 'alive', name: ctx.selfName, inc: ctx.selfIncarnation, meta: ctx.selfMeta });
}

type Alive = Extract<SwimMessage, { t: 'alive' }>;
type Suspect = Extract<SwimMessage, { t: 'suspect' }>;
type Dead = Extract<SwimMessage, { t: 'dead' }>;

function aliveSelf(ctx: Ctx, msg: Alive): void {
  // Once leaving, we do not come back to life. Stale or identical news needs nothing; anything
  // else (an older process of ours, other metadata) is refuted so the cluster converges on us.
  if (ctx.leaving || msg.inc < ctx.selfIncarnation) return;
  if (msg.inc === ctx.selfIncarnation && sameMeta(msg.meta, ctx.selfMeta)) return;
  refute(ctx, msg.inc);
}

export function aliveNode(ctx: Ctx, msg: Alive, nowMs: number): void {
  if (msg.name === ctx.selfName) return aliveSelf(ctx, msg);
  const r = ctx.table.get(msg.name);
  if (!r) {
    if (ctx.table.size >= ctx.config.membersMax) {
      ctx.stats.membersIgnored++;
      return;
    }
    const added = ctx.table.add({ name: msg.name, incarnation: msg.inc, state: 'alive', meta: msg.meta }, nowMs);
    ctx.broadcast(msg.name, msg);
    ctx.emit('joined', added);
    return;
  }
  // Same incarnation cannot override: only the member raises its own incarnation.
  if (msg.inc <= r.incarnation) {
    ctx.stats.staleUpdates++;
    return;
  }
  const before = r.state;
  const metaChanged = !sameMeta(r.meta, msg.meta);
  r.incarnation = msg.inc;
  r.meta = msg.meta;
  r.suspicion = undefined;
  ctx.table.setState(r, 'alive', nowMs);
  ctx.broadcast(msg.name, msg);
  switch (before) {
    case 'alive':
      if (metaChanged) ctx.emit('updated', r);
      return;
    case 'suspect':
      ctx.stats.falseSuspicionsRefuted++;
      return ctx.emit('recovered', r);
    case 'dead':
      return ctx.emit('recovered', r);
    case 'left':
      return ctx.emit('joined', r);
    default:
      assertNever(before);
  }
}

/** Starts suspecting `r` (alive until now); returns the suspicion. */
function startSuspicion(ctx: Ctx, r: MemberRecord, msg: Suspect, nowMs: number): void {
  const n = ctx.table.liveCount();
  const { minMs, maxMs } = suspicionBoundsMs(ctx.config.suspicionMult, ctx.config.suspicionMaxTimeoutMult, ctx.config.probeIntervalMs, n);
  // Plain SWIM (Lifeguard off): a fixed timeout at the minimum, no confirmations.
  const lifeguard = ctx.config.lifeguard;
  const k = lifeguard ? expectedConfirmations(ctx.config.suspicionMult, n) : 0;
  r.incarnation = msg.inc;
  r.suspicion = new Suspicion(nowMs, k, minMs, lifeguard ? maxMs : minMs, msg.from);
  ctx.table.setState(r, 'suspect', nowMs);
  ctx.stats.suspicions++;
  // Somebody else's probe failed: probe it ourselves next, to confirm or to let it refute.
  if (lifeguard && msg.from !== ctx.selfName) ctx.table.probeSoon(r.name);
  ctx.broadcast(msg.name, msg);
  ctx.emit('suspected', r);
}

export function suspectNode(ctx: Ctx, msg: Suspect, nowMs: number): void {
  if (msg.name === ctx.selfName) {
    // We are being suspected: refute unless we are on our way out.
    if (!ctx.leaving && msg.inc >= ctx.selfIncarnation) refute(ctx, msg.inc);
    return;
  }
  const r = ctx.table.get(msg.name);
  if (!r) return; // Unknown members are learned from `alive`, never from accusations.
  if (msg.inc < r.incarnation) {
    ctx.stats.staleUpdates++;
    return;
  }
  switch (r.state) {
    case 'dead':
    case 'left':
      return; // Already past suspicion.
    case 'suspect':
      // Another member agrees: a new confirmation shortens the timeout (Lifeguard) and is passed on.
      if (r.suspicion?.confirm(msg.from)) {
        ctx.stats.suspicionConfirmations++;
        ctx.broadcast(msg.name, msg);
      }
      return;
    case 'alive':
      return startSuspicion(ctx, r, msg, nowMs);
    default:
      assertNever(r.state);
  }
}

export function deadNode(ctx: Ctx, msg: Dead, nowMs: number): void {
  const leaving = msg.from === msg.name;
  if (msg.name === ctx.selfName) {
    if (!ctx.leaving && msg.inc >= ctx.selfIncarnation) refute(ctx, msg.inc);
    return;
  }
  const r = ctx.table.get(msg.name);
  if (!r) return;
  if (msg.inc < r.incarnation) {
    ctx.stats.staleUpdates++;
    return;
  }
  // Nothing is past `left`; a member already dead only moves on to `left` (its own leave).
  if (r.state === 'left' || (r.state === 'dead' && !leaving)) return;
  r.incarnation = msg.inc;
  r.suspicion = undefined;
  ctx.table.setState(r, leaving ? 'left' : 'dead', nowMs);
  ctx.broadcast(msg.name, msg);
  if (leaving) ctx.stats.leavesObserved++;
  else ctx.stats.failuresObserved++;
  ctx.emit(leaving ? 'left' : 'failed', r);
}

/** A suspicion ran out without refutation: declare the member dead. */
export function expireSuspicion(ctx: Ctx, r: MemberRecord, nowMs: number): void {
  ctx.stats.deadDeclared++;
  deadNode(ctx, { t: 'dead', name: r.name, inc: r.incarnation, from: ctx.selfName }, nowMs);
}

const rank: Record<'alive' | 'suspect' | 'dead' | 'left', number> = { alive: 0, suspect: 1, dead: 2, left: 3 };

/**
 * True when `msg` (news about another member) is strictly older than what `r` holds: a lower
 * incarnation, or the same one with a weaker state (alive < suspect < dead < left). The sender of
 * such news has missed something we know; the core answers it with our news (anti-entropy).
 */
export function isOlderNews(msg: Extract<SwimMessage, { t: 'alive' | 'suspect' | 'dead' }>, r: MemberRecord): boolean {
  if (msg.inc !== r.incarnation) return msg.inc < r.incarnation;
  const state = msg.t === 'dead' ? (msg.from === msg.name ? 'left' : 'dead') : msg.t;
  return rank[state] < rank[r.state];
}

/** What we would gossip about `r` now: its latest state as a message. */
export function newsAbout(ctx: Ctx, r: MemberRecord): SwimMessage {
  switch (r.state) {
    case 'alive':
      return { t: 'alive', name: r.name, inc: r.incarnation, meta: r.meta };
    case 'suspect':
      return { t: 'suspect', name: r.name, inc: r.incarnation, from: ctx.selfName };
    case 'dead':
      return { t: 'dead', name: r.name, inc: r.incarnation, from: ctx.selfName };
    case 'left':
      return { t: 'dead', name: r.name, inc: r.incarnation, from: r.name };
    default:
      return assertNever(r.state);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
