/**
 * ActorRef: the address of an actor — a node name plus a path of names from that node's root
 * (`{ node: 'n1', path: ['users', 'alice'] }`, printed `n1/users/alice`).
 *
 * Invariants:
 * - A ref is a value: two refs are the same actor iff node and path are equal (`sameRef`,
 *   `ref.equals`). As in nact, addressing is by path: after an actor stops, a new actor spawned
 *   under the same path receives what is sent to the old ref.
 * - A ref is bound to the system that made it (spawned it, decoded it, or received it through a
 *   router). Sending through a ref goes through that system: to its local actor if `node` is
 *   that system's node, else to the system's `RemoteRouter`. `ref.system` is that system (and,
 *   like nact's refs, `ref.system.name` is the node name).
 * - The serializable form is `{ node, path }` (`toJSON`, `refFromJSON`). `structuredClone` of a
 *   ref yields exactly that plain object: the binding and the cache are `#private`.
 * - A local ref caches the actor's cell, so a send is O(1) without a map lookup; the cache is
 *   refreshed by path when the cached actor has stopped.
 */
import type { Cell } from './cell.js';
import { InvalidRefError } from './errors.js';
import { isPathSegment, isWellFormedString, nameLengthMax, depthMax } from './names.js';
import type { ActorSystem } from './system.js';

/** The plain, serializable form of a ref. */
export interface RefJSON {
  node: string;
  path: string[];
}

const internal = Symbol('shoal.ref.internal');

/* Engine-only accessors (not re-exported by index.ts), assigned in ActorRef's static
 * block (declared first: the block runs when the class is evaluated). */
export let refCell: (ref: ActorRef<unknown>) => Cell | undefined;
export let setRefCell: (ref: ActorRef<unknown>, cell: Cell | undefined) => void;
export let makeRef: <M>(system: ActorSystem, node: string, path: string[], cell: Cell | undefined) => ActorRef<M>;


export class ActorRef<Msg = unknown> {
  /** Phantom: the messages this actor accepts (types only, never set). */
  declare private readonly msgType?: Msg;
  readonly node: string;
  readonly path: readonly string[];
  #system: ActorSystem;
  #cell: Cell | undefined;

  /** Not for callers: refs come from `spawn`, `start`, `refFromJSON` and messages. */
  constructor(token: typeof internal, system: ActorSystem, node: string, path: readonly string[], cell: Cell | undefined) {
    if (token !== internal) throw new InvalidRefError('ActorRef is not constructible; use refFromJSON');
    this.node = node;
    this.path = path;
    this.#system = system;
    this.#cell = cell;
  }

  /** The system this ref is bound to (its `name` is the node name, as in nact). */
  get system(): ActorSystem {
    return this.#system;
  }

  /** The actor's own name (the last path segment); the node name for a root ref. */
  get name(): string {
    return this.path[this.path.length - 1] ?? this.node;
  }

  equals(other: unknown): boolean {
    return sameRef(this, other);
  }

  toString(): string {
    return `${this.node}/${this.path.join('/')}`;
  }

  toJSON(): RefJSON {
    return { node: this.node, path: [...this.path] };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ActorRef(${this.toString()})`;
  }

  static {
    refCell = (ref) => ref.#cell;
    setRefCell = (ref, cell) => {
      ref.#cell = cell;
    };
    makeRef = (system, node, path, cell) => new ActorRef(internal, system, node, Object.freeze(path), cell);
  }
}

export function isActorRef(x: unknown): x is ActorRef<unknown> {
  return x instanceof ActorRef;
}

/** True iff both are refs (or `{ node, path }` objects) naming the same actor. */
export function sameRef(a: unknown, b: unknown): boolean {
  if (!isRefLike(a) || !isRefLike(b)) return false;
  if (a === b) return true;
  if (a.node !== b.node || a.path.length !== b.path.length) return false;
  for (let i = 0; i < a.path.length; i++) if (a.path[i] !== b.path[i]) return false;
  return true;
}

function isRefLike(x: unknown): x is { node: string; path: readonly string[] } {
  return typeof x === 'object' && x !== null && typeof (x as RefJSON).node === 'string' && Array.isArray((x as RefJSON).path);
}

/**
 * Turns `{ node, path }` (from JSON, a wire decoder, structuredClone) into a ref bound to the
 * system of `via` (a system, or any ref of it). Throws `InvalidRefError` on a malformed value.
 */
export function refFromJSON<M = unknown>(via: ActorSystem | ActorRef<unknown>, json: unknown): ActorRef<M> {
  const system = via instanceof ActorRef ? via.system : via;
  if (!isRefLike(json)) throw new InvalidRefError(`not a ref: expected { node, path }, got ${describe(json)}`);
  const { node, path } = json;
  if (node.length === 0 || node.length > nameLengthMax || !isWellFormedString(node)) throw new InvalidRefError(`invalid node name in ref: ${JSON.stringify(node)}`);
  if (path.length > depthMax + 1 || !path.every(isPathSegment)) {
    throw new InvalidRefError(`invalid path in ref ${JSON.stringify(json)}`);
  }
  return makeRef<M>(system, node, [...path], undefined);
}

function describe(x: unknown): string {
  try {
    return JSON.stringify(x)?.slice(0, 80) ?? String(x);
  } catch {
    return typeof x;
  }
}
