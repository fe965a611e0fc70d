/**
 * The ring in a core node: starts the ring service (ring/src/service.ts) with SWIM as its
 * liveness, and serves the operator routes — `/api/v1/cluster/{status,ring,plan,commit,clear,
 * join,leave,remove,replace,transfers}` and the maintenance interface `/api/v1/db/{bucket}[/{key}]`
 * (FiFo's `sniffle-admin db`). Ring and stage errors keep their stable codes and map to statuses
 * as docs/ring.md lists.
 */
import type { ActorRef } from '@shoal/actors';
import { ApiError, exportCounter, exportCounters, exportGauge, type ApiMetrics, type ApiRoutes, type ErrorCode } from '@shoal/api';
import { BucketRegistry, InvalidKeyError, RingError, StageError, startRingService, type Plan, type RequestStats, type RingService } from '@shoal/ring';
import { hypervisorBucket, hypervisorStoreSchema } from './hypervisor-store.js';
import type { Logger, Storage, World } from '@shoal/runtime';
import type { SwimNode } from '@shoal/swim';
import type { NodeConfig } from './config.js';

export interface RingStartOptions {
  config: NodeConfig;
  world: World;
  root: ActorRef<never>;
  storage: Storage;
  swim: SwimNode;
  log: Logger;
}

/** The buckets every core node registers (the same on all), plus generic JSON buckets for `shoal db`. */
export function clusterBuckets(): BucketRegistry {
  const buckets = new BucketRegistry({ generic: true });
  buckets.define(hypervisorBucket, hypervisorStoreSchema, { changedThrough: 'agents publish them; shoal hypervisors remove NAME forgets one' });
  return buckets;
}

/** SWIM as the ring's liveness: alive or suspect is up; a member's role tells core from agent. */
/**
 * The ring's counters as Prometheus metrics (`shoal_ring_*`): vnodes, handoff, anti-entropy,
 * reaping, damage found in storage, and the quorum path's requests. Counters kept by vnodes
 * (damaged records, tree drifts) are gauges: a vnode that restarts starts them again.
 */
export function registerRingMetrics(metrics: ApiMetrics, ring: RingService): void {
  const counts = (): ReturnType<RingService['host']['counts']> => ring.host.counts();
  const stats = (): RingService['host']['stats'] => ring.host.stats;
  const requests = (): RequestStats => ring.requestStats();
  exportGauge(metrics, 'shoal_ring_vnodes', 'Vnodes running on this node (owned, fallback and leaving partitions).', [], () => [[{}, counts().vnodes]]);
  exportCounter(metrics, 'shoal_ring_handoff_sessions_total', 'Handoff sessions, by outcome.', ['outcome'], () => {
    const s = stats();
    return [[{ outcome: 'started' }, s.sessionsStarted], [{ outcome: 'resumed' }, s.sessionsResumed], [{ outcome: 'done' }, s.sessionsDone], [{ outcome: 'failed' }, s.sessionsFailed]];
  });
  exportCounters(metrics, stats, [
    ['shoal_ring_handoff_records_sent_total', 'Records handed off and acknowledged by their receiver.', (s) => s.handoffRecordsSent],
    ['shoal_ring_handoff_bytes_sent_total', 'Bytes of records handed off and acknowledged.', (s) => s.handoffBytesSent],
    ['shoal_ring_partitions_dropped_total', 'Partitions dropped after handing them off.', (s) => s.dropped],
    ['shoal_ring_aae_exchanges_total', 'Anti-entropy exchanges run.', (s) => s.exchanges],
    ['shoal_ring_aae_repairs_total', 'Records repaired by anti-entropy.', (s) => s.aaeRepairs],
    ['shoal_ring_tombstones_reaped_total', 'Tombstones reaped.', (s) => s.reaped],
  ]);
  exportGauge(metrics, 'shoal_ring_damaged_records_seen', 'Damaged stored records the running vnodes met (each is logged).', [], () => [[{}, counts().damagedRecordsSeen]]);
  exportGauge(metrics, 'shoal_ring_tree_drifts', 'Anti-entropy tree rebuilds that found the tree had drifted from storage.', [], () => [[{}, counts().treeDrifts]]);
  exportGauge(metrics, 'shoal_ring_requests_outstanding', 'Quorum requests this node waits on.', [], () => [[{}, requests().outstanding]]);
  exportCounter(metrics, 'shoal_ring_requests_total', 'Quorum requests sent to other nodes, by kind (call: answered; post: not).', ['kind'], () => {
    const r = requests();
    return [[{ kind: 'call' }, r.calls], [{ kind: 'post' }, r.posts]];
  });
  exportCounter(metrics, 'shoal_ring_request_failures_total', 'Quorum requests that ended without a reply, by cause.', ['cause'], () => {
    const r = requests();
    return [[{ cause: 'timeout' }, r.timeouts], [{ cause: 'node-down' }, r.down], [{ cause: 'refused' }, r.refused]];
  });
}

export async function startRing(opts: RingStartOptions): Promise<RingService> {
  const { config, world, root, storage, swim, log } = opts;
  const self = config.name;
  const up = (node: string): boolean => {
    if (node === self) return true;
    const state = swim.member(node)?.state;
    return state === 'alive' || state === 'suspect';
  };
  return startRingService({
    root,
    clock: world.clock,
    random: world.random,
    logger: log,
    storage,
    clusterName: config.cluster,
    liveness: {
      isUp: up,
      subscribe: (fn) => swim.subscribe((e) => fn(e.member.name, e.member.state === 'alive' || e.member.state === 'suspect')),
    },
    isCoreNode: (node) => node === self || swim.member(node)?.meta.role === 'core',
    bootstrap: config.join.length === 0,
    buckets: clusterBuckets(),
  });
}

const statusOfCode: Record<string, ErrorCode> = {
  'invalid-key': 'bad_request',
  'invalid-operation': 'bad_request',
  'invalid-continuation': 'bad_request',
  'invalid-name': 'bad_request',
  'invalid-weight': 'bad_request',
  'unknown-bucket': 'not_found',
  'not-found': 'not_found',
  deleted: 'conflict',
  'not-up': 'conflict',
  'already-member': 'conflict',
  'unknown-member': 'conflict',
  'already-staged': 'conflict',
  'last-member': 'conflict',
  'members-max': 'conflict',
  'staged-max': 'conflict',
  'nothing-staged': 'conflict',
  'no-quorum': 'unavailable',
  'incomplete-coverage': 'unavailable',
  'no-ring': 'unavailable',
  refused: 'unavailable',
  timeout: 'timeout',
};

/** Ring failures as API errors (one sentence, a fitting status); anything else is rethrown. */
export function asApiError(err: unknown): unknown {
  if (err instanceof InvalidKeyError) return new ApiError('bad_request', err.message);
  if (err instanceof StageError || err instanceof RingError) return new ApiError(statusOfCode[err.code] ?? 'internal', err.message);
  return err;
}

async function ringCall<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asApiError(err);
  }
}

/** What `plan` and `commit` answer: the plan without the whole next ring. */
export function planBody(p: Plan) {
  return {
    changes: p.changes,
    nextVersion: p.nextRing.version,
    movedPartitions: p.movedPartitions,
    transfersCount: p.transfersCount,
    primaryChanges: p.primaryChanges,
    leaving: p.leaving,
    removed: p.removed,
    balance: p.balance,
    moves: p.moves,
  };
}

const nodeBody = { type: 'object', required: ['node'], additionalProperties: false, properties: { node: { type: 'string', minLength: 1, maxLength: 128 } } } as const;
const joinBody = {
  type: 'object',
  required: ['node'],
  additionalProperties: false,
  properties: { node: { type: 'string', minLength: 1, maxLength: 128 }, weight: { type: 'integer', minimum: 1, maximum: 16 } },
} as const;
const replaceBody = {
  type: 'object',
  required: ['node', 'replacement'],
  additionalProperties: false,
  properties: { node: { type: 'string', minLength: 1, maxLength: 128 }, replacement: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;
/** The db PUT body: any JSON value (a body schema, so that the route takes a body: server.ts). */
const anyJson = { description: 'any JSON value' } as const;
const bucketParams = { type: 'object', properties: { bucket: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const keyParams = { type: 'object', properties: { bucket: { type: 'string', minLength: 1, maxLength: 256 }, key: { type: 'string', minLength: 1, maxLength: 740 } } } as const;

function requireRing(ring: () => RingService | undefined): RingService {
  const service = ring();
  if (!service) throw new ApiError('unavailable', 'the ring is still starting; try again in a moment');
  return service;
}

export function ringRoutes(ring: () => RingService | undefined): ApiRoutes {
  return (app, { requireAdmin }) => {
    // onRequest, not preHandler: the token is checked before the body is read or validated, so a
    // caller without one learns nothing about the schema and cannot make the node parse 1 MiB.
    const admin = { onRequest: requireAdmin };
    app.get('/api/v1/cluster/status', admin, async () => requireRing(ring).status());
    app.get('/api/v1/cluster/ring', admin, async () => {
      const details = requireRing(ring).ring();
      if (!details) throw new ApiError('unavailable', 'this node has no ring yet: it waits to be joined (stage a join on a ring member)');
      return details;
    });
    app.get('/api/v1/cluster/transfers', admin, async () => requireRing(ring).transfers() ?? { complete: true, total: 0, done: 0, pending: 0, byNode: [], pendingList: [] });
    app.get('/api/v1/cluster/plan', admin, async () => planBody(await ringCall(() => requireRing(ring).plan())));
    app.post('/api/v1/cluster/commit', admin, async () => planBody(await ringCall(() => requireRing(ring).commit())));
    app.post('/api/v1/cluster/clear', admin, async () => {
      await ringCall(() => requireRing(ring).clear());
      return { staged: [] };
    });
    app.post<{ Body: { node: string; weight?: number } }>('/api/v1/cluster/join', { ...admin, schema: { body: joinBody } }, async (req) =>
      ringCall(() => requireRing(ring).stage({ kind: 'join', node: req.body.node, ...(req.body.weight ? { weight: req.body.weight } : {}) })),
    );
    for (const kind of ['leave', 'remove'] as const) {
      app.post<{ Body: { node: string } }>(`/api/v1/cluster/${kind}`, { ...admin, schema: { body: nodeBody } }, async (req) =>
        ringCall(() => requireRing(ring).stage({ kind, node: req.body.node })),
      );
    }
    app.post<{ Body: { node: string; replacement: string } }>('/api/v1/cluster/replace', { ...admin, schema: { body: replaceBody } }, async (req) =>
      ringCall(() => requireRing(ring).stage({ kind: 'replace', node: req.body.node, replacement: req.body.replacement })),
    );
    dbRoutes(app, admin, ring);
  };
}

type App = Parameters<ApiRoutes>[0];

function dbRoutes(app: App, admin: { onRequest: Parameters<ApiRoutes>[1]['requireAdmin'] }, ring: () => RingService | undefined): void {
  type KeyReq = { Params: { bucket: string; key: string } };
  app.put<KeyReq & { Body: unknown }>('/api/v1/db/:bucket/:key', { ...admin, schema: { params: keyParams, body: anyJson } }, async (req) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new ApiError('unsupported_media_type', 'send the value as a JSON body (content-type: application/json)');
    if (req.body === undefined) throw new ApiError('bad_request', 'send the value as a JSON body');
    const result = await ringCall(() => requireRing(ring).putJson(req.params.bucket, req.params.key, req.body as never));
    return { bucket: req.params.bucket, key: req.params.key, acks: result.acks };
  });
  app.get<KeyReq>('/api/v1/db/:bucket/:key', { ...admin, schema: { params: keyParams } }, async (req) => {
    const value = await ringCall(() => requireRing(ring).getJson(req.params.bucket, req.params.key));
    if (value === undefined) throw new ApiError('not_found', `no key ${JSON.stringify(req.params.key)} in bucket ${JSON.stringify(req.params.bucket)}`);
    return { bucket: req.params.bucket, key: req.params.key, value };
  });
  app.delete<KeyReq>('/api/v1/db/:bucket/:key', { ...admin, schema: { params: keyParams } }, async (req, reply) => {
    await ringCall(() => requireRing(ring).deleteJson(req.params.bucket, req.params.key));
    void reply.status(204);
    return null;
  });
  // Query strings are text: numbers and flags are checked by pattern here and converted below
  // (the gateway does not coerce types, so a JSON body's "1024" is never taken for 1024).
  type ListReq = { Params: { bucket: string }; Querystring: { limit?: string; continuation?: string; values?: string; filter?: string } };
  const listQuery = {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'string', pattern: '^([1-9][0-9]{0,2}|1000)$', description: 'an integer from 1 to 1000' }, // 1 … listPageMax
      continuation: { type: 'string', maxLength: 4096 },
      values: { type: 'string', enum: ['true', 'false'], description: 'true or false' },
      filter: { type: 'string', maxLength: 4096 },
    },
  } as const;
  app.get<ListReq>('/api/v1/db/:bucket', { ...admin, schema: { params: bucketParams, querystring: listQuery } }, async (req) => {
    let filter: unknown;
    if (req.query.filter !== undefined) {
      try {
        filter = JSON.parse(req.query.filter);
      } catch {
        throw new ApiError('bad_request', 'filter must be JSON (see docs/ring.md for the filter language)');
      }
      // `filter=null` would otherwise list everything, as if no filter had been given.
      if (filter === null) throw new ApiError('bad_request', 'filter must be a filter object, not null (see docs/ring.md for the filter language)');
    }
    const page = await ringCall(() =>
      requireRing(ring).list(req.params.bucket, {
        ...(req.query.limit !== undefined ? { limit: Number(req.query.limit) } : {}),
        ...(req.query.continuation !== undefined ? { continuation: req.query.continuation } : {}),
        ...(req.query.values !== undefined ? { values: req.query.values === 'true' } : {}),
        ...(filter !== undefined ? { filter } : {}),
      }),
    );
    // As GET of one key: a generic bucket's value is the JSON that was put, not its record.
    const generic = requireRing(ring).buckets.tryResolve(req.params.bucket)?.generic === true;
    const items = generic ? page.items.map((i) => ('value' in i ? { key: i.key, value: (i.value as { value?: unknown } | null)?.value ?? null } : i)) : page.items;
    return { bucket: req.params.bucket, items, ...(page.continuation ? { continuation: page.continuation } : {}) };
  });
}
