/**
 * Hypervisors as a core node sees them: the directory behind `GET /api/v1/hypervisors`.
 *
 * Two sources, joined by name:
 * - the ring's `hypervisors` bucket (hypervisor-store.ts): each agent keeps its record there
 *   (hypervisor-agent/src/publisher.ts: within ~250 ms of a ledger or zone change), so the
 *   figures of a host that is down remain readable, and a listing costs a keys-only coverage
 *   query and one quorum read per stored hypervisor, not a round trip to every agent;
 * - SWIM, which says who is `up` (alive or suspect) or `down` (dead, left, or no longer known:
 *   SWIM forgets the dead after a bounded time; the store does not). An agent SWIM knows that
 *   has no record yet (it joined a moment ago) is listed with `record: null`.
 * `stale` is true when the record may not be the host's present state: the agent is down, or no
 * record is stored. `seenAt` is the record's `updatedAt`.
 *
 * Routes (admin token): `GET /api/v1/hypervisors`, `GET /api/v1/hypervisors/:name`,
 * `DELETE /api/v1/hypervisors/:name` (forgets a hypervisor that is down: its record is marked
 * removed and drops out of listings; an agent that comes back under that name registers again
 * with its next publish), and the ledger of one host — `GET …/:name/reservations[?after=VM&limit=N]` (one page
 * in VM id order; `next` continues), `POST …/:name/reservations` `{ vmId, ramMb, leaseMs? }`,
 * `POST …/:name/reservations/:vmId/confirm`, `DELETE …/:name/reservations/:vmId` — which pass
 * straight to the agent: the ledger is a lock at the host, never replicated state.
 */
import type { ActorSystem } from '@shoal/actors';
import { ApiError, type ApiRoutes, type ErrorCode } from '@shoal/api';
import { AgentRequestError, agentReservations, agentReserve, askAgent, type AgentRequestErrorCode } from '@shoal/hypervisor-agent';
import type { RingService } from '@shoal/ring';
import type { Clock } from '@shoal/runtime';
import type { Member, MemberState, SwimNode } from '@shoal/swim';
import { agentLeaseMsSchema, agentLimits, agentRamMbSchema, type HypervisorRecord, type MemoryFigures } from '@shoal/wire';
import { HypervisorStore, StoreNotReadyError, storedHypervisorsMax, type StoredHypervisor } from './hypervisor-store.js';
import { asApiError } from './ring.js';

/** Agents listed at most (SWIM's own member cap is 10 000). */
export const hypervisorsListMax = storedHypervisorsMax;

export interface HypervisorView {
  name: string;
  /** `up` while SWIM holds the agent alive or suspect; `down` otherwise. */
  state: 'up' | 'down';
  /** SWIM's state of the agent, `unknown` once SWIM has forgotten it (the store has not). */
  swimState: MemberState | 'unknown';
  /** The stored record's `updatedAt` (ISO 8601), or null if none is stored. */
  seenAt: string | null;
  /** True when the record may not be the host's present state (agent down, or no record). */
  stale: boolean;
  /** Why the record is stale or missing, when it is. */
  error?: string;
  memory: MemoryFigures | null;
  zones: Record<string, number> | null;
  record: HypervisorRecord | null;
}

const apiCodeOf: Record<AgentRequestErrorCode, ErrorCode> = {
  invalid: 'bad_request',
  'not-found': 'not_found',
  exists: 'conflict',
  conflict: 'conflict',
  state: 'conflict',
  'no-reservation': 'conflict',
  'insufficient-memory': 'conflict',
  'zone-exists': 'conflict',
  limit: 'conflict',
  busy: 'too_many_requests',
  driver: 'unavailable',
  timeout: 'timeout',
  unavailable: 'unavailable',
  unreachable: 'unavailable',
  'bad-reply': 'internal',
};

const isUp = (m: Member | undefined): boolean => m !== undefined && (m.state === 'alive' || m.state === 'suspect');

/** A store failure as an API error. */
function storeError(err: unknown): unknown {
  if (err instanceof StoreNotReadyError) return new ApiError('unavailable', `${err.message}; try again in a moment`);
  return asApiError(err);
}

export class HypervisorDirectory {
  readonly store: HypervisorStore;

  constructor(
    private readonly swim: () => SwimNode | undefined,
    ring: () => RingService | undefined,
    private readonly system: ActorSystem,
    private readonly clock: Clock,
  ) {
    this.store = new HypervisorStore(ring, clock);
  }

  /** Agents SWIM knows, by name. */
  private agents(): Map<string, Member> {
    const swim = this.swim();
    // As the members route: membership starts after the API, and an empty list would be a lie.
    if (!swim) throw new ApiError('unavailable', 'membership is still starting; try again in a moment');
    return new Map(swim
      .members()
      .filter((m) => m.meta.role === 'agent')
      .map((m) => [m.name, m]));
  }

  /**
   * Every hypervisor (stored or known to SWIM), in name order, at most `hypervisorsListMax`
   * (`truncated` when there were more). Listed records leave out the zone list (`zones: []`;
   * `GET …/:name` has it, `zones` in the view still counts them).
   */
  async list(): Promise<{ hypervisors: HypervisorView[]; truncated: boolean }> {
    const agents = this.agents();
    try {
      const listed = await this.store.names();
      // Keys of removed records are still stored (their mark): read first, then list only what
      // is stored and not removed, or known to SWIM.
      const stored = await this.store.getMany(listed.names);
      const all = [...new Set([...listed.names, ...agents.keys()])].filter((n) => stored.has(n) || agents.has(n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const truncated = listed.truncated || all.length > hypervisorsListMax;
      const names = all.slice(0, hypervisorsListMax);
      return { hypervisors: names.map((n) => withoutZones(view(n, agents.get(n), stored.get(n)))), truncated };
    } catch (err) {
      throw storeError(err);
    }
  }

  async get(name: string): Promise<HypervisorView | undefined> {
    const member = this.agents().get(name);
    let stored: StoredHypervisor | undefined;
    try {
      stored = await this.store.get(name);
    } catch (err) {
      throw storeError(err);
    }
    return member || stored ? view(name, member, stored) : undefined;
  }

  /** Forgets a hypervisor that is down; ApiError if it is up or unknown. */
  async remove(name: string): Promise<void> {
    const member = this.agents().get(name);
    if (isUp(member)) throw new ApiError('conflict', `hypervisor ${name} is up; stop its agent first (a running agent registers again)`);
    let removed: boolean;
    try {
      removed = await this.store.remove(name, this.clock.wallMs());
    } catch (err) {
      throw storeError(err);
    }
    if (!removed) throw new ApiError('not_found', `no hypervisor named ${name} is stored`);
  }

  /** The agent's name if SWIM knows it and it is up; ApiError otherwise. */
  reachable(name: string): string {
    const m = this.agents().get(name);
    if (!m) throw new ApiError('not_found', `no hypervisor named ${name}`);
    if (!isUp(m)) throw new ApiError('unavailable', `hypervisor ${name} is down (SWIM: ${m.state})`);
    return name;
  }

  /** Runs an agent call, turning its failures into API errors. */
  async call<T>(name: string, fn: (system: ActorSystem, name: string) => Promise<T>): Promise<T> {
    this.reachable(name);
    try {
      return await fn(this.system, name);
    } catch (err) {
      if (err instanceof AgentRequestError) throw new ApiError(apiCodeOf[err.code], err.message);
      throw err;
    }
  }
}

/** A listed view: the record without its zone list (the counts stay in `zones`). */
function withoutZones(v: HypervisorView): HypervisorView {
  return v.record ? { ...v, record: { ...v.record, zones: [] } } : v;
}

function view(name: string, member: Member | undefined, stored: StoredHypervisor | undefined): HypervisorView {
  const up = isUp(member);
  const swimState = member?.state ?? 'unknown';
  const record = stored && 'record' in stored ? stored.record : null;
  let error: string | undefined;
  if (stored && 'error' in stored) error = stored.error;
  else if (!record) error = up ? 'the agent has not stored its record yet' : `the agent is ${swimState} (SWIM) and no record is stored`;
  else if (!up) error = `the agent is ${swimState === 'unknown' ? 'no longer known to SWIM' : `${swimState} (SWIM)`}; figures as of ${record.updatedAt}`;
  return {
    name,
    state: up ? 'up' : 'down',
    swimState,
    seenAt: record?.updatedAt ?? null,
    stale: !up || !record,
    ...(error !== undefined ? { error } : {}),
    memory: record?.memory ?? null,
    zones: record?.zoneCounts ?? null,
    record,
  };
}

const nameParam = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$', description: 'a hypervisor name (a letter or digit, then up to 62 letters, digits, ".", "_" or "-")' } as const;
const uuidParam = { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', description: 'a VM id (a UUID in lowercase hex)' } as const;
// The agent's own bounds (the wire schema of agent.reserve and agent.reservations): a value past
// them is refused here with a clear message, not sent to the agent to fail there.
const pageLimitParam = { type: 'string', pattern: '^[1-9][0-9]{0,3}$', description: `an integer from 1 to ${agentLimits.reservationsPageMax}` } as const;
const ramMbField = { type: 'integer', minimum: agentRamMbSchema.min, maximum: agentRamMbSchema.max } as const;
const leaseMsField = { type: 'integer', minimum: agentLeaseMsSchema.min, maximum: agentLeaseMsSchema.max } as const;
const openObject = { type: 'object', additionalProperties: true } as const;
const viewSchema = {
  type: 'object',
  required: ['name', 'state', 'swimState', 'seenAt', 'stale', 'memory', 'zones', 'record'],
  properties: {
    name: { type: 'string' },
    state: { type: 'string', enum: ['up', 'down'] },
    swimState: { type: 'string', enum: ['alive', 'suspect', 'dead', 'left', 'unknown'] },
    seenAt: { type: ['string', 'null'] },
    stale: { type: 'boolean' },
    error: { type: 'string' },
    memory: {
      type: ['object', 'null'],
      properties: Object.fromEntries(['totalMb', 'reservedForHostMb', 'provisionedMb', 'pendingMb', 'freeMb', 'overcommittedMb'].map((k) => [k, { type: 'integer' }])),
    },
    zones: { type: ['object', 'null'], additionalProperties: { type: 'integer' } },
    record: { type: ['object', 'null'], additionalProperties: true },
  },
} as const;

export function hypervisorRoutes(dir: HypervisorDirectory): ApiRoutes {
  return (app, { requireAdmin }) => {
    app.get('/api/v1/hypervisors', { onRequest: requireAdmin, schema: { response: { 200: { type: 'object', properties: { hypervisors: { type: 'array', items: viewSchema }, truncated: { type: 'boolean' } } } } } }, async () => dir.list());
    app.get<{ Params: { name: string } }>('/api/v1/hypervisors/:name', { onRequest: requireAdmin, schema: { params: { type: 'object', properties: { name: nameParam } }, response: { 200: viewSchema } } }, async (req) => {
      const view = await dir.get(req.params.name);
      if (!view) throw new ApiError('not_found', `no hypervisor named ${req.params.name}`);
      return view;
    });
    app.delete<{ Params: { name: string } }>(
      '/api/v1/hypervisors/:name',
      { onRequest: requireAdmin, schema: { params: { type: 'object', properties: { name: nameParam } }, response: { 200: { type: 'object', properties: { name: { type: 'string' }, removed: { type: 'boolean' } } } } } },
      async (req) => {
        await dir.remove(req.params.name);
        return { name: req.params.name, removed: true };
      },
    );
    app.get<{ Params: { name: string }; Querystring: { after?: string; limit?: string } }>(
      '/api/v1/hypervisors/:name/reservations',
      {
        onRequest: requireAdmin,
        schema: {
          params: { type: 'object', properties: { name: nameParam } },
          querystring: { type: 'object', additionalProperties: false, properties: { after: uuidParam, limit: pageLimitParam } },
          response: { 200: openObject },
        },
      },
      async (req) => {
        const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
        if (limit !== undefined && limit > agentLimits.reservationsPageMax) throw new ApiError('bad_request', `query parameter "limit" must be ${pageLimitParam.description}, got ${limit}`);
        return dir.call(req.params.name, (s, n) => agentReservations(s, n, { ...(req.query.after ? { after: req.query.after } : {}), ...(limit ? { limit } : {}) }));
      },
    );
    app.post<{ Params: { name: string }; Body: { vmId: string; ramMb: number; leaseMs?: number } }>(
      '/api/v1/hypervisors/:name/reservations',
      {
        onRequest: requireAdmin,
        schema: {
          params: { type: 'object', properties: { name: nameParam } },
          body: { type: 'object', required: ['vmId', 'ramMb'], additionalProperties: false, properties: { vmId: uuidParam, ramMb: ramMbField, leaseMs: leaseMsField } },
          response: { 200: openObject },
        },
      },
      async (req) => dir.call(req.params.name, (s, n) => agentReserve(s, n, req.body)),
    );
    app.post<{ Params: { name: string; vmId: string } }>(
      '/api/v1/hypervisors/:name/reservations/:vmId/confirm',
      { onRequest: requireAdmin, schema: { params: { type: 'object', properties: { name: nameParam, vmId: uuidParam } }, response: { 200: openObject } } },
      async (req) => dir.call(req.params.name, (s, n) => askAgent(s, n, { type: 'agent.confirm', vmId: req.params.vmId })),
    );
    app.delete<{ Params: { name: string; vmId: string } }>(
      '/api/v1/hypervisors/:name/reservations/:vmId',
      { onRequest: requireAdmin, schema: { params: { type: 'object', properties: { name: nameParam, vmId: uuidParam } }, response: { 200: openObject } } },
      async (req) => dir.call(req.params.name, (s, n) => askAgent(s, n, { type: 'agent.release', vmId: req.params.vmId })),
    );
  };
}
