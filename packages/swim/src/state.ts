/**
 * Membership state changes, named after what they do (memberlist's aliveNode / suspectNode /
 * deadNode / refute). Each applies one update about one member to the table, following SWIM's
 * incarnation rules:
 * - an update about a member with a lower incarnation than we hold is stale and ignored;
 * - `alive` needs a strictly higher incarnation to override `suspect` or `dead` (only the member
 *   itself raises its incarnation, by refuting);
 * - `suspect` and `dead` at the same or higher incarnation override `alive`;
 * - news about ourselves that says we are suspect, dead, or alive with other metadata is refuted
 *   by raising our incarnation above it and broadcasting `alive`.
 * Every accepted change is re-broadcast (infection-style dissemination) and raised as an event.
 */
import { applyHealthDelta } from './awareness.js';
import type { SwimConfig } from './config.js';
import type { MemberTable, MemberRecord } from './members.js';
import { sameMeta, type MemberMeta, type SwimMessage } from './messages.js';
import { expectedConfirmations, Suspicion, suspicionBoundsMs } from './suspicion.js';

export type MemberEventKind = 'joined' | 'updated' | 'suspected' | 'failed' | 'left' | 'recovered';

export interface SwimStats {
  probes: number;
  indirectProbes: number;
  probeFailures: number;
  suspicions: number;
  refutations: number;
  falseSuspicionsRefuted: number;
  deadDeclared: number;
  misdirectedPings: number;
  staleUpdates: number;
  membersIgnored: number;
}

export function emptyStats(): SwimStats {
  return {
    probes: 0,
    indirectProbes: 0,
    probeFailures: 0,
    suspicions: 0,
    refutations: 0,
    falseSuspicionsRefuted: 0,
    deadDeclared: 0,
    misdirectedPings: 0,
    staleUpdates: 0,
    membersIgnored: 0,
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

export function aliveNode(ctx: Ctx, msg: Extract<SwimMessage, { t: 'alive' }>, nowMs: number): void {
  if (msg.name === ctx.selfName) {
    // Stale or identical news about us needs nothing; anything else (an old incarnation of us
    // after a restart, other metadata) is refuted so the cluster converges on the real us.
    if (ctx.leaving) return;
    if (msg.inc < ctx.selfIncarnation) return;
    if (msg.inc === ctx.selfIncarnation && sameMeta(msg.meta, ctx.selfMeta)) return;
    refute(ctx, msg.inc);
    return;
  }
  const r = ctx.table.get(msg.name);
  if (!r) {
    if (ctx.table.size >= ctx.config.membersMax) {
      ctx.stats.membersIgnored++;
      return;
    }
    const added: MemberRecord = { name: msg.name, incarnation: msg.inc, state: 'alive', meta: msg.meta, stateChangeMs: nowMs, suspicion: undefined };
    ctx.table.add(added);
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
  if (before !== 'alive') {
    r.state = 'alive';
    r.stateChangeMs = nowMs;
  }
  ctx.broadcast(msg.name, msg);
  switch (before) {
    case 'alive':
      if (metaChanged) ctx.emit('updated', r);
      break;
    case 'suspect':
      ctx.stats.falseSuspicionsRefuted++;
      ctx.emit('recovered', r);
      break;
    case 'dead':
      ctx.emit('recovered', r);
      break;
    case 'left':
      ctx.emit('joined', r);
      break;
    default:
      assertNever(before);
  }
}

export function suspectNode(ctx: Ctx, msg: Extract<SwimMessage, { t: 'suspect' }>, nowMs: number): void {
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
      if (msg.inc === r.incarnation && r.suspicion?.confirm(msg.from)) ctx.broadcast(msg.name, msg);
      return;
    case 'alive':
      break;
    default:
      assertNever(r.state);
  }
  const n = ctx.table.liveCount();
  const { minMs, maxMs } = suspicionBoundsMs(ctx.config.suspicionMult, ctx.config.suspicionMaxTimeoutMult, ctx.config.probeIntervalMs, n);
  // Plain SWIM (Lifeguard off): a fixed timeout, no confirmations.
  const k = ctx.config.lifeguard ? expectedConfirmations(ctx.config.suspicionMult, n) : 0;
  r.incarnation = msg.inc;
  r.state = 'suspect';
  r.stateChangeMs = nowMs;
  r.suspicion = new Suspicion(nowMs, k, minMs, ctx.config.lifeguard ? maxMs : minMs, msg.from);
  ctx.stats.suspicions++;
  ctx.broadcast(msg.name, msg);
  ctx.emit('suspected', r);
}

export function deadNode(ctx: Ctx, msg: Extract<SwimMessage, { t: 'dead' }>, nowMs: number): void {
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
  if (r.state === 'left' || (r.state === 'dead' && !leaving)) return;
  r.incarnation = msg.inc;
  r.state = leaving ? 'left' : 'dead';
  r.stateChangeMs = nowMs;
  r.suspicion = undefined;
  ctx.broadcast(msg.name, msg);
  ctx.emit(leaving ? 'left' : 'failed', r);
}

/** A suspicion ran out without refutation: declare the member dead. */
export function expireSuspicion(ctx: Ctx, r: MemberRecord, nowMs: number): void {
  ctx.stats.deadDeclared++;
  deadNode(ctx, { t: 'dead', name: r.name, inc: r.incarnation, from: ctx.selfName }, nowMs);
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
