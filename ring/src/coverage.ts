/**
 * Coverage queries: list (or fold) a bucket by asking one vnode per partition — a covering set
 * of up owners, never a fallback (a fallback holds only what was written while an owner was
 * down) — with the filter running inside each vnode, in pages merged at the coordinator
 * (coverage-merge.ts).
 *
 * Choosing the vnodes: the ring's covering set (preflist.ts: greedy, fewest nodes) when the
 * bucket uses every replica; otherwise, or when the chosen owner is a new owner still receiving
 * its copy, the partition goes to another up owner among the bucket's that is complete. A
 * partition with no up owner fails the page with IncompleteCoverageError (naming how many
 * partitions cannot be seen) rather than answering from partial data. A vnode that fails to
 * answer is retried once on another up owner of its partition.
 *
 * Consistency: a list sees what the asked owner has committed. A key written with W < N may be
 * missing from a page until read repair, handoff or anti-entropy reaches that owner; a deleted
 * key is never listed (tombstones are skipped inside the vnode).
 */
import { QueryTimeoutError, type ActorRef } from '@shoal/actors';
import type { Random } from '@shoal/runtime';
import { record, type EntityRecord, type Plain } from '@shoal/crdt';
import type { BucketRegistry } from './buckets.js';
import type { RingConfig } from './config.js';
import { compareUtf8, decodeContinuation, encodeContinuation, mergePages, type VnodePage } from './coverage-merge.js';
import { IncompleteCoverageError, InvalidOperationError, NoQuorumError, NoRingError, QuorumTimeoutError } from './errors.js';
import { filterHooks, parseFilter, type PermitHooks } from './filter.js';
import { listPageMax } from './limits.js';
import { askHost, type FoldReply, type HostMessage, type VnodeCommand } from './messages.js';
import { coveringSet } from './preflist.js';
import type { Ring } from './ring.js';
import type { RingView } from './view.js';

export interface ListOptions {
  /** Items per page (default: the config's listPageDefault; at most listPageMax). */
  readonly limit?: number;
  /** The token of the previous page. */
  readonly continuation?: string;
  /** A filter (filter.ts), validated here. */
  readonly filter?: unknown;
  /** Return each record's plain value, not only its key. */
  readonly values?: boolean;
  readonly timeoutMs?: number;
}

export interface ListPage {
  readonly items: readonly { readonly key: string; readonly value?: Plain }[];
  /** Pass it back for the next page; absent when the list is complete. */
  readonly continuation?: string;
}

export interface CoverageDeps {
  readonly view: RingView;
  readonly buckets: BucketRegistry;
  readonly config: RingConfig;
  readonly hooks: PermitHooks;
  readonly random: Random;
  hostRef(node: string): ActorRef<HostMessage>;
}

/** For each partition, the up owners that may answer it, best first (module header). */
export function coverageCandidates(ring: Ring, isUp: (n: string) => boolean, n: number, receiving: (p: number) => readonly string[]): { perPartition: string[][]; uncovered: number[] } {
  const cover = n >= ring.replication ? coveringSet(ring, isUp) : undefined;
  const chosen = new Map<number, string>();
  for (const e of cover?.entries ?? []) for (const p of e.partitions) chosen.set(p, e.node);
  const perPartition: string[][] = [];
  const uncovered: number[] = [];
  for (let p = 0; p < ring.partitionCount; p++) {
    const incomplete = receiving(p);
    const owners = ring.owners[p]!.slice(0, n).filter((o) => isUp(o));
    const complete = owners.filter((o) => !incomplete.includes(o));
    const first = chosen.get(p);
    const ordered = [...(first !== undefined && complete.includes(first) ? [first] : []), ...complete.filter((o) => o !== first), ...owners.filter((o) => !complete.includes(o))];
    if (ordered.length === 0) uncovered.push(p);
    perPartition.push(ordered);
  }
  return { perPartition, uncovered };
}

export async function listBucket(deps: CoverageDeps, bucket: string, opts: ListOptions = {}): Promise<ListPage> {
  const spec = deps.buckets.resolve(bucket);
  const ring = deps.view.ring;
  if (!ring) throw new NoRingError('this node is not part of a cluster yet');
  const parsed = parseFilter(opts.filter);
  if (!parsed.ok) throw new InvalidOperationError(`invalid filter: ${parsed.reason}`);
  const unknown = filterHooks(parsed.filter).filter((h) => !deps.hooks.has(h));
  if (unknown.length > 0) throw new InvalidOperationError(`invalid filter: no permit hook ${JSON.stringify(unknown[0])} on this node`);
  const limit = Math.max(1, Math.min(opts.limit ?? deps.config.listPageDefault, listPageMax));
  const after = opts.continuation === undefined ? null : decodeContinuation(bucket, opts.continuation);
  const idx = deps.view.transferIndex;
  const { perPartition, uncovered } = coverageCandidates(ring, deps.view.isUp, Math.min(spec.n, ring.replication), (p) => idx?.targets.get(p) ?? []);
  if (uncovered.length > 0) throw new IncompleteCoverageError(uncovered, `${uncovered.length} of ${ring.partitionCount} partitions have no owner up; the list of ${bucket} would be incomplete`);
  const timeoutMs = opts.timeoutMs ?? deps.config.requestTimeoutMs;
  const values = opts.values === true;
  const cmd = { c: 'fold' as const, bucket, after, limit, filter: parsed.filter ?? null, values };
  const pages = await Promise.all(perPartition.map((nodes, p) => foldOne(deps, p, nodes, cmd, timeoutMs)));
  const merge = (a: Uint8Array, b: Uint8Array): Uint8Array => {
    const x = record.decode(spec.schema, a);
    const y = record.decode(spec.schema, b);
    return x.ok && y.ok ? record.encode(record.merge(x.value, y.value)) : a;
  };
  const page = mergePages<Uint8Array>(pages, limit, merge);
  const items = page.items.map((it) => {
    if (!values || it.value === undefined) return { key: it.key };
    const d = record.decode(spec.schema, it.value);
    const plain = d.ok ? record.toPlain(d.value as EntityRecord) : undefined;
    return plain === undefined ? { key: it.key } : { key: it.key, value: plain as Plain };
  });
  return page.after === undefined ? { items } : { items, continuation: encodeContinuation(bucket, page.after) };
}

async function foldOne(deps: CoverageDeps, p: number, nodes: readonly string[], cmd: VnodeCommand, timeoutMs: number): Promise<VnodePage<Uint8Array>> {
  let lastError: unknown;
  for (const node of nodes.slice(0, 2)) {
    try {
      const r = await askHost<FoldReply>(deps.hostRef(node), p, cmd, timeoutMs, deps.random);
      if (!r.ok) {
        lastError = new NoQuorumError(`${node} refused a list page: ${r.message}`);
        continue;
      }
      const items = r.items.map(([key, bytes]) => (bytes === null ? { key } : { key, value: bytes }));
      items.sort((a, b) => compareUtf8(a.key, b.key));
      return { items, scannedTo: r.scannedTo };
    } catch (err) {
      lastError = err;
    }
  }
  if (lastError instanceof QueryTimeoutError) throw new QuorumTimeoutError(`timeout: partition ${p} did not answer a list page in ${timeoutMs} ms`);
  throw lastError instanceof NoQuorumError ? lastError : new NoQuorumError(`no quorum: no owner of partition ${p} answered a list page (${String(lastError)})`);
}
