/**
 * Hypervisor records in the ring: the `hypervisors` bucket, written by the agents (through any
 * core node) and read by `GET /api/v1/hypervisors`.
 *
 * The record (`HypervisorRecord`, packages/wire) has one writer — its agent — and is ordered by
 * its `revision = (boot, seq)`. An agent pushes it with `agent.record-publish` to the actor
 * `['hypervisors']` of a core node it picks (hypervisor-agent/src/publisher.ts); that node's
 * `HypervisorStore.publish` reads the stored revision (R) and writes only a newer one (W), as the
 * fields that changed. So a retried or late publish never moves the record back, whichever core
 * node coordinates it. (Residual: two publishes of one agent coordinated at once by two nodes
 * whose clocks differ by more than the agent's retry delay can leave the older one stored; the
 * agent's next change or its periodic refresh — which compares revisions again — repairs it.)
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
 * record is then absent from reads; the next publish of a newer revision (a restarted or returning
 * agent) clears the mark and writes the record whole.
 */
import { defineRecord, kind, plainEquals, type Plain, type RecordPlain } from '@shoal/crdt';
import { dispatch, spawnStateless, type ActorRef } from '@shoal/actors';
import { compareRevision, hypervisorRegistryPath, type Revision } from '@shoal/hypervisor-agent';
import { listPageMax, RingError, type RingService } from '@shoal/ring';
import type { Logger } from '@shoal/runtime';
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
  /** Set by `remove` (`{ at, revision }`), cleared by the next publish of a newer revision. */
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

export class HypervisorStore {
  /** Publishes of one name in flight on this node, chained so they apply in arrival order. */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly ring: () => RingService | undefined) {}

  private service(): RingService {
    const ring = this.ring();
    if (!ring) throw new StoreNotReadyError('the ring is still starting on this node');
    return ring;
  }

  /** Stores `record` unless the store holds its revision or a newer one. Throws ring errors. */
  publish(record: HypervisorRecord): Promise<RecordPublishResult> {
    const name = record.name;
    const prior = this.chains.get(name) ?? Promise.resolve();
    const run = prior.then(
      () => this.publishNow(record),
      () => this.publishNow(record),
    );
    this.chains.set(name, run);
    const clear = (): void => {
      if (this.chains.get(name) === run) this.chains.delete(name);
    };
    run.then(clear, clear);
    return run;
  }

  private async publishNow(record: HypervisorRecord): Promise<RecordPublishResult> {
    const ring = this.service();
    const current = await ring.get<StoreFields>(hypervisorBucket, record.name);
    const stored = current.found ? current.value : undefined;
    const storedRevision = stored ? readRevision(stored.revision) : undefined;
    if (storedRevision && compareRevision(storedRevision, record.revision) >= 0) return { written: false, revision: storedRevision };
    const ops = recordOps(stored, record);
    if (stored?.removed != null) ops['removed'] = { set: null };
    await ring.update<StoreFields>(hypervisorBucket, record.name, ops as never);
    return { written: true, revision: { ...record.revision } };
  }

  /** The stored record of `name`, an error if it is stored but unreadable, undefined if absent. */
  async get(name: string): Promise<StoredHypervisor | undefined> {
    const r = await this.service().get<StoreFields>(hypervisorBucket, name);
    if (!r.found || r.value?.removed != null) return undefined;
    const joined = joinRecord(r.value);
    return joined.ok ? { record: joined.record } : { error: `the stored record is unreadable: ${joined.reason}` };
  }

  /** Every stored record (up to `storedHypervisorsMax`), by name. */
  async list(): Promise<Map<string, StoredHypervisor>> {
    const ring = this.service();
    const out = new Map<string, StoredHypervisor>();
    let continuation: string | undefined;
    do {
      const page = await ring.list(hypervisorBucket, { values: true, limit: listPageMax, ...(continuation !== undefined ? { continuation } : {}) });
      for (const item of page.items) {
        if (out.size >= storedHypervisorsMax) return out;
        if ((item.value as { removed?: unknown } | undefined)?.removed != null) continue;
        const joined = joinRecord(item.value);
        out.set(item.key, joined.ok ? { record: joined.record } : { error: `the stored record is unreadable: ${joined.reason}` });
      }
      continuation = page.continuation;
    } while (continuation !== undefined);
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

/** A publish failure as the agent protocol's error code (the agent fails over on `unavailable` and `timeout`). */
export function publishErrorCode(err: unknown): AgentErrorCode {
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
