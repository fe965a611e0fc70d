/**
 * The ring service: what a core node runs, and the API the node, the HTTP gateway and the
 * domain call. `startRingService` wires the pieces on the node's actor system and storage:
 *
 *   RingView (view.ts)      the published ring + transfer state + injected liveness
 *   ring-manager actor      cluster state, gossip, stage/plan/commit/clear (manager.ts)
 *   ring-vnodes actor       vnodes, handoff, anti-entropy, reaping (host.ts, kv-vnode.ts)
 *   Coordinator             quorum get/update/delete (coordinator.ts); list (coverage.ts)
 *   ring-replies actor      replies to the coordinator's batched commands (mux.ts)
 *   timers                  gossip, handoff, anti-entropy and reaper ticks (config.ts)
 *
 * Start: the node incarnation moves on unless the last stop was clean (writer ids, kv-vnode.ts);
 * the persisted ring is loaded — or, only when told this node starts a new cluster
 * (`bootstrap`), a ring of one is made; a node with neither waits to be joined (it adopts the
 * first ring of its cluster that gossip brings). Stop: timers, actors, a flush, then the clean
 * mark. Stop the service before closing storage.
 */
import { createHash } from 'node:crypto';
import { dispatch, query, spawn, stop as stopActor, systemOf, type ActorRef } from '@shoal/actors';
import type { FieldOps, Fields, Plain } from '@shoal/crdt';
import { every, type Clock, type Logger, type Random, type Storage, type Store, type Timer } from '@shoal/runtime';
import { balance, type Balance } from './balance.js';
import { BucketRegistry, type BucketSpec } from './buckets.js';
import { productionConfig, ringConfig, testConfig, type RingConfig } from './config.js';
import { Coordinator, type GetOptions, type GetResult, type WriteOptions, type WriteResult } from './coordinator.js';
import { listBucket, type ListOptions, type ListPage } from './coverage.js';
import { InvalidOperationError, NoRingError, RingConfigError, RingError, StageError, type StageErrorCode } from './errors.js';
import type { PermitHooks } from './filter.js';
import { hostActor, VnodeHost, type HostStatus } from './host.js';
import { dataStoreName, type KvVnodeEnv } from './kv-vnode.js';
import { emptyClusterState, ringFromPeer, transfersFromPeer, type ClusterState } from './manager-core.js';
import { managerActor, RingManager, type ManagerReply } from './manager.js';
import { HostMux, muxActor, type MuxMessage } from './mux.js';
import type { HostMessage, ManagerMessage } from './messages.js';
import { nothingStaged, type ChangeRequest, type Plan, type Staged, type StagedChange } from './plan.js';
import { bootstrapRing, ringToData, type Ring } from './ring.js';
import { noTransfers, summarizeTransfers, type TransfersSummary } from './transfers.js';
import { RingView, type Liveness } from './view.js';

export interface RingServiceOptions {
  /** The node's actor system (its root ref); the node's name is the system's name. */
  readonly root: ActorRef<never>;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** The node's storage environment (LMDB); the service uses stores `ring.cluster` and `ring.data`. */
  readonly storage: Storage;
  readonly clusterName: string;
  /** Liveness of other nodes (SWIM), see view.ts. */
  readonly liveness: Liveness;
  /** Whether a node is a core node (SWIM role `core`); default: every node that is up. */
  readonly isCoreNode?: (node: string) => boolean;
  /** Start a new cluster (a ring of one) if this node has no ring yet. Never set when joining. */
  readonly bootstrap?: boolean | { readonly partitionCount?: number; readonly replication?: number; readonly weight?: number };
  /** Buckets (default: an empty registry that serves the generic JSON type for any name). */
  readonly buckets?: BucketRegistry;
  /** Permission hooks for coverage filters (`permit` operator). */
  readonly permitHooks?: PermitHooks;
  /** `production` (default) or `test`, then overrides. */
  readonly preset?: 'production' | 'test';
  readonly config?: Partial<RingConfig>;
}

export interface RingMemberStatus {
  readonly name: string;
  readonly weight: number;
  readonly up: boolean;
  readonly owned: number;
  readonly primaries: number;
}

export interface RingSummary {
  readonly clusterName: string;
  readonly origin: string;
  readonly version: number;
  readonly hash: string;
  readonly committedBy: string;
  readonly partitionCount: number;
  readonly replication: number;
  readonly members: readonly RingMemberStatus[];
}

export interface RingDetails extends RingSummary {
  /** Per partition, its owners, primary first. */
  readonly owners: readonly (readonly string[])[];
  readonly balance: Balance;
}

export interface TransfersStatus extends TransfersSummary {
  /** True when nothing is pending (`cluster transfers` says "done"). */
  readonly complete: boolean;
  /** This node's handoff sessions and waiting partitions (hinted handoff included). */
  readonly local: Pick<HostStatus, 'sessions' | 'waiting' | 'foreign'>;
}

export interface ClusterStatus {
  readonly node: string;
  readonly clusterName: string;
  /** Has a ring (bootstrapped or joined). */
  readonly ready: boolean;
  readonly ring: RingSummary | null;
  readonly staged: readonly StagedChange[];
  /** Set when this node's last commit lost to a concurrent one (its changes must be staged again). */
  readonly lostCommit: { readonly version: number; readonly winner: string } | null;
  readonly transfers: TransfersStatus | null;
  readonly vnodes: HostStatus;
  readonly gossip: RingManager['stats'];
  /** The quorum path's batched requests (mux.ts): this node's calls, and its replies to others. */
  readonly requests: RequestStats;
}

export interface RequestStats extends Readonly<HostMux['stats']> {
  /** Calls waiting for their reply now. */
  readonly outstanding: number;
  readonly replyBatchesOut: number;
  /** Replies to other nodes dropped because the transport refused them. */
  readonly repliesDropped: number;
}

export interface RingService {
  readonly node: string;
  readonly buckets: BucketRegistry;
  readonly view: RingView;
  readonly config: RingConfig;
  status(): ClusterStatus;
  /** The quorum path's request counters (`status().requests`, without the rest of the status). */
  requestStats(): RequestStats;
  /** The committed ring with every partition's owners and the balance; undefined before a ring. */
  ring(): RingDetails | undefined;
  /** Stages a change (join NODE: NODE must be an up core node). Throws StageError or RingError. */
  stage(change: ChangeRequest): Promise<Staged>;
  /** The plan of the staged changes. Throws StageError ('nothing-staged', or a change that no longer applies). */
  plan(): Promise<Plan>;
  /** Commits the staged changes on this node (version + 1) and gossips the ring. Throws StageError. */
  commit(): Promise<Plan>;
  /** Drops the staged changes. */
  clear(): Promise<void>;
  transfers(): TransfersStatus | undefined;
  get<F extends Fields = Fields>(bucket: string, key: string, opts?: GetOptions): Promise<GetResult<F>>;
  update<F extends Fields>(bucket: string, key: string, ops: FieldOps<F>, opts?: WriteOptions): Promise<WriteResult>;
  delete(bucket: string, key: string, opts?: WriteOptions): Promise<WriteResult>;
  /** The maintenance interface: stores `value` in a generic bucket (InvalidOperationError for typed buckets). */
  putJson(bucket: string, key: string, value: Plain, opts?: WriteOptions): Promise<WriteResult>;
  /** The maintenance interface: deletes a key of a generic bucket (InvalidOperationError for typed buckets). */
  deleteJson(bucket: string, key: string, opts?: WriteOptions): Promise<WriteResult>;
  /** The maintenance interface: the JSON value (generic bucket) or plain record (typed), undefined if absent. */
  getJson(bucket: string, key: string, opts?: GetOptions): Promise<Plain | undefined>;
  list(bucket: string, opts?: ListOptions): Promise<ListPage>;
  /** The vnode host (tests and diagnostics). */
  readonly host: VnodeHost;
  stop(): Promise<void>;
}

/** The node part of writer ids: the name, or a hash of it when long (crdt node ids ≤ 128 bytes). */
export function writerBaseOf(node: string): string {
  return Buffer.byteLength(node) <= 96 ? node : `#${createHash('sha256').update(node).digest('base64url').slice(0, 22)}`;
}

/** A change as stored: the fields its kind needs, node names as strings. */
function isStagedChange(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const c = x as Record<string, unknown>;
  if (typeof c['node'] !== 'string') return false;
  switch (c['kind']) {
    case 'join':
      return typeof c['weight'] === 'number' && Number.isSafeInteger(c['weight']);
    case 'leave':
    case 'remove':
      return true;
    case 'replace':
      return typeof c['replacement'] === 'string';
    default:
      return false;
  }
}

/** The stored staged changes; a record of the wrong shape stops the start (it is left as it is). */
function loadStaged(store: Store<unknown>): Staged {
  const staged = store.get(['staged']);
  if (staged === undefined) return nothingStaged;
  const changes = typeof staged === 'object' && staged !== null ? (staged as { changes?: unknown }).changes : undefined;
  if (!Array.isArray(changes) || !changes.every(isStagedChange)) throw new RingConfigError('the stored staged changes (store ring.cluster, key ["staged"]) are not valid');
  return staged as Staged;
}

function loadState(store: Store<unknown>, clusterName: string): ClusterState {
  const saved = store.get(['ring']);
  const staged = loadStaged(store);
  if (saved === undefined) return { ...emptyClusterState, staged };
  if (typeof saved !== 'object' || saved === null) throw new RingConfigError('the stored ring (store ring.cluster, key ["ring"]) is not valid: not an object');
  const made = ringFromPeer((saved as { ring?: unknown }).ring);
  if ('reason' in made) throw new RingConfigError(`the stored ring is not valid: ${made.reason}`);
  if (made.ring.clusterName !== clusterName) throw new RingConfigError(`this node's data belongs to cluster ${made.ring.clusterName}, not ${clusterName}`);
  // Damaged transfers stop the start like a damaged ring: they cannot be rebuilt, and "nothing
  // moving" in their place would misroute reads and let the reaper resurrect (manager-core.ts).
  const t = transfersFromPeer((saved as { transfers?: unknown }).transfers, made.ring);
  if ('reason' in t) throw new RingConfigError(`the stored transfer state (store ring.cluster, key ["ring"]) is not valid: ${t.reason}`);
  return { ...emptyClusterState, ring: made.ring, transfers: t.transfers, staged };
}

function summary(ring: Ring, isUp: (n: string) => boolean): RingSummary {
  const b = balance(ring);
  return {
    clusterName: ring.clusterName,
    origin: ring.origin,
    version: ring.version,
    hash: ring.hash,
    committedBy: ring.committedBy,
    partitionCount: ring.partitionCount,
    replication: ring.replication,
    members: b.members.map((m) => ({ name: m.name, weight: m.weight, up: isUp(m.name), owned: m.owned, primaries: m.primaries })),
  };
}

function managerOutcome(r: ManagerReply): unknown {
  if (r.ok) return r.value;
  if ('stage' in r) throw new StageError(r.stage.code as StageErrorCode, r.stage.message);
  throw new RingError(r.code as RingError['code'], r.message);
}

/** Moves the node incarnation on unless the last stop was clean (writer ids: kv-vnode.ts). */
async function nextIncarnation(cluster: Store<unknown>): Promise<number> {
  const clean = cluster.get(['clean']) === true;
  const previous = cluster.get(['incarnation']);
  const incarnation = (typeof previous === 'number' ? previous : 0) + (clean ? 0 : 1);
  await cluster.batch([{ op: 'put', key: ['incarnation'], value: incarnation }, { op: 'delete', key: ['clean'] }]);
  return incarnation;
}

/** The persisted cluster state, or a ring of one if told to start a new cluster. */
async function initialState(opts: RingServiceOptions, self: string, cluster: Store<unknown>, log: Logger): Promise<ClusterState> {
  const state = loadState(cluster, opts.clusterName);
  if (state.ring || !opts.bootstrap) return state;
  const b = typeof opts.bootstrap === 'object' ? opts.bootstrap : {};
  const ring = bootstrapRing({ clusterName: opts.clusterName, node: self, ...b });
  const transfers = noTransfers(ring);
  await cluster.put(['ring'], { ring: ringToData(ring), transfers });
  log.info('started a new cluster', { cluster: opts.clusterName, partitions: ring.partitionCount, replication: ring.replication });
  return { ...state, ring, transfers };
}

interface Parts {
  readonly self: string;
  readonly config: RingConfig;
  readonly view: RingView;
  readonly buckets: BucketRegistry;
  readonly hooks: PermitHooks;
  readonly coordinator: Coordinator;
  readonly mux: HostMux;
  readonly manager: RingManager;
  readonly managerRef: ActorRef<ManagerMessage>;
  readonly host: VnodeHost;
  readonly cluster: Store<unknown>;
  /** Undoes the subscriptions and timers. */
  readonly detach: () => void;
}

/** Spawns the manager and the vnode host, and wires subscriptions and timers to them. */
function spawnParts(opts: RingServiceOptions, base: Omit<Parts, 'manager' | 'managerRef' | 'host' | 'detach'>, state: ClusterState, incarnation: number, log: Logger): Parts {
  const { self, view, config, coordinator, cluster } = base;
  const manager = new RingManager({ self, clusterName: opts.clusterName, store: cluster, view, isCoreNode: opts.isCoreNode ?? ((n) => view.isUp(n)), random: opts.random, log }, state);
  const managerRef = spawn(opts.root, managerActor, 'ring-manager', { initialState: manager }) as ActorRef<ManagerMessage>;
  const env: KvVnodeEnv = {
    self,
    data: opts.storage.store<unknown>(dataStoreName),
    storage: opts.storage,
    buckets: base.buckets,
    clock: opts.clock,
    log,
    hooks: base.hooks,
    incarnation,
    writerBase: writerBaseOf(self),
    buildRecordsPerStep: config.aaeBuildRecordsPerStep,
    treeExpiryMs: config.aaeTreeExpiryMs,
    clockSkewMaxMs: config.clockSkewMaxMs,
    replicate: coordinator.replicate.bind(coordinator),
  };
  const muxRef = spawn(opts.root, muxActor(base.mux), 'ring-replies') as ActorRef<MuxMessage>;
  base.mux.bind(muxRef);
  const host = new VnodeHost({ view, env, config, random: opts.random, log, manager: managerRef });
  coordinator.attachLocal((p, bucket, key) => host.readLocal(p, bucket, key), (p, cmd) => host.commandLocal(p, cmd));
  const hostRef = spawn(opts.root, hostActor, 'ring-vnodes', { initialStateFunc: () => host.reset() }) as ActorRef<HostMessage>;
  dispatch(hostRef, { t: 'ring-changed' });
  dispatch(managerRef, { t: 'hello' });
  const unsubscribes: (() => void)[] = [view.subscribe(() => dispatch(hostRef, { t: 'ring-changed' }))];
  const unsubscribeLiveness = opts.liveness.subscribe?.((node, up) => {
    if (!up) return;
    dispatch(managerRef, { t: 'hello', node });
    dispatch(hostRef, { t: 'tick-handoff' });
  });
  if (unsubscribeLiveness) unsubscribes.push(unsubscribeLiveness);
  const timers: Timer[] = [
    every(opts.clock, config.gossipIntervalMs, () => dispatch(managerRef, { t: 'tick' })),
    every(opts.clock, config.handoffIntervalMs, () => dispatch(hostRef, { t: 'tick-handoff' })),
    every(opts.clock, config.aaeIntervalMs, () => dispatch(hostRef, { t: 'tick-aae' })),
    every(opts.clock, config.reapIntervalMs, () => dispatch(hostRef, { t: 'tick-reap' })),
  ];
  const detach = (): void => {
    for (const t of timers) t.cancel();
    for (const u of unsubscribes) u();
    stopActor(hostRef);
    stopActor(managerRef);
    base.mux.stop();
    stopActor(muxRef);
    coordinator.stop();
    view.close();
  };
  return { ...base, manager, managerRef, host, detach };
}

/** Starts the ring service on a node (module header). */
export async function startRingService(opts: RingServiceOptions): Promise<RingService> {
  const self = systemOf(opts.root).name;
  const config = ringConfig(opts.config, opts.preset === 'test' ? testConfig : productionConfig);
  const log = opts.logger.child({ component: 'ring' });
  const cluster = opts.storage.store<unknown>('ring.cluster');
  const incarnation = await nextIncarnation(cluster);
  const state = await initialState(opts, self, cluster, log);
  const view = new RingView(self, opts.liveness);
  if (state.ring) view.publish(state.ring, state.transfers ?? noTransfers(state.ring));
  const buckets = opts.buckets ?? new BucketRegistry({ generic: true });
  const hooks: PermitHooks = opts.permitHooks ?? new Map();
  const mux = new HostMux({ self, clock: opts.clock, random: opts.random, root: opts.root });
  const coordinator = new Coordinator({ self, clock: opts.clock, root: opts.root, view, buckets, config, mux });
  const parts = spawnParts(opts, { self, config, view, buckets, hooks, coordinator, mux, cluster }, state, incarnation, log);
  return serviceApi(opts, parts);
}

/** The maintenance interface changes generic buckets only (InvalidOperationError otherwise). */
function requireGeneric(spec: BucketSpec, verb: 'write' | 'remove'): void {
  if (!spec.generic) throw new InvalidOperationError(`bucket ${spec.name} holds typed records; ${verb} them through their service${spec.changedThrough ? ` (${spec.changedThrough})` : ''}`);
}

function serviceApi(opts: RingServiceOptions, parts: Parts): RingService {
  const { self, config, view, buckets, hooks, coordinator, manager, managerRef, host, cluster } = parts;
  const ask = async (msg: ManagerMessage): Promise<unknown> => managerOutcome(await query<ManagerReply, ManagerMessage>(managerRef, msg, config.requestTimeoutMs));
  const transfers = (): TransfersStatus | undefined => {
    const t = view.transfers;
    if (!t) return undefined;
    const s = summarizeTransfers(t);
    const h = host.status();
    return { ...s, complete: s.pending === 0, local: { sessions: h.sessions, waiting: h.waiting, foreign: h.foreign } };
  };
  const requestStats = (): RequestStats => ({ ...parts.mux.stats, outstanding: parts.mux.outstanding, replyBatchesOut: host.replyStats.batchesOut, repliesDropped: host.replyStats.dropped });
  let stopping: Promise<void> | undefined;
  return {
    node: self,
    buckets,
    view,
    config,
    host,
    status: () => ({
      node: self,
      clusterName: opts.clusterName,
      ready: view.ring !== undefined,
      ring: view.ring ? summary(view.ring, view.isUp) : null,
      staged: manager.staged.changes,
      lostCommit: manager.state.lostCommit ?? null,
      transfers: transfers() ?? null,
      vnodes: host.status(),
      gossip: { ...manager.stats },
      requests: requestStats(),
    }),
    requestStats,
    ring: () => {
      const ring = view.ring;
      return ring ? { ...summary(ring, view.isUp), owners: ring.owners, balance: balance(ring) } : undefined;
    },
    stage: async (change) => (await ask({ t: 'stage', change })) as Staged,
    plan: async () => (await ask({ t: 'plan' })) as Plan,
    commit: async () => (await ask({ t: 'commit' })) as Plan,
    clear: async () => {
      await ask({ t: 'clear' });
    },
    transfers,
    get: (bucket, key, o) => coordinator.get(bucket, key, o),
    update: (bucket, key, ops, o) => coordinator.update(bucket, key, ops, o),
    delete: (bucket, key, o) => coordinator.delete(bucket, key, o),
    putJson: (bucket, key, value, o) => {
      // Not async (one per write; see coordinator.ts `write`): a refusal is a rejection all the same.
      try {
        requireGeneric(buckets.resolve(bucket), 'write');
      } catch (err) {
        return Promise.reject(err as Error);
      }
      return coordinator.update(bucket, key, { value: { set: value } }, o);
    },
    deleteJson: async (bucket, key, o) => {
      // A typed record belongs to its service; a delete is final until its tombstone is reaped.
      requireGeneric(buckets.resolve(bucket), 'remove');
      return coordinator.delete(bucket, key, o);
    },
    // Not async (one per read; an awaiting async frame keeps its locals on the heap).
    getJson: (bucket, key, o) =>
      coordinator.get(bucket, key, o).then((r) => {
        if (!r.found) return undefined;
        return buckets.resolve(bucket).generic ? ((r.value as { value?: Plain }).value ?? null) : (r.value as Plain);
      }),
    list: async (bucket, o) => {
      if (!view.ring) throw new NoRingError('this node is not part of a cluster yet');
      return listBucket({ view, buckets, config, hooks, random: opts.random, hostRef: (n) => coordinator.hostRef(n) }, bucket, o);
    },
    stop() {
      stopping ??= (async () => {
        parts.detach();
        await opts.storage.flushed();
        await cluster.put(['clean'], true);
      })();
      return stopping;
    },
  };
}
