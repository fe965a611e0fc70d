/**
 * The remoting seam: what a system needs from a transport to reach actors on other nodes, and
 * what the transport calls back.
 *
 * Outbound (the system calls the router, synchronously, from `dispatch`/`query`/`monitor`,
 * whenever a ref's node is not the local node):
 *   send(to, msg, sender)            deliver `msg` to `to`; `sender` (if any) is the reply-to ref
 *   monitor(watcher, target, id)     ask `target`'s node to monitor it for `watcher`
 *   demonitor(watcher, target, id)   cancel that
 * A router accepts or refuses synchronously. To refuse (full outbound queue, message too big,
 * message not serializable) it throws; the error reaches the caller of `dispatch` unchanged, and
 * a `query` rejects with it. Accepting is not delivery: a message accepted and then lost with a
 * connection is detected through `nodeDown` (monitors fire, queries fail) or a query timeout.
 * A router must not call back into the sending system synchronously from these methods.
 *
 * Inbound (the router calls the receiving system):
 *   system.deliver(to, msg, sender?)           a message for a local actor (or temp ref)
 *   system.remoteMonitor(watcher, target, id)  a remote watcher monitors a local actor
 *   system.remoteDemonitor(watcher, target, id)
 *   system.nodeDown(node)                      `node` is unreachable: its monitors fire
 *                                              `node-down`, queries to it fail at once
 *   system.undeliverable(to, msg, sender?)     (on the sending system) a message the router
 *                                              accepted but knows it cannot deliver: a
 *                                              `no-route` dead letter; its query fails at once
 * Refs arriving from the network must be bound to the receiving system (`refFromJSON(system,
 * json)`), so that a reply to `ctx.sender` goes back out through the receiving system's router.
 *
 * `encodeRefs`/`decodeRefs` turn refs inside a message into tagged plain objects and back, for
 * routers that serialize with a generic codec (the loopback router uses them with
 * structuredClone; a msgpackr extension can do the same).
 */
import { ActorConfigError } from './errors.js';
import { ActorRef, refFromJSON } from './ref.js';
import type { ActorSystem } from './system.js';

type AnyRef = ActorRef<unknown>;

export interface RemoteRouter {
  send(to: AnyRef, msg: unknown, sender: AnyRef | undefined): void;
  monitor(watcher: AnyRef, target: AnyRef, monitorId: number): void;
  demonitor(watcher: AnyRef, target: AnyRef, monitorId: number): void;
}

/** The key of an encoded ref: `{ '$shoal.ref': { node, path } }`. */
export const refTag = '$shoal.ref';
/** Deepest nesting `encodeRefs`/`decodeRefs` walk (a cycle fails here instead of looping). */
export const messageDepthMax = 64;

function isPlainObject(x: object): boolean {
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A copy of `value` with every ActorRef replaced by `{ [refTag]: { node, path } }`. */
export function encodeRefs(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > messageDepthMax) throw new ActorConfigError(`message nested deeper than ${messageDepthMax} levels (a cycle?)`);
  if (value instanceof ActorRef) return { [refTag]: value.toJSON() };
  if (Array.isArray(value)) return value.map((v) => encodeRefs(v, depth + 1));
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [encodeRefs(k, depth + 1), encodeRefs(v, depth + 1)]));
  if (value instanceof Set) return new Set([...value].map((v) => encodeRefs(v, depth + 1)));
  if (isOpaque(value)) return value;
  // Plain objects, and class instances, which structuredClone flattens to plain objects anyway.
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = encodeRefs(v, depth + 1);
  return out;
}

/** Objects structuredClone copies as themselves: nothing inside them can be a ref. */
function isOpaque(value: object): boolean {
  return value instanceof Date || value instanceof Error || value instanceof RegExp || value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/** The inverse of `encodeRefs`: tagged objects become refs bound to `via`'s system. */
export function decodeRefs(value: unknown, via: ActorSystem, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > messageDepthMax) throw new ActorConfigError(`message nested deeper than ${messageDepthMax} levels`);
  if (Array.isArray(value)) return value.map((v) => decodeRefs(v, via, depth + 1));
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [decodeRefs(k, via, depth + 1), decodeRefs(v, via, depth + 1)]));
  if (value instanceof Set) return new Set([...value].map((v) => decodeRefs(v, via, depth + 1)));
  if (!isPlainObject(value)) return value;
  const tagged = (value as Record<string, unknown>)[refTag];
  if (tagged !== undefined && Object.keys(value).length === 1) return refFromJSON(via, tagged);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = decodeRefs(v, via, depth + 1);
  return out;
}
