/**
 * Merging coverage pages: how one page of a list is assembled at the coordinator from the
 * pages of the vnodes of a covering set, and what the continuation token says.
 *
 * Order. A list is in key order (UTF-8 byte order, the storage order within a bucket), across
 * all partitions. Each vnode answers the keys after the continuation's key that pass the
 * filter, in order, and how far it scanned: `scannedTo` is the last key it looked at when it
 * stopped early (page full or scan budget spent), or null when it reached the end of the
 * bucket. Every key up to B = min(scannedTo) has been seen by every vnode, so the page is the
 * first `limit` matching keys ≤ B, and the next page starts after the last key given (or after
 * B when the page came out short because a selective filter spent a vnode's scan budget: a page
 * may then be short, even empty, and still carry a token). No token: the list is complete.
 *
 * Duplicates. A key lives in one partition, but a partition may be answered by two vnodes (a
 * retried page, or during a move), so equal keys are merged (`mergeValues`, a CRDT join at the
 * coordinator) and appear once.
 *
 * The token is opaque to clients: base64url of `{ v: 1, b: bucket, a: afterKey }`, checked on
 * the way back in (same bucket, size bound).
 */
import { InvalidContinuationError } from './errors.js';
import { continuationBytesMax } from './limits.js';

export interface PageItem<V> {
  readonly key: string;
  readonly value?: V;
}

export interface VnodePage<V> {
  /** Matching keys after the start key, ascending. */
  readonly items: readonly PageItem<V>[];
  /** The last key examined when the vnode stopped early; null when it reached the end. */
  readonly scannedTo: string | null;
}

export interface MergedPage<V> {
  readonly items: PageItem<V>[];
  /** Where the next page starts (exclusive), or undefined when the list is complete. */
  readonly after: string | undefined;
}

/** Compares strings by their UTF-8 bytes (code point order), the storage order. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++; // the low surrogate was part of this code point
  }
  return a.length - b.length;
}

/** Merges vnode pages into one page of at most `limit` items (module header). */
export function mergePages<V>(pages: readonly VnodePage<V>[], limit: number, mergeValues?: (a: V, b: V) => V): MergedPage<V> {
  let bound: string | null = null; // null: every vnode reached the end
  for (const p of pages) if (p.scannedTo !== null && (bound === null || compareUtf8(p.scannedTo, bound) < 0)) bound = p.scannedTo;
  const byKey = new Map<string, PageItem<V>>();
  for (const p of pages) {
    for (const item of p.items) {
      if (bound !== null && compareUtf8(item.key, bound) > 0) continue;
      const seen = byKey.get(item.key);
      if (seen === undefined) byKey.set(item.key, item);
      else if (mergeValues && seen.value !== undefined && item.value !== undefined) byKey.set(item.key, { key: item.key, value: mergeValues(seen.value, item.value) });
    }
  }
  const items = [...byKey.values()].sort((a, b) => compareUtf8(a.key, b.key));
  if (items.length > limit) {
    items.length = limit;
    return { items, after: items[limit - 1]!.key };
  }
  if (bound === null) return { items, after: undefined };
  return { items, after: items.length === limit ? items[limit - 1]!.key : bound };
}

interface TokenBody {
  v: 1;
  b: string;
  a: string;
}

export function encodeContinuation(bucket: string, after: string): string {
  const body: TokenBody = { v: 1, b: bucket, a: after };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** The key a token continues after; InvalidContinuationError if it is not a token of this bucket. */
export function decodeContinuation(bucket: string, token: string): string {
  if (typeof token !== 'string' || token.length === 0 || token.length > continuationBytesMax) throw new InvalidContinuationError('the continuation token is empty or too long');
  let body: Partial<TokenBody>;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
  } catch {
    throw new InvalidContinuationError('the continuation token is not one this service issued');
  }
  if (typeof body !== 'object' || body === null || body.v !== 1 || typeof body.a !== 'string') throw new InvalidContinuationError('the continuation token is not one this service issued');
  if (body.b !== bucket) throw new InvalidContinuationError(`the continuation token belongs to bucket ${JSON.stringify(body.b)}, not ${JSON.stringify(bucket)}`);
  return body.a;
}
