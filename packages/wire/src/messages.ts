/**
 * Shoal's message types: the one append-only registry (`shoalRegistry`).
 *
 * Id ranges by subsystem (an id is never reused or renamed; append new ids at the end of the
 * owning range and add them to test/fixtures/registry.json):
 *
 *     0          batch frame marker (codec.ts), never a message type
 *     1 – 99     transport: stream handshake, transport control
 *     100 – 199  actors: remote dispatch, query, monitors
 *     200 – 399  swim: membership, gossip, push-pull
 *     400 – 599  ring: ownership, handoff, anti-entropy, coverage, IP register
 *     600 – 699  agent: hypervisor agent requests and events
 *     700 – 999  api / cluster control
 *     1000 –     unassigned
 *
 * SWIM ids in use (defined in packages/swim/src/codec.ts; this package cannot import @shoal/swim,
 * so the registry contract, packages/wire/test/fixtures/registry.json, lists them too):
 *
 *     200 swim.ping   201 swim.ping-req   202 swim.ack   203 swim.nack   204 swim.alive
 *     205 swim.suspect   206 swim.dead   207 swim.push-pull   208 swim.push-pull-reply
 *
 * Schemas may evolve compatibly (new optional fields); a change that an older peer would reject
 * needs a new id.
 */
import type { WireLimits } from './limits.js';
import { Registry } from './registry.js';
import { Issue, s, Schema } from './schema.js';
import type { Infer } from './schema.js';

export const shoalRegistry = new Registry();

/** A cluster name: also the additional authenticated data of every sealed packet. */
export const clusterNameSchema = s.string({ bytesMin: 1, bytesMax: 64, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ });
/** A node name as gossiped by SWIM (`name` of `shoal node start --name`). */
export const nodeNameSchema = s.string({ bytesMin: 1, bytesMax: 128 });
export const nonceBytes = 32;
export const proofBytes = 32;

/** Handshake messages are tiny: a peer that sends more is not speaking the protocol. */
const handshakeLimits: Partial<WireLimits> = {
  frameBytesMax: 512,
  depthMax: 1,
  stringBytesMax: 128,
  binBytesMax: 32,
  mapSizeMax: 8,
  arrayLengthMax: 8,
  elementsMax: 32,
};

// ---- 1–99: transport ---------------------------------------------------------------------

/** Client → server, sealed with the client's primary key: who I am, and my fresh nonce. */
export const HandshakeHello = shoalRegistry.define({
  id: 1,
  name: 'handshake.hello',
  schema: s.object({
    v: s.uint({ max: 255 }),
    cluster: clusterNameSchema,
    node: nodeNameSchema,
    nonce: s.bytes({ length: nonceBytes }),
  }),
  limits: handshakeLimits,
});

/** Server → client, sealed with the key that opened the hello: my nonce and my proof. */
export const HandshakeChallenge = shoalRegistry.define({
  id: 2,
  name: 'handshake.challenge',
  schema: s.object({
    node: nodeNameSchema,
    nonce: s.bytes({ length: nonceBytes }),
    proof: s.bytes({ length: proofBytes }),
  }),
  limits: handshakeLimits,
});

/** Client → server: my proof, covering the server's nonce (so a replayed hello cannot finish). */
export const HandshakeResponse = shoalRegistry.define({
  id: 3,
  name: 'handshake.response',
  schema: s.object({ proof: s.bytes({ length: proofBytes }) }),
  limits: handshakeLimits,
});

// ---- 100–199: actors ---------------------------------------------------------------------

/**
 * An actor reference on the wire, the serialisable form of the actors package's `ActorRef`
 * (`RefJSON`): the node hosting the actor and the path of names from that node's root. Bounds
 * follow packages/actors/src/names.ts (names of at most 128 characters, paths of at most 64).
 */
export const actorPathSegmentSchema = s.string({ bytesMin: 1, bytesMax: 512, charsMax: 128 });
export const actorRefSchema = s.object({
  node: nodeNameSchema,
  path: s.array(actorPathSegmentSchema, { lengthMax: 64 }),
});
export type ActorRefWire = Infer<typeof actorRefSchema>;

export const actorBatchItemsMax = 4096;

/**
 * Many actor messages to actors on one node: `body` is any msgpack value, bounded by limits.
 * Spoken by link protocol v1 only; v2 links carry `actor.sends` (id 103) instead. Kept defined
 * because ids are never removed.
 */
export const ActorBatch = shoalRegistry.define({
  id: 100,
  name: 'actor.batch',
  schema: s.object({
    items: s.array(
      s.object({
        to: actorRefSchema,
        from: s.optional(actorRefSchema),
        body: s.any(),
      }),
      { lengthMax: actorBatchItemsMax },
    ),
  }),
});

/** Monitor id as the actors package issues them (a positive safe integer). */
const monitorIdSchema = s.uint({ min: 1 });

/** Ask the target's node to watch `target` for `watcher` (answered by a `shoal.down` message). */
export const ActorMonitor = shoalRegistry.define({
  id: 101,
  name: 'actor.monitor',
  schema: s.object({ watcher: actorRefSchema, target: actorRefSchema, id: monitorIdSchema }),
});

/** Cancel an `actor.monitor`. */
export const ActorDemonitor = shoalRegistry.define({
  id: 102,
  name: 'actor.demonitor',
  schema: s.object({ watcher: actorRefSchema, target: actorRefSchema, id: monitorIdSchema }),
});

/** Distinct refs in one `actor.sends` body (a batch has at most 2 per message). */
export const actorSendsRefsMax = 2 * actorBatchItemsMax;

/** The body of `actor.sends`; see `ActorSends`. */
export interface ActorSendsBody {
  readonly refs: readonly ActorRefWire[];
  /** Flat `(to, from, body)` triples: `to` indexes `refs`, `from` indexes `refs` or is null. */
  readonly items: readonly unknown[];
}

function isRefIndex(x: unknown, refCount: number): boolean {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < refCount;
}

/**
 * Checks an `actor.sends` body: the two arrays within their bounds, every ref well formed, and
 * every triple's `to` (and `from`, unless null) an index into `refs`. Allocation-free unless it
 * fails; two integer tests per message, which is what makes the v2 envelope cheap to check.
 */
class ActorSendsSchema extends Schema<ActorSendsBody> {
  readonly kind = 'actor-sends';
  private readonly shape = s.object({
    refs: s.array(actorRefSchema, { lengthMax: actorSendsRefsMax }),
    items: s.array(s.any(), { lengthMax: 3 * actorBatchItemsMax }),
  });

  check(v: unknown, fromWire: boolean): Issue | undefined {
    const issue = this.shape.check(v, fromWire);
    if (issue) return issue;
    const { refs, items } = v as ActorSendsBody;
    if (items.length % 3 !== 0) return new Issue(`${items.length} values, not (to, from, body) triples`).at('items');
    const refCount = refs.length;
    for (let i = 0; i < items.length; i += 3) {
      if (!isRefIndex(items[i], refCount)) return new Issue(`"to" is not an index into refs (${refCount})`).at(i).at('items');
      const from = items[i + 1];
      if (from !== null && !isRefIndex(from, refCount)) return new Issue(`"from" is neither null nor an index into refs (${refCount})`).at(i + 1).at('items');
    }
    return undefined;
  }
}

/**
 * Many actor messages to actors on one node, link protocol v2. Each distinct ref (target or
 * sender) is written once per body, in `refs`; each message is then three values in `items`:
 * the index of its target, the index of its sender or null, and its body (any msgpack value,
 * bounded by the limits). Against `actor.batch` this saves, per message, a map with a nested
 * ref (about 30 bytes and 8 values to scan, decode, allocate and check) and lets the receiver
 * bind each ref once per frame instead of once per message.
 */
export const ActorSends = shoalRegistry.define({
  id: 103,
  name: 'actor.sends',
  schema: new ActorSendsSchema(),
});

// ---- 10–19: links (an authenticated stream between two nodes) -------------------------------

/** A process's incarnation: random, fixed for the life of the process. */
export const incarnationSchema = s.string({ bytesMin: 8, bytesMax: 32, pattern: /^[0-9a-f]+$/ });

const linkLimits: Partial<WireLimits> = { frameBytesMax: 256, depthMax: 1, stringBytesMax: 64, mapSizeMax: 4, elementsMax: 16 };

/**
 * Client → server, the first frame of the session: "use this stream as our link". The server
 * answers `link-accept` or `link-refuse`; the client sends nothing else before the answer.
 */
export const LinkOpen = shoalRegistry.define({
  id: 10,
  name: 'transport.link-open',
  schema: s.object({ v: s.uint({ max: 255 }), incarnation: incarnationSchema }),
  limits: linkLimits,
});

export const LinkAccept = shoalRegistry.define({
  id: 11,
  name: 'transport.link-accept',
  schema: s.object({ incarnation: incarnationSchema }),
  limits: linkLimits,
});

/** Why a link was refused: `duplicate` = a link between the two nodes exists or is being made by the other side. */
export const LinkRefuse = shoalRegistry.define({
  id: 12,
  name: 'transport.link-refuse',
  schema: s.object({ reason: s.enum(['duplicate', 'shutting-down', 'version']) }),
  limits: linkLimits,
});

// ---- 600–699: hypervisor agent ------------------------------------------------------------
//
// The hypervisor agent (hypervisor-agent/) serves one actor per host at path
// ['hypervisor', <agent name>]. Core nodes `query` it with one of the requests below (a plain
// object whose `type` is the registry name) and get back `agent.reply-ok` or
// `agent.reply-error`. The agent validates every request against these schemas before acting,
// so a malformed command changes nothing and is answered `invalid`. Ids: 600–619 requests,
// 640–649 replies, 660–679 reserved for events pushed by the agent.

/** A VM / zone id: a lower-case RFC 4122 UUID (SmartOS zone names are UUIDs). */
export const agentUuidSchema = s.string({ bytesMin: 36, bytesMax: 36, pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/ });
/** Memory in MB: 1 MB … 16 TiB. */
export const agentRamMbSchema = s.uint({ min: 1, max: 16 * 1024 * 1024 });
/** A reservation lease: 100 ms … 1 h (default 60 s at the agent when absent). */
export const agentLeaseMsSchema = s.uint({ min: 100, max: 3_600_000 });
const ipv4Schema = s.string({ bytesMax: 15, pattern: /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/ });
/** SmartOS nic tag names: letters, digits and `_`, at most 31. */
export const nicTagSchema = s.string({ bytesMin: 1, bytesMax: 31, pattern: /^[A-Za-z0-9_]+$/ });
/** ZFS-safe snapshot names, as vmadm requires: at most 64 of `[A-Za-z0-9_.:%-]`. */
export const snapshotNameSchema = s.string({ bytesMin: 1, bytesMax: 64, pattern: /^[A-Za-z0-9_.:%-]+$/ });
const printable = (bytesMax: number) => s.string({ bytesMin: 1, bytesMax, pattern: /^[^\u0000-\u001f\u007f]+$/ });
export const zoneBrandSchema = s.enum(['joyent', 'joyent-minimal', 'lx', 'bhyve', 'kvm']);
/** Shoal's zone states (the vmadm driver maps SmartOS's finer ones onto these). */
export const zoneStateSchema = s.enum(['provisioning', 'starting', 'running', 'stopping', 'stopped', 'failed']);
export const virtualisationSchema = s.enum(['zone', 'lx', 'bhyve', 'kvm']);

export const agentLimits = {
  nicsMax: 8,
  resolversMax: 6,
  metadataKeysMax: 128,
  metadataKeyBytesMax: 128,
  metadataValueBytesMax: 8 * 1024,
  snapshotsMax: 64,
  recordZonesMax: 4096,
  /** Reservations in one `agent.reservations` answer (≈ 250 KB, well inside a frame). */
  reservationsPageMax: 2_048,
  characteristicsMax: 64,
  nicTagsMax: 64,
} as const;

const metadataSchema = s.record(s.string({ bytesMax: agentLimits.metadataValueBytesMax }), {
  entriesMax: agentLimits.metadataKeysMax,
  key: s.string({ bytesMin: 1, bytesMax: agentLimits.metadataKeyBytesMax, pattern: /^[^\u0000-\u001f\u007f]+$/ }),
});

export const zoneNicSchema = s.object({
  nicTag: nicTagSchema,
  /** An IPv4 address, or `dhcp`. */
  ip: s.union([ipv4Schema, s.literal('dhcp')]),
  netmask: s.optional(ipv4Schema),
  gateway: s.optional(ipv4Schema),
  vlanId: s.optional(s.uint({ max: 4094 })),
  primary: s.optional(s.boolean()),
});

/** What a core node asks an agent to create: Shoal's zone spec (the driver turns it into vmadm's payload). */
export const zoneSpecSchema = s.object({
  uuid: agentUuidSchema,
  alias: s.optional(printable(64)),
  brand: zoneBrandSchema,
  ramMb: agentRamMbSchema,
  /** CPU cap in percent of one CPU (300 = three CPUs). */
  cpuCap: s.optional(s.uint({ min: 1, max: 100_000 })),
  quotaGb: s.optional(s.uint({ min: 1, max: 1_048_576 })),
  /** Virtual CPUs (bhyve, kvm). */
  cpus: s.optional(s.uint({ min: 1, max: 256 })),
  /** Size of the data disk (bhyve, kvm), GiB. */
  diskGb: s.optional(s.uint({ min: 1, max: 1_048_576 })),
  imageUuid: agentUuidSchema,
  /** lx only: the Linux kernel version the zone reports. */
  kernelVersion: s.optional(s.string({ bytesMin: 1, bytesMax: 32, pattern: /^[0-9][0-9A-Za-z.+_-]*$/ })),
  nics: s.array(zoneNicSchema, { lengthMax: agentLimits.nicsMax }),
  resolvers: s.array(ipv4Schema, { lengthMax: agentLimits.resolversMax }),
  customerMetadata: metadataSchema,
});
export type ZoneSpec = Infer<typeof zoneSpecSchema>;
export type ZoneNic = Infer<typeof zoneNicSchema>;
export type ZoneBrand = Infer<typeof zoneBrandSchema>;
export type ZoneState = Infer<typeof zoneStateSchema>;
export type Virtualisation = Infer<typeof virtualisationSchema>;

export const zoneSnapshotSchema = s.object({ name: snapshotNameSchema, createdAt: s.string({ bytesMax: 40 }) });
export type ZoneSnapshot = Infer<typeof zoneSnapshotSchema>;

/** A zone as a driver reports it. */
export const zoneSchema = s.object({
  uuid: agentUuidSchema,
  alias: s.optional(s.string({ bytesMax: 256 })),
  brand: zoneBrandSchema,
  state: zoneStateSchema,
  ramMb: s.uint({ max: 16 * 1024 * 1024 }),
  cpuCap: s.optional(s.uint()),
  quotaGb: s.optional(s.uint()),
  cpus: s.optional(s.uint()),
  imageUuid: s.optional(s.string({ bytesMax: 64 })),
  nics: s.array(s.object({ nicTag: s.string({ bytesMax: 64 }), ip: s.string({ bytesMax: 64 }), netmask: s.optional(s.string({ bytesMax: 64 })), gateway: s.optional(s.string({ bytesMax: 64 })), vlanId: s.optional(s.uint()), primary: s.optional(s.boolean()), mac: s.optional(s.string({ bytesMax: 32 })) }), { lengthMax: 32 }),
  resolvers: s.array(s.string({ bytesMax: 64 }), { lengthMax: 16 }),
  customerMetadata: s.record(s.string({ bytesMax: 64 * 1024 }), { entriesMax: 1024 }),
  snapshots: s.array(zoneSnapshotSchema, { lengthMax: 1024 }),
  createdAt: s.optional(s.string({ bytesMax: 40 })),
});
export type Zone = Infer<typeof zoneSchema>;

/** One line of the zone list in a hypervisor record. */
export const zoneSummarySchema = s.object({
  uuid: agentUuidSchema,
  alias: s.optional(s.string({ bytesMax: 256 })),
  brand: zoneBrandSchema,
  state: zoneStateSchema,
  ramMb: s.uint(),
});
export type ZoneSummary = Infer<typeof zoneSummarySchema>;

/** One reservation of the memory ledger. */
export const reservationSchema = s.object({
  vmId: agentUuidSchema,
  ramMb: s.uint(),
  state: s.enum(['pending', 'provisioned']),
  grantedAtMs: s.uint(),
  /** Wall-clock ms at which an unconfirmed reservation expires; absent once provisioned. */
  expiresAtMs: s.optional(s.uint()),
  /** The driver has (or had) a zone for this reservation. */
  zoneSeen: s.boolean(),
});
export type Reservation = Infer<typeof reservationSchema>;

/** The memory figures of a host, MB. free = total − reservedForHost − provisioned − pending (≥ 0). */
export const memoryFiguresSchema = s.object({
  totalMb: s.uint(),
  reservedForHostMb: s.uint(),
  provisionedMb: s.uint(),
  pendingMb: s.uint(),
  freeMb: s.uint(),
  /** How far provisioned + pending exceed what may be handed out (zones found at reconcile). */
  overcommittedMb: s.uint(),
});
export type MemoryFigures = Infer<typeof memoryFiguresSchema>;

/** The answer to `agent.reserve`. A refusal is an answer, not an error. */
export const reserveResultSchema = s.object({
  vmId: agentUuidSchema,
  granted: s.boolean(),
  ramMb: s.uint(),
  state: s.optional(s.enum(['pending', 'provisioned'])),
  expiresAtMs: s.optional(s.uint()),
  reason: s.optional(s.literal('insufficient-memory')),
  freeMb: s.uint(),
});
export type ReserveResult = Infer<typeof reserveResultSchema>;

/**
 * The hypervisor record: everything the cluster knows about one host, kept current by its agent.
 * Designed to be stored as is under key `name` in the ring bucket `hypervisors`: `revision`
 * orders versions (last writer wins by `(boot, seq)`), and nothing in it is local to a caller.
 */
export const hypervisorRecordSchema = s.object({
  v: s.uint({ min: 1, max: 255 }),
  name: s.string({ bytesMin: 1, bytesMax: 64 }),
  revision: s.object({ boot: s.uint(), seq: s.uint() }),
  updatedAt: s.string({ bytesMax: 40 }),
  agent: s.object({
    cluster: s.string({ bytesMax: 64 }),
    gossip: s.string({ bytesMax: 64 }),
    metrics: s.optional(s.string({ bytesMax: 64 })),
    version: s.string({ bytesMax: 32 }),
    driver: s.enum(['sim', 'vmadm']),
    startedAt: s.string({ bytesMax: 40 }),
  }),
  platform: s.string({ bytesMax: 128 }),
  virtualisation: s.array(virtualisationSchema, { lengthMax: 8 }),
  cpus: s.uint({ max: 65_536 }),
  memory: memoryFiguresSchema,
  disk: s.object({ totalGb: s.uint(), provisionedGb: s.uint(), freeGb: s.uint() }),
  nicTags: s.array(s.string({ bytesMax: 64 }), { lengthMax: agentLimits.nicTagsMax }),
  characteristics: s.record(s.string({ bytesMax: 256 }), { entriesMax: agentLimits.characteristicsMax, key: s.string({ bytesMin: 1, bytesMax: 64 }) }),
  topology: s.string({ bytesMax: 256 }),
  reservations: s.object({ pending: s.uint(), provisioned: s.uint() }),
  zoneCounts: s.record(s.uint(), { entriesMax: 16 }),
  zones: s.array(zoneSummarySchema, { lengthMax: agentLimits.recordZonesMax }),
  zonesTruncated: s.boolean(),
});
export type HypervisorRecord = Infer<typeof hypervisorRecordSchema>;

export const AgentInfo = shoalRegistry.define({ id: 600, name: 'agent.info', schema: s.object({ type: s.literal('agent.info') }) });

export const AgentReserve = shoalRegistry.define({
  id: 601,
  name: 'agent.reserve',
  schema: s.object({ type: s.literal('agent.reserve'), vmId: agentUuidSchema, ramMb: agentRamMbSchema, leaseMs: s.optional(agentLeaseMsSchema) }),
});

export const AgentConfirm = shoalRegistry.define({ id: 602, name: 'agent.confirm', schema: s.object({ type: s.literal('agent.confirm'), vmId: agentUuidSchema }) });

export const AgentRelease = shoalRegistry.define({ id: 603, name: 'agent.release', schema: s.object({ type: s.literal('agent.release'), vmId: agentUuidSchema }) });

/** One page of the ledger, by VM id: those after `after`, at most `limit` (≤ reservationsPageMax); the answer's `next` continues. */
export const AgentReservations = shoalRegistry.define({
  id: 604,
  name: 'agent.reservations',
  schema: s.object({ type: s.literal('agent.reservations'), after: s.optional(agentUuidSchema), limit: s.optional(s.uint({ min: 1, max: 2_048 })) }),
});

export const AgentZoneList = shoalRegistry.define({ id: 605, name: 'agent.zone-list', schema: s.object({ type: s.literal('agent.zone-list') }) });

export const AgentZoneGet = shoalRegistry.define({ id: 606, name: 'agent.zone-get', schema: s.object({ type: s.literal('agent.zone-get'), uuid: agentUuidSchema }) });

export const AgentZoneCreate = shoalRegistry.define({ id: 607, name: 'agent.zone-create', schema: s.object({ type: s.literal('agent.zone-create'), spec: zoneSpecSchema }) });

export const AgentZoneAction = shoalRegistry.define({
  id: 608,
  name: 'agent.zone-action',
  schema: s.object({ type: s.literal('agent.zone-action'), uuid: agentUuidSchema, action: s.enum(['start', 'stop', 'reboot', 'delete']), force: s.optional(s.boolean()) }),
});

export const AgentZoneUpdate = shoalRegistry.define({
  id: 609,
  name: 'agent.zone-update',
  schema: s.object({
    type: s.literal('agent.zone-update'),
    uuid: agentUuidSchema,
    ramMb: s.optional(agentRamMbSchema),
    cpuCap: s.optional(s.uint({ min: 1, max: 100_000 })),
    quotaGb: s.optional(s.uint({ min: 1, max: 1_048_576 })),
  }),
});

export const AgentZoneSnapshot = shoalRegistry.define({
  id: 610,
  name: 'agent.zone-snapshot',
  schema: s.object({ type: s.literal('agent.zone-snapshot'), uuid: agentUuidSchema, action: s.enum(['create', 'list', 'rollback', 'delete']), name: s.optional(snapshotNameSchema) }),
});

export const AgentZoneMetadata = shoalRegistry.define({
  id: 611,
  name: 'agent.zone-metadata',
  schema: s.object({
    type: s.literal('agent.zone-metadata'),
    uuid: agentUuidSchema,
    set: s.optional(metadataSchema),
    remove: s.optional(s.array(s.string({ bytesMin: 1, bytesMax: agentLimits.metadataKeyBytesMax }), { lengthMax: agentLimits.metadataKeysMax })),
  }),
});

/** Every request an agent accepts, told apart by `type`. */
export const agentRequestSchema = s.taggedUnion('type', [
  AgentInfo.schema,
  AgentReserve.schema,
  AgentConfirm.schema,
  AgentRelease.schema,
  AgentReservations.schema,
  AgentZoneList.schema,
  AgentZoneGet.schema,
  AgentZoneCreate.schema,
  AgentZoneAction.schema,
  AgentZoneUpdate.schema,
  AgentZoneSnapshot.schema,
  AgentZoneMetadata.schema,
]);
export type AgentRequest = Infer<typeof agentRequestSchema>;

/** Typed failures an agent answers with; `invalid` means the request was refused before anything changed. */
export const agentErrorCodeSchema = s.enum([
  'invalid',
  'not-found',
  'exists',
  'conflict',
  'state',
  'busy',
  'no-reservation',
  'insufficient-memory',
  'zone-exists',
  'limit',
  'driver',
  'timeout',
  'unavailable',
]);
export type AgentErrorCode = Infer<typeof agentErrorCodeSchema>;

/** A successful answer; `result`'s shape depends on the request (hypervisor-agent/src/service.ts; client.ts checks it). */
export const AgentReplyOk = shoalRegistry.define({ id: 640, name: 'agent.reply-ok', schema: s.object({ type: s.literal('agent.reply-ok'), result: s.any() }) });

export const AgentReplyError = shoalRegistry.define({
  id: 641,
  name: 'agent.reply-error',
  schema: s.object({ type: s.literal('agent.reply-error'), code: agentErrorCodeSchema, message: s.string({ bytesMax: 1024 }) }),
});

export const agentReplySchema = s.taggedUnion('type', [AgentReplyOk.schema, AgentReplyError.schema]);

/** The ordering of hypervisor records: `boot` (the agent's start, ms), then `seq` (changes during that run). */
export const recordRevisionSchema = s.object({ boot: s.uint(), seq: s.uint() });

/**
 * Pushed by an agent to the actor `['hypervisors']` of a core node, as a query: store this
 * record in the ring's `hypervisors` bucket (packages/cluster/src/hypervisor-store.ts). The
 * answer is `agent.reply-ok` with a `recordPublishResultSchema` result — `written: false` when
 * the store already held this revision or a newer one — or `agent.reply-error` (`unavailable`
 * or `timeout` when the store cannot take it now: the agent tries another core node).
 */
export const AgentRecordPublish = shoalRegistry.define({
  id: 660,
  name: 'agent.record-publish',
  schema: s.object({ type: s.literal('agent.record-publish'), record: hypervisorRecordSchema }),
});
export type AgentRecordPublishMessage = Infer<typeof AgentRecordPublish.schema>;

export const recordPublishResultSchema = s.object({ written: s.boolean(), revision: recordRevisionSchema });
export type RecordPublishResult = Infer<typeof recordPublishResultSchema>;
export type AgentReply = Infer<typeof agentReplySchema>;
