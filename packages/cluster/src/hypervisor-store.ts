/**
 * Hypervisor records in the ring: the `hypervisors` bucket, written by the agents (through any
 * core node) and read by `GET /api/v1/hypervisors`.
 *
 * The record (`HypervisorRecord`, packages/wire) has one writer — its agent — and is ordered by
 * its `revision = (boot, seq)`. An agent pushes it with `agent.record-publish` to the actor
 * `['hypervisors']` of a core node it picks (hypervisor-agent/src/publisher.ts); that node's
 * `HypervisorStore.publish` reads the stored revision (R) and writes only a newer one (W), as the
 * fields that changed. So a retried or late publish never moves the record back, whichever core
 * node coordinates it — within a bound: a publish is read-then-write, and two of them for one
 * hypervisor on two nodes could interleave (the older written last, and a record mixing the
 * fields of two revisions). The agent sends one publish at a time and tries another node only
 * after an answer (or its own 5 s wait) and a backoff, while this node gives a publish at most
 * `publishBudgetMs` (3 s), with the write's deadline enforced by the replicas (plus the allowed
 * skew, `clockSkewMaxMs`), and answers a failed write only once that has passed: the earlier
 * publish has landed or will never land before the next one starts.
 * The agent's next change or its refresh (it compares revisions) rewrites what differs.
 *
 * Storage shape. A register value holds at most `crdtLimits.valueElementsMax` (256) values, and a
 * record lists up to 4,096 zones, so the record is split into fields, each an LWW register:
 * `revision`, `identity` (name, agent, platform, virtualisation, CPUs, topology, updatedAt),
 * `nicTags`, `characteristics`, `resources` (memory, disk, reservation and zone counts), and
 * `zones`, an OR-map from chunk number to up to `zoneChunk` zone summaries. A publish sets only
 * the fields and chunks that differ from what is stored, so the usual change (memory figures)
 * replicates as one small register. Reading joins the fields and checks the result against the
 * wire schema: a stored record that does not check is reported, never served.
 *
 * Removal (an operator forgetting a decommissioned host) is a mark, not a delete: a ring delete is
 * final until its tombstone is reaped (7 days by default), and a host reinstalled under the same
 * name must be able to register at once. `remove` sets `removed` and drops the zone chunks; the
 * record is then absent from reads and listings; the next publish of any revision (a restarted
 * or returning agent) clears the mark and writes the record whole.
 */
import { defineRecord, kind, plainEquals, type Plain, type RecordPlain } from '@shoal/crdt';
import { dispatch, spawnStateless, type ActorRef } from '@shoal/actors';
import { compareRevision, hypervisorRegistryPath, type Revision } from '@shoal/hypervisor-agent';
import { listPageMax, QuorumTimeoutError, RingError, type RingService } from '@shoal/ring';
import type { Clock, Logger } from '@shoal/runtime';
import { AgentRecordPublish, hypervisorRecordSchema, validate, type AgentErrorCode, type AgentReply, type HypervisorRecord, type RecordPublishResult } from '@shoal/wire';

export const hypervisorBucket = 'hypervisors';

/** Zone summaries per chunk of the `zones` map: 32 × 6 values + 1 stays under 256. */
export const zoneChunk = 32;

export const hypervisorStoreSchema = defineRecord('hypervisor', {
  revision: kind.lww('plain'),
  identity: kind.lww('plain'),
  nicTags: kind.lww('plain'),
  characteristics: kind.lww('plain'),
  resources: kind.lww('plain'),
  zones: kind.ormap(kind.lww('plain')),
  /** Set by `remove` (`{ at, revision }`), cleared by the next publish of any revision. */
  removed: kind.lww('plain'),
});
type StoreFields = (typeof hypervisorStoreSchema)['fields'];
type StoredPlain = RecordPlain<StoreFields>;


interface SplitRecord {
  revision: Plain;
  identity: Plain;
  nicTags: Plain;
  characteristics: Plain;
  resources: Plain;
  zones: Plain[];
}

/** The record as the bucket's fields (zones in chunks). Pure. */
export function splitRecord(r: HypervisorRecord): SplitRecord {
  const zones: Plain[] = [];
  for (let i = 0; i < r.zones.length; i += zoneChunk) zones.push(r.zones.slice(i, i + zoneChunk) as unknown as Plain);
  return {
    revision: { ...r.revision },
    identity: {
      v: r.v,
      name: r.name,
      updatedAt: r.updatedAt,
      agent: { ...r.agent },
      platform: r.platform,
      virtualisation: [...r.virtualisation],
      cpus: r.cpus,
      topology: r.topology,
    } as Plain,
    nicTags: [...r.nicTags],
    characteristics: { ...r.characteristics },
    resources: { memory: { ...r.memory }, disk: { ...r.disk }, reservations: { ...r.reservations }, zoneCounts: { ...r.zoneCounts }, zonesTruncated: r.zonesTruncated },
    zones,
  };
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The record from the bucket's plain value, checked against the wire schema; a reason if it does not check. */
export function joinRecord(stored: unknown): { ok: true; record: HypervisorRecord } | { ok: false; reason: string } {
  if (!isObject(stored)) return { ok: false, reason: 'the stored value is not a record' };
  const { revision, identity, nicTags, characteristics, resources, zones } = stored;
  if (!isObject(identity) || !isObject(resources)) return { ok: false, reason: 'the stored record lacks its identity or resources' };
  const chunks = isObject(zones) ? zones : {};
  const order = Object.keys(chunks)
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n >= 0)
    .sort((a, b) => a - b);
  const zoneList: unknown[] = [];
  for (const n of order) {
    const chunk = chunks[String(n)];
    if (!Array.isArray(chunk)) return { ok: false, reason: `zone chunk ${n} is not a list` };
    zoneList.push(...(chunk as unknown[]));
  }
  const checked = validate(hypervisorRecordSchema, { ...identity, revision, nicTags, characteristics, ...resources, zones: zoneList }, 'record');
  return checked.ok ? { ok: true, record: checked.value } : { ok: false, reason: checked.reason };
}

/** The update that turns `stored` (undefined: nothing stored) into `record`: only the fields and chunks that differ. Pure. */
export function recordOps(stored: StoredPlain | undefined, record: HypervisorRecord): Record<string, unknown> {
  const next = splitRecord(record);
  const ops: Record<string, unknown> = {};
  for (const field of ['revision', 'identity', 'nicTags', 'characteristics', 'resources'] as const) {
    const before = stored?.[field];
    if (before === undefined || !plainEquals(before, next[field])) ops[field] = { set: next[field] };
  }
  const before = (stored?.zones ?? {}) as Record<string, Plain>;
  const update: Record<string, unknown> = {};
  next.zones.forEach((chunk, i) => {
    const old = before[String(i)];
    if (old === undefined || !plainEquals(old, chunk)) update[String(i)] = { set: chunk };
  });
  const remove = Object.keys(before).filter((k) => !(Number(k) < next.zones.length));
  if (Object.keys(update).length > 0 || remove.length > 0) ops['zones'] = { ...(Object.keys(update).length > 0 ? { update } : {}), ...(remove.length > 0 ? { remove } : {}) };
  return ops;
}

export type StoredHypervisor = { record: HypervisorRecord } | { error: string };

/** Thrown when this node cannot serve the store yet (its ring service is not started). */
export class StoreNotReadyError extends Error {
  override name = 'StoreNotReadyError';
}

/** Hypervisor records listed at most (as the directory's listing). */
export const storedHypervisorsMax = 10_000;

/** Hypervisors with a publish running or queued on this node at once; more are answered `busy`. */
export const publishesMax = 1_024;

/**
 * Time one publish may take on this node, ms: its read, then its write with what is left. The
 * write's deadline travels with it, and a replica refuses it past deadline + clock skew (1 s),
 * so a publish that this node gave up on cannot land after the agent's next attempt — which
 * comes only after this node's answer (held until then, `publishNow`) or the agent's own wait
 * (`publishTimeoutMs`, 5 s), and a backoff (≥ 250 ms).
 */
export const publishBudgetMs = 3_000;
const publishReadMs = 1_500;

/** Reads of stored records at once while listing. */
export const listReadsMax = 16;

/** Thrown when this node has too many publishes in hand (`publishesMax`). */
export class StoreBusyError extends Error {
  override name = 'StoreBusyError';
}

interface Job {
  record: HypervisorRecord;
  waiters: { resolve(r: RecordPublishResult): void; reject(err: unknown): void; revision: Revision }[];
}

export class HypervisorStore {
  /**
   * Per hypervisor whose publish runs (the slot exists exactly as long as one does): the one
   * queued behind it (a newer record replaces a queued one; the replaced caller hears that its
   * revision is covered).
   */
  private readonly slots = new Map<string, { next: Job | undefined }>();

  constructor(
    private readonly ring: () => RingService | undefined,
    private readonly clock: Clock,
  ) {}

  private service(): RingService {
    const ring = this.ring();
    if (!ring) throw new StoreNotReadyError('the ring is still starting on this node');
    return ring;
  }

  /**
   * Stores `record` unless the store holds its revision or a newer one (a record marked removed
   * is replaced by any revision: its agent is back). One publish per hypervisor runs at a time
   * on this node. Throws ring errors, StoreNotReadyError, StoreBusyError.
   */
  publish(record: HypervisorRecord): Promise<RecordPublishResult> {
    const name = record.name;
    let slot = this.slots.get(name);
    const idle = slot === undefined;
    if (!slot) {
      if (this.slots.size >= publishesMax) return Promise.reject(new StoreBusyError(`this node has ${publishesMax} hypervisor publishes in hand; try another core node`));
      slot = { next: undefined };
      this.slots.set(name, slot);
    }
    const s = slot;
    return new Promise<RecordPublishResult>((resolve, reject) => {
      const waiter = { resolve, reject, revision: record.revision };
      if (s.next) {
        if (compareRevision(record.revision, s.next.record.revision) > 0) s.next.record = record;
        s.next.waiters.push(waiter);
      } else {
        s.next = { record, waiters: [waiter] };
      }
      if (idle) this.drain(name, s);
    });
  }

  private drain(name: string, slot: { next: Job | undefined }): void {
    const job = slot.next;
    if (!job) {
      this.slots.delete(name);
      return;
    }
    slot.next = undefined;
    const settle = (fn: () => void): void => {
      fn();
      this.drain(name, slot);
    };
    this.publishNow(job.record).then(
      (result) =>
        settle(() => {
          for (const w of job.waiters) {
            // A caller whose record a newer one replaced in the queue: its revision is covered.
            w.resolve(compareRevision(w.revision, job.record.revision) === 0 ? result : { written: false, revision: { ...w.revision } });
          }
        }),
      (err: unknown) => settle(() => job.waiters.forEach((w) => w.reject(err))),
    );
  }

  private async publishNow(record: HypervisorRecord): Promise<RecordPublishResult> {
    const ring = this.service();
    const startedMs = this.clock.monoMs();
    const current = await ring.get<StoreFields>(hypervisorBucket, record.name, { timeoutMs: publishReadMs });
    const stored = current.found ? current.value : undefined;
    const removed = stored?.removed != null;
    const storedRevision = stored ? readRevision(stored.revision) : undefined;
    if (!removed && storedRevision && compareRevision(storedRevision, record.revision) >= 0) return { written: false, revision: storedRevision };
    const left = publishBudgetMs - (this.clock.monoMs() - startedMs);
    if (left < 100) throw new QuorumTimeoutError(`timeout: the record of ${record.name} could not be read and written within ${publishBudgetMs} ms`);
    const ops = recordOps(stored, record);
    if (removed) ops['removed'] = { set: null };
    try {
      await ring.update<StoreFields>(hypervisorBucket, record.name, ops as never, { timeoutMs: left });
    } catch (err) {
      // A write that failed may still land on a replica until its deadline plus the allowed
      // skew: answer only after that, so the agent's next attempt (perhaps through another node,
      // 250 ms after this answer) cannot be overtaken by this one (module header).
      const landMs = startedMs + publishBudgetMs + ring.config.clockSkewMaxMs - this.clock.monoMs();
      if (landMs > 0) await new Promise<void>((resolve) => this.clock.setTimer(landMs, resolve));
      throw err;
    }
    return { written: true, revision: { ...record.revision } };
  }

  /** The stored record of `name`, an error if it is stored but unreadable, undefined if absent. */
  async get(name: string): Promise<StoredHypervisor | undefined> {
    const r = await this.service().get<StoreFields>(hypervisorBucket, name);
    if (!r.found || r.value?.removed != null) return undefined;
    const joined = joinRecord(r.value);
    return joined.ok ? { record: joined.record } : { error: `the stored record is unreadable: ${joined.reason}` };
  }

  /**
   * The names of the stored hypervisors, in order (up to `storedHypervisorsMax`; `truncated`
   * when there are more). Keys only: records are read one by one (`get`), so a listing never
   * pulls pages of whole records with their zone lists through a coverage query.
   */
  async names(): Promise<{ names: string[]; truncated: boolean }> {
    const ring = this.service();
    const names: string[] = [];
    let continuation: string | undefined;
    do {
      const page = await ring.list(hypervisorBucket, { limit: listPageMax, ...(continuation !== undefined ? { continuation } : {}) });
      for (const item of page.items) {
        if (names.length >= storedHypervisorsMax) return { names, truncated: true };
        names.push(item.key);
      }
      continuation = page.continuation;
    } while (continuation !== undefined);
    return { names, truncated: false };
  }

  /** Reads the records of `names`, `listReadsMax` at a time; removed or absent ones are left out. */
  async getMany(names: readonly string[]): Promise<Map<string, StoredHypervisor>> {
    const out = new Map<string, StoredHypervisor>();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < names.length; i = next++) {
        const name = names[i]!;
        const got = await this.get(name);
        if (got) out.set(name, got);
      }
    };
    await Promise.all(Array.from({ length: Math.min(listReadsMax, names.length) }, worker));
    return out;
  }

  /** Marks the record of `name` removed (see the header); false if none is stored (or it is removed already). */
  async remove(name: string, atMs: number): Promise<boolean> {
    const ring = this.service();
    const r = await ring.get<StoreFields>(hypervisorBucket, name);
    if (!r.found || !r.value || r.value.removed != null) return false;
    const chunks = Object.keys((r.value.zones ?? {}) as Record<string, unknown>);
    const ops: Record<string, unknown> = { removed: { set: { at: new Date(atMs).toISOString(), revision: readRevision(r.value.revision) ?? null } } };
    if (chunks.length > 0) ops['zones'] = { remove: chunks };
    await ring.update<StoreFields>(hypervisorBucket, name, ops as never);
    return true;
  }
}

function readRevision(x: unknown): Revision | undefined {
  if (!isObject(x)) return undefined;
  const { boot, seq } = x;
  return Number.isSafeInteger(boot) && Number.isSafeInteger(seq) ? { boot: boot as number, seq: seq as number } : undefined;
}

/** A publish failure as the agent protocol's error code (the agent fails over to the next core node on any error). */
export function publishErrorCode(err: unknown): AgentErrorCode {
  if (err instanceof StoreBusyError) return 'busy';
  if (err instanceof RingError) {
    if (err.code === 'timeout') return 'timeout';
    if (err.code === 'deleted') return 'conflict';
    if (err.code === 'invalid-operation' || err.code === 'invalid-key') return 'invalid';
  }
  return 'unavailable';
}

/**
 * The actor `['hypervisors']` of a core node: answers `agent.record-publish` queries from agents
 * with `agent.reply-ok` `{ written, revision }` or `agent.reply-error`. A message that does not
 * check is answered `invalid` and changes nothing.
 */
export function spawnHypervisorRegistry(root: ActorRef<never>, store: HypervisorStore, log: Logger): ActorRef<unknown> {
  return spawnStateless(
    root,
    (msg: unknown, ctx) => {
      const sender = ctx.sender;
      const answer = (reply: AgentReply): void => {
        try {
          dispatch(sender, reply);
        } catch (err) {
          log.warn('cannot answer a record publish', { to: sender.toString(), err: err instanceof Error ? err.message : String(err) });
        }
      };
      const checked = validate(AgentRecordPublish.schema, msg, 'message');
      if (!checked.ok) {
        answer({ type: 'agent.reply-error', code: 'invalid', message: `not a record publish: ${checked.reason}`.slice(0, 1024) });
        return undefined;
      }
      // An agent publishes its own record only (its name is the node name of its actor system).
      if (sender.node !== checked.value.record.name) {
        answer({ type: 'agent.reply-error', code: 'invalid', message: `node ${sender.node} may not publish the record of ${checked.value.record.name}`.slice(0, 1024) });
        return undefined;
      }
      store.publish(checked.value.record).then(
        (result) => answer({ type: 'agent.reply-ok', result }),
        (err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          log.debug('a record publish failed', { hypervisor: checked.value.record.name, err: message });
          answer({ type: 'agent.reply-error', code: publishErrorCode(err), message: message.slice(0, 1024) });
        },
      );
      return undefined;
    },
    hypervisorRegistryPath[0],
  );
}
