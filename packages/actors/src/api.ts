/**
 * nact's functions, on Shoal's engine: `start`, `spawn`, `spawnStateless`, `dispatch`, `query`,
 * `stop` — same names, same argument order, same behaviour signatures — plus `monitor` and
 * `demonitor`. Each takes refs and finds the system through them (`ref.system`), as nact does.
 */
import type { StartOptions } from './config.js';
import { ActorConfigError, InvalidRefError } from './errors.js';
import { monitorOwner } from './monitors.js';
import type { ActorProps, Behaviour, StatelessActorProps, StatelessBehaviour } from './props.js';
import { ActorRef, refCell } from './ref.js';
import { ActorSystem } from './system.js';

type AnyRef = ActorRef<unknown>;

function checkRef(ref: unknown, what: string): AnyRef {
  if (!(ref instanceof ActorRef)) throw new InvalidRefError(`${what} must be an ActorRef, got ${ref === null ? 'null' : typeof ref}`);
  return ref as AnyRef;
}

/**
 * Starts an actor system and returns its root ref (nact: the system ref). Accepts options,
 * nact's `{ name }`, a bare name, or nothing. nact plugins (persistence, logging engines) are
 * not supported.
 */
export function start(opts?: StartOptions | string): ActorRef<never> {
  if (typeof opts === 'function') throw new ActorConfigError('nact plugins (persistence, logging) are not supported by Shoal');
  return new ActorSystem(typeof opts === 'string' ? { name: opts } : (opts ?? {})).root;
}

/** The system a ref is bound to. */
export function systemOf(ref: AnyRef): ActorSystem {
  return checkRef(ref, 'ref').system;
}

export function spawn<State, Msg>(
  parent: AnyRef,
  f: Behaviour<State, Msg>,
  name?: string,
  props?: ActorProps<State, Msg>,
): ActorRef<Msg> {
  const p = checkRef(parent, 'parent');
  return p.system.spawn<Msg>(p, f, name, props as ActorProps<unknown, unknown> | undefined, false);
}

export function spawnStateless<Msg>(
  parent: AnyRef,
  f: StatelessBehaviour<Msg>,
  name?: string,
  props?: StatelessActorProps<Msg>,
): ActorRef<Msg> {
  const p = checkRef(parent, 'parent');
  return p.system.spawn<Msg>(p, f, name, props as ActorProps<unknown, unknown> | undefined, true);
}

/**
 * Sends `msg` to `ref`; returns nothing (as nact). An undeliverable message is a dead letter;
 * the only throw is a router refusing a message for another node (e.g. its queue is full).
 */
export function dispatch<Msg>(ref: ActorRef<Msg>, msg: Msg, sender?: AnyRef): void {
  if (!(ref instanceof ActorRef)) throw new InvalidRefError(`dispatch: not an ActorRef (${typeof ref})`);
  const from = sender instanceof ActorRef ? (sender as AnyRef) : undefined;
  const cell = refCell(ref);
  if (cell !== undefined && cell.status !== 'stopped') {
    cell.enqueue(msg, from);
    return;
  }
  (ref as AnyRef).system.send(ref as AnyRef, msg, from);
}

/**
 * Asks: sends `msg` — or `msg(tempRef)` if it is a function — with a temp ref as the sender, and
 * resolves with the first message sent to that temp ref. Rejects with `QueryTimeoutError` after
 * `timeoutMs`, at once with `UndeliverableError` if the message could not be delivered (target
 * stopped or unknown, …), with `NodeDownError` if the target's node goes down.
 */
export function query<Res = unknown, Msg = unknown>(
  ref: ActorRef<Msg>,
  msg: Msg | ((tempRef: ActorRef<Res>) => Msg),
  timeoutMs: number,
): Promise<Res> {
  const r = checkRef(ref, 'query target');
  return r.system.query<Res>(r, msg, timeoutMs);
}

/** Stops a local actor and its children (no-op if already stopped); the root ref stops the system. */
export function stop(ref: AnyRef): void {
  const r = checkRef(ref, 'stop target');
  r.system.stopRef(r);
}

/** Monitors `target` for `watcher` (a local actor); returns the monitor id. */
export function monitor(watcher: AnyRef, target: AnyRef): number {
  const w = checkRef(watcher, 'watcher');
  return w.system.monitor(w, checkRef(target, 'monitor target'));
}

/** Removes a monitor; false if it already fired or was removed. */
export function demonitor(monitorId: number): boolean {
  return monitorOwner(monitorId)?.demonitor(monitorId) ?? false;
}
