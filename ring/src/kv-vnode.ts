/**
 * The key/value vnode: Shoal's implementation of the vnode behaviour (vnode.ts) — the replica
 * of one partition's CRDT records on this node, in the node's one LMDB store.
 *
 * Storage layout (store `ring.data`, tuple keys, one store for every partition):
 *   [p, bucket, key]     → encoded record (crdt `record.encode`), canonical bytes
 *   [p, 0, bucket, key]  → 1: a write made while a handoff session runs (dirty, resent)
 *   [p, 1]               → meta: hints (owners this vnode stood in for) and session progress
 *   [p, 2]               → writer epoch { n: node incarnation, e }
 * Numbers sort before strings, so a record range [p, ''] … [p + 1] never sees the rest.
 *
 * Writers and dots (crdt: whoever mints dots must hold every dot it minted before). A vnode
 * mints with writer id `<node>/<p>.<e>`. It holds everything it minted because a write sits in
 * the overlay from the moment it is minted until it is durable, and merged state only grows —
 * except after a crash (an unflushed write may have escaped, through a read or through its own
 * replication, which starts before the local commit, while its own copy was lost) and after a
 * drop (the data left with handoff). So `e` moves on at the first start after a crash (the
 * node incarnation `n` changed: service.ts bumps it unless the last stop was clean) and at
 * every drop, and the new epoch is durable before the vnode takes a command. Contexts grow by
 * one writer per crash or drop of a coordinating vnode, not per restart.
 *
 * Writes: each is one atomic batch (record + dirty mark + meta when they change). Until it
 * commits, its bytes sit in an overlay that reads see, so the next write on the key (and its
 * dots) builds on it; a reply that depends on durability waits for the batch's promise.
 *
 * Coordinating a write (`write`): apply the operations to the local record with a fresh HLC
 * stamp (`applyUpdate` / `deleteRecord`), then persist it and hand the delta to `replicate`
 * (coordinator.ts) at once; the answer comes when the local copy is durable and W − 1 other
 * replicas acknowledged.
 *
 * The anti-entropy tree (hashtree.ts) and the tombstone index are kept in memory: updated on
 * every write, built from storage in bounded steps after start (`backgroundStep`), and rebuilt
 * the same way once they are `treeExpiryMs` old — beside the live ones, which every write keeps
 * updating, until the scan is done and the rebuilt pair replaces them (a rebuild that finds the
 * tree had drifted from storage says so).
 */
import { hlc as hlcOps, record, type EntityRecord, type Hlc, RecordDeletedError, type Plain } from '@shoal/crdt';
import { DamagedRecordError, type BatchOp, type Clock, type Key, type Logger, type Storage, type Store } from '@shoal/runtime';
import type { BucketRegistry, BucketSpec } from './buckets.js';
import { matches, type Filter, type PermitHooks } from './filter.js';
import { HashTree, keyHash } from './hashtree.js';
import { foldReplyBytesMax, foldScanMax, handoffBatchBytesMax, handoffBatchItemsMax, listPageMax } from './limits.js';
import { failure, skeyOf, splitSkey, type Ack, type Failure, type ReadReply, type RecordItem, type VnodeCommand, type WriteOp, type WriteReply } from './messages.js';
import type { DirtyMark, HandoffCursor, VnodeBehaviour } from './vnode.js';

/** What the coordinating vnode hands to the replication step. */
export interface ReplicateRequest {
  readonly partition: number;
  readonly bucket: string;
  readonly key: string;
  readonly delta: Uint8Array;
  readonly w: number;
  readonly n: number;
  readonly timeoutMs: number;
  /** The write's deadline (wall ms): the replication deltas carry it. */
  readonly deadline: number;
  /** The asking node when it merges the delta itself (messages.ts `write`). */
  readonly origin?: string;
}

export interface KvVnodeEnv {
  readonly self: string;
  readonly data: Store<unknown>;
  readonly storage: Storage;
  readonly buckets: BucketRegistry;
  readonly clock: Clock;
  readonly log: Logger;
  readonly hooks: PermitHooks;
  /** This process's node incarnation (bumped after an unclean stop). */
  readonly incarnation: number;
  /** The node part of writer ids (the node name, or a hash of a long one). */
  readonly writerBase: string;
  readonly buildRecordsPerStep: number;
  /** Age at which the tree is rebuilt from storage, ms (config.ts `aaeTreeExpiryMs`). */
  readonly treeExpiryMs: number;
  /** Commands arriving later than their deadline plus this are refused (messages.ts). */
  readonly clockSkewMaxMs: number;
  replicate(req: ReplicateRequest): Promise<WriteReply>;
}

interface Meta {
  hints: string[];
  session: { targets: string[]; cursor: HandoffCursor | null } | null;
}

interface Overlay {
  bytes: Uint8Array;
  pending: number;
  durable: Promise<void>;
}

type Mode = 'active' | 'dropping' | 'dropped';

/** Tombstones held: storage key → hash and deletion wall time. */
type Tombs = Map<string, { hash: number; wallMs: number }>;

/** The store the vnodes keep their records in (service.ts opens it; damage reports name it). */
export const dataStoreName = 'ring.data';

const resolved = Promise.resolve();
/** What `bookkeeping` reads for a record that does not decode. */
const unreadable: unique symbol = Symbol('unreadable');

function isFailure(x: Uint8Array | EntityRecord | undefined | Failure): x is Failure {
  return x !== undefined && (x as { ok?: unknown }).ok === false;
}

/** A key's hash (undefined: gone) into a tree, and its tombstone (if its record is one) into a tombstone index. */
function noteIn(tree: HashTree, tombs: Tombs, skey: string, hash: number | undefined, rec: EntityRecord | undefined): void {
  tree.set(skey, hash);
  const at = hash !== undefined && rec ? record.deletedAt(rec) : undefined;
  if (at) tombs.set(skey, { hash: hash!, wallMs: at.wallMs });
  else tombs.delete(skey);
}

/** What a stored value that is not record bytes is, for the damage report. */
function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function metaOf(x: unknown): Meta {
  const m = (typeof x === 'object' && x !== null ? x : {}) as Partial<Meta>;
  return { hints: Array.isArray(m.hints) ? m.hints.filter((h) => typeof h === 'string') : [], session: m.session ?? null };
}

export class KvVnode implements VnodeBehaviour {
  readonly ready: Promise<void>;
  isReady = false;
  readonly writer: string;
  private clockState: Hlc;
  private mode: Mode = 'active';
  private readonly overlay = new Map<string, Overlay>();
  private tree = new HashTree();
  private treeReady = false;
  private buildAfter: Key | null = null;
  /** Tombstones held: storage key → hash and deletion wall time. */
  private tombs: Tombs = new Map();
  /** When the tree was last complete (built or rebuilt), wall ms. */
  private treeBuiltAtMs = 0;
  /** A rebuild from storage in progress: every write updates it too; it replaces tree and tombs when its scan is done. */
  private rebuild: { readonly tree: HashTree; readonly tombs: Tombs; after: Key | null } | undefined;
  /** Rebuilds that found the tree had drifted from storage. */
  treeDrifts = 0;
  private meta: Meta;
  /** Keys written since the handoff session began (→ version), or undefined when none runs. */
  private dirty: Map<string, number> | undefined;
  private dirtyVersion = 0;
  private epoch: number;
  /** Stored records found damaged (logged each time). */
  damagedSeen = 0;

  constructor(
    readonly partition: number,
    private readonly env: KvVnodeEnv,
  ) {
    const p = partition;
    const meta = this.bookkeeping([p, 1], 'hints and handoff progress', 'hinted data goes back to its primaries by anti-entropy instead');
    this.meta = metaOf(meta === unreadable ? undefined : meta);
    const stored = this.bookkeeping([p, 2], 'writer epoch', 'it takes a new epoch from the wall clock, above any counted one');
    const w = stored === unreadable ? undefined : (stored as { n?: number; e?: number } | undefined);
    const reuse = w !== undefined && w.n === env.incarnation && Number.isSafeInteger(w.e);
    // A writer epoch must never be used twice (its dots would collide); when the stored one is
    // lost, the wall clock in ms is far above any epoch counted up from 1.
    this.epoch = reuse ? (w.e as number) : stored === unreadable ? Math.max(1, Math.floor(env.clock.wallMs())) : (w?.e ?? 0) + 1;
    this.writer = `${env.writerBase}/${p}.${this.epoch}`;
    this.clockState = hlcOps.hlcZero(this.writer);
    if (this.meta.session !== null) this.dirty = this.loadDirty();
    this.ready = reuse ? resolved : env.data.put([p, 2], { n: env.incarnation, e: this.epoch });
    void this.ready.then(() => {
      this.isReady = true;
    });
  }

  /**
   * One of the partition's bookkeeping records ([p, 1], [p, 2]); a damaged one is logged and
   * counted and read as `unreadable`, so the partition starts without it (`instead` says what makes
   * up for it) rather than failing at every restart. It is rewritten at the next update.
   */
  private bookkeeping(key: Key, what: string, instead: string): unknown {
    try {
      return this.env.data.get(key);
    } catch (err) {
      if (!(err instanceof DamagedRecordError)) throw err;
      this.damagedSeen++;
      this.env.log.error(`damaged ${what}: the partition starts without it`, { partition: this.partition, instead, err: err.message });
      return unreadable;
    }
  }

  // ── reading and writing ─────────────────────────────────────────────────

  private read(bucket: string, key: string): Uint8Array | undefined {
    const o = this.overlay.get(skeyOf(bucket, key));
    if (o) return o.bytes;
    const v = this.env.data.get([this.partition, bucket, key]);
    if (v === undefined || v instanceof Uint8Array) return v;
    // A value that decodes but is no record's bytes is damage like one that does not decode,
    // never "absent": a write would start from an empty record and overwrite it.
    throw this.notARecord(bucket, key, `it holds ${kindOf(v)}`);
  }

  /** The damage report of a stored value that decodes (msgpack) but is not a record. */
  private notARecord(bucket: string, key: string, what: string): DamagedRecordError {
    return new DamagedRecordError(dataStoreName, [this.partition, bucket, key], `${what}, not a record`);
  }

  /**
   * The record in a key's stored bytes, or the failure that they are damaged: bytes that are not
   * a record of the bucket are handled as a value that does not decode (`damaged`).
   */
  private decodeStored(spec: BucketSpec, bucket: string, key: string, bytes: Uint8Array, where: string): EntityRecord | Failure {
    const r = record.decode(spec.schema, bytes);
    return r.ok ? r.value : this.damaged(this.notARecord(bucket, key, `its bytes are no valid ${spec.schema.name} record (${r.error.message})`), where);
  }

  /**
   * A value a scan met: its record; `unjudged` for bytes of a bucket this node does not know; or
   * undefined for damage (not bytes, or not a record of the bucket), logged and counted, which
   * scans skip as they skip a value that does not decode.
   */
  private scannedRecord(bucket: string, key: string, value: unknown, where: string): EntityRecord | 'unjudged' | undefined {
    if (!(value instanceof Uint8Array)) return void this.damaged(this.notARecord(bucket, key, `it holds ${kindOf(value)}`), where);
    const spec = this.env.buckets.tryResolve(bucket);
    if (spec === undefined) return 'unjudged';
    const r = this.decodeStored(spec, bucket, key, value, where);
    return isFailure(r) ? undefined : r;
  }

  /** A key's bytes when they are a sound record, for a peer (null: none, or damaged: logged). */
  private soundBytes(bucket: string, key: string, where: string): Uint8Array | null {
    const bytes = this.readChecked(bucket, key, where);
    if (bytes === undefined || isFailure(bytes)) return null;
    const spec = this.env.buckets.tryResolve(bucket);
    // A bucket this node does not know cannot be judged: sent as it is (its receiver refuses it).
    return spec === undefined || !isFailure(this.decodeStored(spec, bucket, key, bytes, where)) ? bytes : null;
  }

  /**
   * A stored record that does not decode (damage on disk: storage.ts), or decodes but is no
   * record (`notARecord`), is logged and counted, and answered as a failure for that key; it is
   * never overwritten or dropped from here, so an operator can inspect it. Scans skip it.
   */
  private damaged(err: DamagedRecordError, where: string): Failure {
    this.damagedSeen++;
    this.env.log.error('damaged record', { partition: this.partition, key: err.key, where, err: err.message });
    return failure('refused', `${err.message} on node ${this.env.self}; it is left as it is for inspection`);
  }

  /** The bytes of a key, or the failure that its stored record is damaged. */
  private readChecked(bucket: string, key: string, where: string): Uint8Array | undefined | Failure {
    try {
      return this.read(bucket, key);
    } catch (err) {
      if (err instanceof DamagedRecordError) return this.damaged(err, where);
      throw err;
    }
  }

  private decode(spec: BucketSpec, bytes: Uint8Array, where: string): EntityRecord | undefined {
    const r = record.decode(spec.schema, bytes);
    if (r.ok) return r.value;
    this.env.log.error('undecodable record', { partition: this.partition, bucket: spec.name, where, err: r.error.message });
    return undefined;
  }

  /** Updates the tree and the tombstone index (and a rebuild's) for a key's new bytes (undefined: gone). */
  private note(skey: string, bytes: Uint8Array | undefined, rec: EntityRecord | undefined): void {
    const hash = bytes === undefined ? undefined : keyHash(skey, bytes);
    noteIn(this.tree, this.tombs, skey, hash, rec);
    if (this.rebuild) noteIn(this.rebuild.tree, this.rebuild.tombs, skey, hash, rec);
  }

  /** One atomic write of a record (plus dirty mark and `extra`); resolves when durable. */
  private write(bucket: string, key: string, bytes: Uint8Array, rec: EntityRecord | undefined, extra: BatchOp<unknown>[] = []): Promise<void> {
    const p = this.partition;
    const skey = skeyOf(bucket, key);
    const ops: BatchOp<unknown>[] = [{ op: 'put', key: [p, bucket, key], value: bytes }];
    for (const x of extra) ops.push(x);
    if (this.dirty) {
      this.dirty.set(skey, ++this.dirtyVersion);
      ops.push({ op: 'put', key: [p, 0, bucket, key], value: 1 });
    }
    this.note(skey, bytes, rec);
    let entry = this.overlay.get(skey);
    if (!entry) this.overlay.set(skey, (entry = { bytes, pending: 0, durable: resolved }));
    entry.bytes = bytes;
    entry.pending++;
    const e = entry;
    const done = this.env.data.batch(ops).then(() => {
      e.pending--;
      if (e.pending === 0 && this.overlay.get(skey) === e) this.overlay.delete(skey);
    });
    e.durable = done;
    return done;
  }

  private durableOf(bucket: string, key: string): Promise<void> {
    return this.overlay.get(skeyOf(bucket, key))?.durable ?? resolved;
  }

  /** Meta ops for a hint (the owner a fallback write stood in for), if new. */
  private hintOps(standsFor: string | undefined): BatchOp<unknown>[] {
    if (standsFor === undefined || this.meta.hints.includes(standsFor)) return [];
    this.meta = { ...this.meta, hints: [...this.meta.hints, standsFor].sort() };
    return [{ op: 'put', key: [this.partition, 1], value: this.meta }];
  }

  /** Merges `incoming` into the local record; resolves (with a Failure if refused) when durable. */
  private mergeIn(bucket: string, key: string, incoming: Uint8Array, standsFor?: string): Promise<Failure | undefined> {
    if (this.mode !== 'active') return Promise.resolve(failure('refused', `partition ${this.partition} is being handed off from ${this.env.self}`));
    const spec = this.env.buckets.tryResolve(bucket);
    if (!spec) return Promise.resolve(failure('unknown-bucket', `node ${this.env.self} has no bucket ${JSON.stringify(bucket)}`));
    const inc = this.decode(spec, incoming, 'incoming');
    if (!inc) return Promise.resolve(failure('invalid-operation', `the record for ${bucket}/${key} could not be decoded`));
    const curBytes = this.readChecked(bucket, key, 'merge');
    if (isFailure(curBytes)) return Promise.resolve(curBytes);
    const cur = curBytes ? this.decodeStored(spec, bucket, key, curBytes, 'merge') : undefined;
    if (isFailure(cur)) return Promise.resolve(cur);
    let merged: EntityRecord;
    try {
      merged = cur ? record.merge(cur, inc) : inc;
    } catch (err) {
      return Promise.resolve(failure('invalid-operation', `cannot merge ${bucket}/${key}: ${String(err)}`));
    }
    const hint = this.hintOps(standsFor);
    if (cur && merged === cur && record.isDeleted(cur) && !record.isDeleted(inc)) this.absorbed(skeyOf(bucket, key));
    if (merged === cur && hint.length === 0) return this.durableOf(bucket, key).then(() => undefined);
    // Unchanged bytes are reused: the local ones if the merge kept the local record, the
    // incoming ones if it is the incoming record (decode accepts only canonical encodings).
    const bytes = merged === cur && curBytes ? curBytes : merged === inc ? incoming : record.encode(merged);
    return this.write(bucket, key, bytes, merged, hint).then(() => undefined);
  }

  private nextStamp(): Hlc {
    this.clockState = hlcOps.tick(this.clockState, Math.floor(this.env.clock.wallMs()));
    return this.clockState;
  }

  /**
   * A read answered at once, outside the vnode's mailbox (host.ts `readLocal`): a get is
   * synchronous and changes nothing, and what it sees — the overlay of uncommitted writes, then
   * storage — is what a get through the mailbox would see at this point of the turn.
   */
  readNow(bucket: string, key: string): ReadReply {
    if (this.mode !== 'active') return { ok: true, bytes: null, absent: true };
    const bytes = this.readChecked(bucket, key, 'get');
    return isFailure(bytes) ? bytes : { ok: true, bytes: bytes ?? null };
  }

  // ── commands ─────────────────────────────────────────────────────────────

  handleCommand(cmd: VnodeCommand, reply: (r: unknown) => void): void {
    const ack = (f: Failure | undefined): void => reply(f ?? { ok: true });
    const fail = (err: unknown): void => reply(failure('refused', `vnode ${this.partition} on ${this.env.self} failed: ${String(err)}`));
    if ((cmd.c === 'merge' || cmd.c === 'write' || cmd.c === 'handoff') && this.env.clock.wallMs() > cmd.deadline + this.env.clockSkewMaxMs) {
      return reply(failure('timeout', `a ${cmd.c} command reached ${this.env.self} after its deadline; refused`));
    }
    switch (cmd.c) {
      case 'get':
        return reply(this.readNow(cmd.bucket, cmd.key));
      case 'merge':
        return void this.mergeIn(cmd.bucket, cmd.key, cmd.bytes, cmd.standsFor).then(ack, fail);
      case 'write':
        return this.coordinate(cmd.bucket, cmd.key, cmd.op, cmd, reply);
      case 'fold':
        return reply(this.fold(cmd.bucket, cmd.after, cmd.limit, cmd.filter ?? undefined, cmd.values));
      case 'handoff':
        return void this.receive(cmd.items).then(ack, fail);
      case 'aae-tree':
        return reply({ ok: true, ready: this.treeReady && this.mode === 'active', segments: Array.from(this.tree.segments) });
      case 'aae-keys':
        return reply({ ok: true, keys: this.tree.keyHashes(cmd.segments) });
      case 'aae-fetch':
        return reply({ ok: true, records: cmd.skeys.map((sk) => [sk, this.mode === 'active' ? this.soundBytes(...splitSkey(sk), 'aae-fetch') : null]) });
      case 'reap-check':
        return reply({ ok: true, held: cmd.keys.filter(([sk, h]) => this.tombs.get(sk)?.hash === h && !this.overlay.has(sk)).map(([sk]) => sk) });
      case 'reap':
        return void this.reap(cmd.keys).then(ack, fail);
    }
  }

  private coordinate(bucket: string, key: string, op: WriteOp, req: { readonly w: number; readonly n: number; readonly timeoutMs: number; readonly deadline: number; readonly standsFor?: string; readonly origin?: string }, reply: (r: WriteReply) => void): void {
    if (this.mode !== 'active') return reply(failure('refused', `partition ${this.partition} is being handed off from ${this.env.self}`));
    const spec = this.env.buckets.tryResolve(bucket);
    if (!spec) return reply(failure('unknown-bucket', `there is no bucket ${JSON.stringify(bucket)}`));
    const curBytes = this.readChecked(bucket, key, 'write');
    if (isFailure(curBytes)) return reply(curBytes);
    const cur = curBytes ? this.decodeStored(spec, bucket, key, curBytes, 'write') : record.empty(spec.schema);
    if (isFailure(cur)) return reply(cur);
    let result: { record: EntityRecord; delta: EntityRecord };
    try {
      result = op.kind === 'delete' ? record.deleteRecord(cur, { stamp: this.nextStamp() }) : record.applyUpdate(cur, op.ops as never, { stamp: this.nextStamp() });
    } catch (err) {
      if (err instanceof RecordDeletedError) return reply(failure('deleted', `${bucket}/${key} was deleted; a deleted key cannot be written again until its tombstone is reaped`));
      return reply(failure('invalid-operation', `${bucket}/${key}: ${err instanceof Error ? err.message : String(err)}`));
    }
    const bytes = result.record === cur && curBytes ? curBytes : record.encode(result.record);
    // A key this vnode has no record of: the new record is the delta's size and a state is
    // always a valid delta (merging it gives the state after the operation), so it is encoded
    // once and sent as it is.
    const delta = curBytes === undefined ? bytes : record.encode(result.delta);
    // The local write and the replication run at once (one commit cycle of latency, not two);
    // the answer waits for both: this vnode's own copy durable, and W − 1 other acknowledgements
    // (W − 2 when the asking node keeps its own copy: coordinator.ts `replicate`).
    // Sending the delta before the local commit is safe for dots: until the commit, the overlay
    // holds what this vnode minted, and a crash moves the writer epoch on (header).
    const local = this.write(bucket, key, bytes, result.record, this.hintOps(req.standsFor));
    const remote = this.env.replicate({ partition: this.partition, bucket, key, delta, w: req.w, n: req.n, timeoutMs: req.timeoutMs, deadline: req.deadline, origin: req.origin });
    Promise.all([local, remote]).then(
      ([, r]) => reply(r),
      (err: unknown) => reply(failure('refused', `write of ${bucket}/${key} failed on ${this.env.self}: ${String(err)}`)),
    );
  }

  private fold(bucket: string, after: string | null, limitAsked: number, filter: Filter | undefined, values: boolean): unknown {
    if (this.mode !== 'active') return { ok: true, items: [], scannedTo: null };
    const spec = this.env.buckets.tryResolve(bucket);
    if (!spec) return { ok: true, items: [], scannedTo: null };
    const p = this.partition;
    const limit = Math.max(1, Math.min(limitAsked, listPageMax));
    const start: Key = after === null ? [p, bucket] : [p, bucket, after];
    const items: [string, Uint8Array | null][] = [];
    let scanned = 0;
    let bytes = 0;
    let previous: string | null = after;
    for (const { key: k, value } of this.env.data.range({ start, end: [p, `${bucket} `], limit: foldScanMax + 1, onDamaged: (err) => void this.damaged(err, 'fold') })) {
      const key = k[2];
      if (typeof key !== 'string' || k[1] !== bucket || key === after) continue;
      scanned++;
      const rec = this.scannedRecord(bucket, key, value, 'fold'); // never unjudged: `spec` is the bucket's
      const plain = rec !== undefined && rec !== 'unjudged' ? record.toPlain(rec) : undefined;
      if (plain !== undefined && matches(filter, key, plain as Plain, this.env.hooks)) {
        // A record that would take the answer past the byte bound waits for the next page
        // (unless it is the first: a page always makes progress, and a record is ≤ 1 MiB).
        const b = value as Uint8Array; // a record was decoded from it
        if (values && items.length > 0 && bytes + b.byteLength > foldReplyBytesMax) return { ok: true, items, scannedTo: previous };
        items.push([key, values ? b : null]);
        if (values) bytes += b.byteLength;
      }
      if (items.length >= limit || scanned >= foldScanMax) return { ok: true, items, scannedTo: key };
      previous = key;
    }
    return { ok: true, items, scannedTo: null };
  }

  /** Handoff data from another node: merge each record; resolves when all are durable. */
  private async receive(items: readonly RecordItem[]): Promise<Failure | undefined> {
    const results = await Promise.all(items.map(([bucket, key, bytes]) => this.mergeIn(bucket, key, bytes)));
    return results.find((r) => r !== undefined);
  }

  private async reap(keys: readonly (readonly [string, number])[]): Promise<undefined> {
    const p = this.partition;
    const ops: BatchOp<unknown>[] = [];
    for (const [sk, h] of keys) {
      if (this.tombs.get(sk)?.hash !== h || this.overlay.has(sk) || this.mode !== 'active') continue;
      const [bucket, key] = splitSkey(sk);
      ops.push({ op: 'delete', key: [p, bucket, key] });
      this.note(sk, undefined, undefined);
    }
    if (ops.length > 0) await this.env.data.batch(ops);
    return undefined;
  }

  /** A live copy merged into a tombstone: the tombstone's reaping clock starts again (reaper.ts). */
  private absorbed(skey: string): void {
    const t = this.tombs.get(skey);
    if (t) this.tombs.set(skey, { hash: t.hash, wallMs: Math.max(t.wallMs, Math.floor(this.env.clock.wallMs())) });
  }

  /** Tombstones older than `beforeWallMs`, at most `max` (the reaper's candidates). */
  oldTombstones(beforeWallMs: number, max: number): [string, number][] {
    const out: [string, number][] = [];
    // Not while the tree is built or rebuilt: a reap's delete is not in the overlay, so a scan
    // step between its note and its commit would put the key back into the new tree.
    if (!this.treeReady || this.rebuild !== undefined) return out;
    for (const [sk, t] of this.tombs) {
      if (t.wallMs < beforeWallMs && !this.overlay.has(sk)) out.push([sk, t.hash]);
      if (out.length >= max) break;
    }
    return out;
  }

  get treeIsReady(): boolean {
    return this.treeReady;
  }

  get recordsCount(): number {
    return this.tree.size;
  }

  // ── background: building the anti-entropy tree ──────────────────────────

  /**
   * This vnode's tree lifetime, ms: `treeExpiryMs` stretched by up to half by partition number,
   * so that the vnodes of a node (built together at its start) do not all rebuild, and hold two
   * trees, at once.
   */
  get treeLifetimeMs(): number {
    return this.env.treeExpiryMs * (1 + (this.partition % 16) / 32);
  }

  /** Whether `backgroundStep` has work: the first build, or a rebuild due or running. */
  get wantsBackgroundStep(): boolean {
    if (this.mode !== 'active') return false;
    return !this.treeReady || this.rebuild !== undefined || this.env.clock.wallMs() - this.treeBuiltAtMs >= this.treeLifetimeMs;
  }

  backgroundStep(): void {
    if (this.mode !== 'active') return;
    if (!this.treeReady) {
      const r = this.scanStep(this.buildAfter, this.tree, this.tombs);
      if (r.done) {
        this.treeReady = true;
        this.treeBuiltAtMs = this.env.clock.wallMs();
      } else this.buildAfter = r.last;
      return;
    }
    if (this.rebuild === undefined) {
      if (this.env.clock.wallMs() - this.treeBuiltAtMs < this.treeLifetimeMs) return;
      this.rebuild = { tree: new HashTree(), tombs: new Map(), after: null };
    }
    const r = this.scanStep(this.rebuild.after, this.rebuild.tree, this.rebuild.tombs);
    if (r.done) this.finishRebuild();
    else this.rebuild.after = r.last;
  }

  /**
   * Reads up to `buildRecordsPerStep` stored records after `after` into `tree` and `tombs`.
   * Keys with a write still committing are skipped: their newest bytes are already in (`note`).
   */
  private scanStep(after: Key | null, tree: HashTree, tombs: Tombs): { done: boolean; last: Key | null } {
    const p = this.partition;
    const max = this.env.buildRecordsPerStep;
    let seen = 0;
    let last: Key | null = null;
    for (const { key: k, value } of this.env.data.range({ start: after ?? [p, ''], end: [p + 1], limit: max + 1, onDamaged: (err) => void this.damaged(err, 'build') })) {
      if (after && k.length === after.length && k.every((x, i) => x === after[i])) continue;
      if (typeof k[1] !== 'string' || typeof k[2] !== 'string') continue;
      last = k;
      seen++;
      const skey = skeyOf(k[1], k[2]);
      if (!this.overlay.has(skey)) this.noteScanned(k[1], k[2], skey, value, tree, tombs);
      if (seen >= max) break;
    }
    return { done: seen < max, last };
  }

  /** The rebuilt tree replaces the live one; if they differ, the live one had drifted from storage (logged, counted). */
  private finishRebuild(): void {
    const rebuilt = this.rebuild!;
    let differ = 0;
    for (let i = 0; i < rebuilt.tree.segments.length; i++) if (rebuilt.tree.segments[i] !== this.tree.segments[i]) differ++;
    const fields = { partition: this.partition, records: rebuilt.tree.size, before: this.tree.size, segmentsDiffering: differ };
    if (differ > 0) {
      this.treeDrifts++;
      this.env.log.warn('anti-entropy tree had drifted from storage; replaced by the rebuilt one', fields);
    } else this.env.log.debug('anti-entropy tree rebuilt', fields);
    // A tombstone's reaping clock restarted by an absorbed live copy (`absorbed`) is a fact the
    // record does not hold: carried over for the same bytes.
    for (const [sk, t] of rebuilt.tombs) {
      const old = this.tombs.get(sk);
      if (old !== undefined && old.hash === t.hash && old.wallMs > t.wallMs) rebuilt.tombs.set(sk, old);
    }
    this.tree = rebuilt.tree;
    this.tombs = rebuilt.tombs;
    this.rebuild = undefined;
    this.treeBuiltAtMs = this.env.clock.wallMs();
  }

  /** A stored record into a tree; a damaged one stays out of it, as one that does not decode. */
  private noteScanned(bucket: string, key: string, skey: string, value: unknown, tree: HashTree, tombs: Tombs): void {
    const rec = this.scannedRecord(bucket, key, value, 'build');
    if (rec !== undefined) noteIn(tree, tombs, skey, keyHash(skey, value as Uint8Array), rec === 'unjudged' ? undefined : rec);
  }

  // ── handoff (sending side) ──────────────────────────────────────────────

  isEmpty(): boolean {
    if (this.overlay.size > 0) return false;
    const p = this.partition;
    // A damaged value is still something the partition holds (the scan would throw on it).
    let damaged = false;
    for (const _ of this.env.data.range({ start: [p, ''], end: [p + 1], limit: 1, onDamaged: () => void (damaged = true) })) return false;
    return !damaged;
  }

  hints(): readonly string[] {
    return this.meta.hints;
  }

  get sessionTargets(): readonly string[] | undefined {
    return this.meta.session?.targets;
  }

  private loadDirty(): Map<string, number> {
    const p = this.partition;
    const dirty = new Map<string, number>();
    // A mark's key is all it says (a damaged value still names its key: it stays dirty).
    const mark = (k: Key): void => {
      if (typeof k[2] === 'string' && typeof k[3] === 'string') dirty.set(skeyOf(k[2], k[3]), ++this.dirtyVersion);
    };
    for (const { key: k } of this.env.data.range({ start: [p, 0], end: [p, 1], onDamaged: (err) => mark(err.key) })) mark(k);
    return dirty;
  }

  handoffStarting(targets: readonly string[]): HandoffCursor | null {
    this.dirty ??= new Map();
    // Writes still committing are not in what the stream reads: resend them at the end. (The
    // marks are issued before any progress is, so a resumed session finds them.)
    const marks: BatchOp<unknown>[] = [];
    for (const skey of this.overlay.keys()) {
      this.dirty.set(skey, ++this.dirtyVersion);
      const [bucket, key] = splitSkey(skey);
      marks.push({ op: 'put', key: [this.partition, 0, bucket, key], value: 1 });
    }
    if (marks.length > 0) void this.env.data.batch(marks);
    const prev = this.meta.session;
    const cursor = prev && sameList(prev.targets, targets) ? prev.cursor : null;
    this.meta = { ...this.meta, session: { targets: [...targets], cursor } };
    void this.env.data.put([this.partition, 1], this.meta);
    return cursor;
  }

  handoffBatch(after: HandoffCursor | null, itemsMax: number): { items: RecordItem[]; next: HandoffCursor | null } {
    const max = Math.max(1, Math.min(itemsMax, handoffBatchItemsMax));
    const p = this.partition;
    const start: Key = after ? [p, after[0], after[1]] : [p, ''];
    const items: RecordItem[] = [];
    let bytes = 0;
    let scanned = 0;
    let last: HandoffCursor | null = null;
    // A damaged record cannot be handed off (it does not decode); it is logged and skipped, so one
    // bad value does not stop the partition's transfer. Its replicas elsewhere hold the record.
    for (const { key: k, value } of this.env.data.range({ start, end: [p + 1], limit: max + 1, onDamaged: (err) => void this.damaged(err, 'handoff') })) {
      scanned++;
      const [bucket, key] = [k[1], k[2]];
      if (typeof bucket !== 'string' || typeof key !== 'string') continue;
      if (after && bucket === after[0] && key === after[1]) continue;
      last = [bucket, key];
      // Damage is skipped like a value that does not decode: sent, its receiver would refuse the
      // whole batch at every retry. (An unknown bucket's bytes go: docs/ring.md, handoff stalls.)
      if (this.scannedRecord(bucket, key, value, 'handoff') === undefined) continue;
      const b = value as Uint8Array;
      items.push([bucket, key, b]);
      bytes += b.byteLength + bucket.length + key.length;
      if (items.length >= max || bytes >= handoffBatchBytesMax) return { items, next: [bucket, key] };
    }
    // Skipped values count towards the scan's limit: a scan that reached it is not the end of the
    // partition (ending here would drop what lies beyond), so the next batch goes on after it.
    return { items, next: scanned > max ? last : null };
  }

  handoffProgress(cursor: HandoffCursor): void {
    if (this.meta.session === null) return;
    this.meta = { ...this.meta, session: { ...this.meta.session, cursor } };
    void this.env.data.put([this.partition, 1], this.meta);
  }

  dirtyCount(): number {
    return this.dirty?.size ?? 0;
  }

  takeDirty(itemsMax: number): { items: RecordItem[]; marks: DirtyMark[] } {
    const items: RecordItem[] = [];
    const marks: DirtyMark[] = [];
    for (const [skey, version] of this.dirty ?? []) {
      if (marks.length >= itemsMax) break;
      marks.push({ skey, version });
      const [bucket, key] = splitSkey(skey);
      // A damaged record is skipped as the stream skips it (logged, counted); the mark is cleared.
      const bytes = this.soundBytes(bucket, key, 'handoff');
      if (bytes) items.push([bucket, key, bytes]);
    }
    return { items, marks };
  }

  clearDirty(marks: readonly DirtyMark[]): Promise<void> {
    const ops: BatchOp<unknown>[] = [];
    for (const { skey, version } of marks) {
      if (this.dirty?.get(skey) !== version) continue; // written again since: stays dirty
      this.dirty.delete(skey);
      const [bucket, key] = splitSkey(skey);
      ops.push({ op: 'delete', key: [this.partition, 0, bucket, key] });
    }
    return ops.length > 0 ? this.env.data.batch(ops) : resolved;
  }

  flushed(): Promise<void> {
    return this.env.storage.flushed();
  }

  handoffAbandoned(): Promise<void> {
    return this.handoffFinished(false);
  }

  async handoffFinished(drop: boolean): Promise<void> {
    this.dirty = undefined;
    if (!drop) {
      this.meta = { ...this.meta, session: null };
      const p = this.partition;
      const ops: BatchOp<unknown>[] = [{ op: 'put', key: [p, 1], value: this.meta }];
      // A damaged mark still names its key (loadDirty): it is cleared with the others.
      for (const { key } of this.env.data.range({ start: [p, 0], end: [p, 1], onDamaged: (err) => ops.push({ op: 'delete', key: err.key }) })) ops.push({ op: 'delete', key });
      await this.env.data.batch(ops);
      return;
    }
    this.mode = 'dropping';
    await this.dropAll();
    this.mode = 'dropped';
  }

  /**
   * Deletes the partition in bounded batches; the last one moves the writer epoch on. Damaged
   * records go too (each logged): the partition now lives on other nodes, and a damaged value
   * left behind would refuse every merge into that key if the partition ever came back.
   */
  private async dropAll(): Promise<void> {
    const p = this.partition;
    for (;;) {
      const keys: Key[] = [];
      const onDamaged = (err: DamagedRecordError): void => {
        this.env.log.error('dropping a damaged record with its partition', { partition: p, key: err.key, err: err.message });
        keys.push(err.key);
      };
      for (const { key } of this.env.data.range({ start: [p], end: [p + 1], limit: 1_000, onDamaged })) keys.push(key);
      const rest = keys.filter((k) => !(k.length === 2 && k[1] === 2));
      if (rest.length === 0) break;
      await this.env.data.batch(rest.map((key) => ({ op: 'delete', key })));
    }
    await this.env.data.put([p, 2], { n: this.env.incarnation, e: this.epoch + 1 });
    this.overlay.clear();
    this.tombs.clear();
  }

  get isDropped(): boolean {
    return this.mode === 'dropped';
  }

  get isActive(): boolean {
    return this.mode === 'active';
  }
}

export type { Ack };
