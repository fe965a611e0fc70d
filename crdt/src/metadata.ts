/**
 * Free-form metadata documents: the JSON tree that users and agents set at arbitrary paths on
 * every entity (FiFo's `metadata set vms <uuid> a.b.c value`), as Automerge documents (Kleppmann
 * et al.; Automerge 3.5) stored as bytes and loaded only for the call that touches them.
 *
 * Why Automerge here and nowhere else (DESIGN.md §3, DEPENDENCIES.md): it merges arbitrary JSON
 * edits at any path without a schema, which the typed records cannot; but it costs ~1.9 k
 * changes/s on a small document, tens of KB per live document and ms per `load`, so it stays off
 * every hot path: records hold the entity, this holds the user's free-form annotations.
 *
 * - `setPath(doc, path, value, actor)`: creates missing intermediate maps, replaces a non-map
 *   in the way with a map, writes `value` (a bounded JSON value) at the last segment.
 * - `deletePath(doc, path, actor)`: removes the key; a missing path leaves the bytes unchanged.
 * - `get(doc, path)`: the JSON value at `path` (`[]` = the whole document), or undefined.
 * - `merge(a, b)`: both documents' changes. Sets on different paths both survive; concurrent
 *   sets of one path resolve the same way on every replica (Automerge's op-id order).
 *
 * Every function takes bytes that may be garbage and never throws: the answer is a
 * `MetadataResult` whose error carries a `code`.
 *
 * Traps handled here:
 * - plain strings become collaborative text in Automerge (costly, and merges would interleave
 *   characters); every string value is written as an `ImmutableString` and read back as a string;
 * - `Automerge.merge(local, remote)` leaves `local` outdated (and older versions froze inputs):
 *   every call loads fresh documents from bytes and never reuses one, so nothing leaks out;
 * - an actor must not write two changes from the same starting point (two writers sharing an
 *   actor id make "duplicate seq" changes that no replica can merge any more — answered here as
 *   `conflict`). Use one actor per writer that serialises its writes to a document (a node, or
 *   a vnode); `actor` is any 1–32 byte string and is hex-encoded for Automerge;
 * - read-only loads use a fixed actor, so no randomness is drawn and no change is ever made.
 *
 * Limits: document bytes ≤ `docBytesMax` (before and after a change: Automerge keeps its whole
 * history, so a document that reached the limit takes no more writes — a deliberate ceiling),
 * path depth ≤ `pathDepthMax`, segments ≤ `segmentBytesMax` bytes, values as register values
 * (limits.ts: depth 8, 256 elements, 4 KiB strings).
 */
import * as A from '@automerge/automerge';
import { valueProblem } from './plain.js';
import type { Plain } from './plain.js';
import { crdtLimits } from './limits.js';
import { stringProblem } from './text.js';

export type Json = Plain;

export const metadataLimits = Object.freeze({
  /** Bytes of one saved document. */
  docBytesMax: 64 * 1024,
  /** Segments of one path. */
  pathDepthMax: 16,
  /** UTF-8 bytes of one path segment. */
  segmentBytesMax: 128,
  /** UTF-8 bytes of an actor name (hex-encoded for Automerge). */
  actorBytesMax: 32,
});

export type MetadataErrorCode = 'malformed' | 'too-large' | 'path' | 'value' | 'actor' | 'conflict';

/** Why a metadata call was refused. Returned inside a `MetadataResult`, never thrown. */
export class MetadataError extends Error {
  override name = 'MetadataError';
  constructor(
    readonly code: MetadataErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type MetadataResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: MetadataError };

type Doc = A.Doc<Record<string, unknown>>;

const readerActor = '00';
/**
 * Writes stop at `docBytesMax`, but a merge of two documents under it may pass it, and a merge
 * must not fail (replicas would diverge for good): loads and merges accept `wireSlack` times more.
 */
const loadBytesMax = metadataLimits.docBytesMax * crdtLimits.wireSlack;
const fail = (code: MetadataErrorCode, message: string): { ok: false; error: MetadataError } => ({ ok: false, error: new MetadataError(code, message) });

function pathProblem(path: unknown, min: number): string | undefined {
  if (!Array.isArray(path)) return 'path is not an array of strings';
  if (path.length < min || path.length > metadataLimits.pathDepthMax) return `path has ${path.length} segments, not ${min} to ${metadataLimits.pathDepthMax}`;
  for (const seg of path) {
    if (typeof seg !== 'string' || seg.length === 0) return 'path segment is not a non-empty string';
    if (seg === '__proto__') return 'path segment __proto__ is reserved';
    const p = stringProblem(seg, metadataLimits.segmentBytesMax);
    if (p !== undefined) return `path segment: ${p}`;
  }
  return undefined;
}

/** The Automerge actor id (hex of the UTF-8 bytes) of an actor name, or undefined if invalid. */
function actorHex(actor: unknown): string | undefined {
  if (typeof actor !== 'string' || actor.length === 0 || stringProblem(actor, metadataLimits.actorBytesMax) !== undefined) return undefined;
  let hex = '';
  for (const b of new TextEncoder().encode(actor)) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** Loads `bytes` (undefined = a new empty document) with `actor`; never throws. */
function load(bytes: Uint8Array | undefined, actor: string): MetadataResult<Doc> {
  try {
    if (bytes === undefined) return { ok: true, value: A.init<Record<string, unknown>>({ actor }) };
    if (!(bytes instanceof Uint8Array)) return fail('malformed', 'document is not bytes');
    if (bytes.length > loadBytesMax) return fail('too-large', `document of ${bytes.length} bytes is larger than ${loadBytesMax}`);
    return { ok: true, value: A.load<Record<string, unknown>>(bytes, { actor }) };
  } catch (e) {
    return fail('malformed', `document does not load: ${e instanceof Error ? e.message : 'unknown error'}`);
  }
}

function save(doc: Doc, bytesMax: number): MetadataResult<Uint8Array> {
  const bytes = A.save(doc);
  if (bytes.length > bytesMax) return fail('too-large', `document would grow to ${bytes.length} bytes, more than ${bytesMax}`);
  return { ok: true, value: bytes };
}

/** A JSON value as Automerge should store it: strings as `ImmutableString`, recursively. */
function toAutomerge(v: Json): unknown {
  if (typeof v === 'string') return new A.ImmutableString(v);
  if (Array.isArray(v)) return v.map(toAutomerge);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toAutomerge(x)]));
  return v;
}

function isMap(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !A.isImmutableString(x) && !(x instanceof A.Counter) && !(x instanceof Date) && !(x instanceof Uint8Array);
}

const readDepthMax = metadataLimits.pathDepthMax + 16;

/** An Automerge value as JSON; throws on types we never write (a foreign or hostile document). */
function fromAutomerge(x: unknown, depth: number): Json {
  if (depth > readDepthMax) throw new MetadataError('malformed', 'document is nested too deeply');
  if (x === null || typeof x === 'boolean' || typeof x === 'string') return x;
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) throw new MetadataError('malformed', 'document holds a number that is not finite');
    return x;
  }
  if (A.isImmutableString(x)) return x.val;
  if (x instanceof A.Counter) return x.value;
  if (Array.isArray(x)) return x.map((v: unknown) => fromAutomerge(v, depth + 1));
  if (isMap(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, fromAutomerge(v, depth + 1)]));
  throw new MetadataError('malformed', 'document holds a value that is not JSON');
}

function caught(e: unknown): { ok: false; error: MetadataError } {
  if (e instanceof MetadataError) return { ok: false, error: e };
  const message = e instanceof Error ? e.message : 'unknown error';
  return fail(/duplicate seq/.test(message) ? 'conflict' : 'malformed', `automerge: ${message}`);
}

/** Writes `value` at `path` as `actor`; answers the new document bytes. */
export function setPath(doc: Uint8Array | undefined, path: readonly string[], value: Json, actor: string): MetadataResult<Uint8Array> {
  const pp = pathProblem(path, 1);
  if (pp !== undefined) return fail('path', pp);
  const vp = valueProblem(value, 'plain');
  if (vp !== undefined) return fail('value', vp);
  const hex = actorHex(actor);
  if (hex === undefined) return fail('actor', `actor is not a string of 1 to ${metadataLimits.actorBytesMax} bytes`);
  const loaded = load(doc, hex);
  if (!loaded.ok) return loaded;
  try {
    const next = A.change(loaded.value, (d) => {
      let node: Record<string, unknown> = d;
      for (const seg of path.slice(0, -1)) {
        if (!isMap(node[seg])) node[seg] = {};
        node = node[seg] as Record<string, unknown>;
      }
      node[path[path.length - 1] as string] = toAutomerge(value);
    });
    return save(next, metadataLimits.docBytesMax);
  } catch (e) {
    return caught(e);
  }
}

/** Follows `path` from the root of `d`; undefined when a segment is missing or not a map. */
function walk(d: Record<string, unknown>, path: readonly string[]): unknown {
  let node: unknown = d;
  for (const seg of path) {
    if (!isMap(node) || !Object.hasOwn(node, seg)) return undefined;
    node = node[seg];
  }
  return node;
}

/** Removes the key at `path` as `actor`; a missing path answers the bytes unchanged. */
export function deletePath(doc: Uint8Array | undefined, path: readonly string[], actor: string): MetadataResult<Uint8Array> {
  const pp = pathProblem(path, 1);
  if (pp !== undefined) return fail('path', pp);
  const hex = actorHex(actor);
  if (hex === undefined) return fail('actor', `actor is not a string of 1 to ${metadataLimits.actorBytesMax} bytes`);
  const loaded = load(doc, hex);
  if (!loaded.ok) return loaded;
  try {
    const parent = walk(loaded.value, path.slice(0, -1));
    const last = path[path.length - 1] as string;
    if (!isMap(parent) || !Object.hasOwn(parent, last)) return doc === undefined ? save(loaded.value, loadBytesMax) : { ok: true, value: doc };
    const next = A.change(loaded.value, (d) => {
      delete (walk(d, path.slice(0, -1)) as Record<string, unknown>)[last];
    });
    return save(next, loadBytesMax);
  } catch (e) {
    return caught(e);
  }
}

/** The JSON value at `path` (`[]`: the whole document), or undefined when there is none. */
export function get(doc: Uint8Array | undefined, path: readonly string[]): MetadataResult<Json | undefined> {
  const pp = pathProblem(path, 0);
  if (pp !== undefined) return fail('path', pp);
  const loaded = load(doc, readerActor);
  if (!loaded.ok) return loaded;
  try {
    const v = walk(loaded.value, path);
    return { ok: true, value: v === undefined ? undefined : fromAutomerge(v, path.length) };
  } catch (e) {
    return caught(e);
  }
}

/** Both documents' changes, as bytes. */
export function merge(a: Uint8Array, b: Uint8Array): MetadataResult<Uint8Array> {
  const loaded = load(a, readerActor);
  if (!loaded.ok) return loaded;
  if (!(b instanceof Uint8Array)) return fail('malformed', 'document is not bytes');
  if (b.length > loadBytesMax) return fail('too-large', `document of ${b.length} bytes is larger than ${loadBytesMax}`);
  try {
    return save(A.loadIncremental(loaded.value, b), loadBytesMax);
  } catch (e) {
    return caught(e);
  }
}
