/**
 * Supervision, the shell: runs crash handlers and applies their decisions to cells.
 *
 * A crash is a synchronous throw or a rejected promise from a behaviour (or from
 * `initialStateFunc`). The crashed actor is suspended — its mailbox keeps filling — until a
 * decision is applied:
 * - its own `onCrash(msg, err, ctx)` decides first (nact's model: an actor supervises itself);
 * - without `onCrash`, the default policy restarts it (nact's `reset`) within its restart
 *   intensity, with backoff (supervision.ts); a stateless actor resumes instead, as in nact;
 * - `escalate` (or an intensity overflow) hands the crash to the parent: the parent's
 *   `onCrash(msg, err, ctx, child)` decides, where `child` is the escalating child; a parent
 *   without `onCrash` restarts itself (which stops the failed subtree) within its own intensity
 *   — Erlang's rule that a supervisor whose child keeps failing fails too;
 * - at the root, the escalating top-level actor is stopped and an error logged.
 *
 * After a decision, the crashed actor — unless the decision stopped or restarted it, or the
 * crash is still on its way up — resumes with its next message. (nact leaves it stuck.)
 * A decision that is not one of the ten symbols (including `undefined`) counts as `escalate`,
 * like nact's `default:` branch, and is logged. An `onCrash` that throws or rejects escalates.
 *
 * Loop guard: an actor whose intensity overflowed and whose parent then orders it restarted
 * again inside the same window is stopped instead of escalating a second time.
 */
import { assertNever } from './errors.js';
import { isThenable, type Cell } from './cell.js';
import type { CrashHandler } from './props.js';
import { decisionKind, decisions, planRestart, type DecisionKind } from './supervision.js';

/** `done`: the crash is settled; `deferred`: a decision is still to come (async handler). */
type Outcome = 'done' | 'deferred';

export function supervise(cell: Cell, msg: unknown, sender: unknown, err: unknown): void {
  const onCrash = cell.props.onCrash;
  if (onCrash === undefined) {
    if (cell.stateless) {
      cell.logger().debug('stateless actor crashed; resuming', { err });
      cell.resume();
      return;
    }
    cell.logger().warn('actor crashed; restarting', { err });
    settle(cell, restart(cell, cell, msg, err));
    return;
  }
  cell.logger().warn('actor crashed', { err });
  consult(cell, onCrash, cell, undefined, msg, err);
}

/** The post-decision rule: a crashed actor left suspended by a settled decision resumes. */
function settle(faulted: Cell, outcome: Outcome): void {
  if (outcome === 'done' && faulted.status === 'suspended') faulted.resume();
}

/** Runs `decider`'s crash handler (sync or async) and applies what it returns. */
function consult(decider: Cell, onCrash: CrashHandler<unknown>, faulted: Cell, child: Cell | undefined, msg: unknown, err: unknown): Outcome {
  const decide = (decision: unknown): Outcome => {
    let kind = decisionKind(decision);
    if (kind === undefined) {
      decider.logger().warn('onCrash returned no decision; escalating', { decision: String(decision) });
      kind = 'escalate';
    }
    const outcome = apply(kind, decider, faulted, child, msg, err);
    settle(faulted, outcome);
    return outcome;
  };
  const failed = (e: unknown): Outcome => {
    decider.logger().error('onCrash threw; escalating', { err: e });
    return decide(decisions.escalate);
  };
  let decision: unknown;
  try {
    decision = onCrash(msg, err, decider.supervisionContext(), child?.ref);
  } catch (e) {
    return failed(e);
  }
  if (!isThenable(decision)) return decide(decision);
  decision.then(decide, failed);
  return 'deferred';
}

function apply(kind: DecisionKind, decider: Cell, faulted: Cell, child: Cell | undefined, msg: unknown, err: unknown): Outcome {
  const system = decider.system;
  switch (kind) {
    case 'resume':
      return 'done';
    case 'reset':
      return restart(decider, faulted, msg, err);
    case 'stop':
      system.stopCell(decider, 'crashed');
      return 'done';
    case 'stopAll':
      for (const s of siblings(decider)) system.stopCell(s, s === decider ? 'crashed' : 'stopped');
      return 'done';
    case 'resetAll':
      return all(siblings(decider).map((s) => restart(s, faulted, msg, err)));
    case 'escalate':
      return escalate(decider, faulted, msg, err);
    case 'stopChild':
      if (child === undefined) return noChild(kind, decider, faulted, msg, err);
      system.stopCell(child, 'crashed');
      return 'done';
    case 'resetChild':
      if (child === undefined) return noChild(kind, decider, faulted, msg, err);
      return restart(child, faulted, msg, err);
    case 'stopAllChildren':
      for (const c of childrenOf(decider)) system.stopCell(c, c.crashed ? 'crashed' : 'stopped');
      return 'done';
    case 'resetAllChildren':
      return all(childrenOf(decider).map((c) => restart(c, faulted, msg, err)));
    default:
      return assertNever(kind);
  }
}

/** `stopChild`/`resetChild` from an actor deciding about its own crash: there is no child. */
function noChild(kind: DecisionKind, decider: Cell, faulted: Cell, msg: unknown, err: unknown): Outcome {
  decider.logger().warn(`onCrash returned ${kind} for its own crash; escalating`);
  return escalate(decider, faulted, msg, err);
}

/** Restarts `cell` within its restart intensity, else escalates (or stops it: loop guard). */
function restart(cell: Cell, faulted: Cell, msg: unknown, err: unknown): Outcome {
  if (cell.status === 'stopped') return 'done';
  const system = cell.system;
  const plan = planRestart(cell.restartHistory, system.clock.monoMs(), cell.props.restart, system.random.float());
  cell.restartHistory = plan.history;
  if (plan.kind === 'exceeded') {
    const { maxRestarts, withinMs } = cell.props.restart;
    if (cell.escalatedForIntensity) {
      cell.logger().error('restart intensity exceeded again; stopping', { maxRestarts, withinMs });
      system.stopCell(cell, 'crashed');
      return 'done';
    }
    cell.logger().warn('restart intensity exceeded; escalating', { maxRestarts, withinMs });
    cell.escalatedForIntensity = true;
    cell.crashed = true;
    return escalate(cell, faulted, msg, err);
  }
  cell.escalatedForIntensity = false;
  cell.beginRestart(plan.delayMs, plan.attempt === 1);
  return 'done';
}

/** Hands a crash from `from` to its parent. */
function escalate(from: Cell, faulted: Cell, msg: unknown, err: unknown): Outcome {
  const parent = from.parent;
  // Guard: the crashed actor was stopped meanwhile (an async decision arrived late).
  if (faulted.status === 'stopped' || parent === undefined) return 'done';
  const system = from.system;
  if (parent.parent === undefined) {
    system.log.error('top-level actor stopped after an escalated crash', {
      actor: from.ref.toString(),
      crashed: faulted.ref.toString(),
      err,
    });
    system.stopCell(from, 'crashed');
    return 'done';
  }
  const onCrash = parent.props.onCrash;
  if (onCrash === undefined) {
    parent.logger().warn('child crash escalated; restarting', { child: from.ref.toString(), err });
    return restart(parent, faulted, msg, err);
  }
  return consult(parent, onCrash, faulted, from, msg, err);
}

function siblings(cell: Cell): Cell[] {
  return cell.parent?.children ? [...cell.parent.children.values()] : [cell];
}

function childrenOf(cell: Cell): Cell[] {
  return cell.children ? [...cell.children.values()] : [];
}

function all(outcomes: Outcome[]): Outcome {
  return outcomes.includes('deferred') ? 'deferred' : 'done';
}
