/**
 * Hypervisors as a core node sees them: the directory behind `GET /api/v1/hypervisors`.
 *
 * Until the ring's `hypervisors` bucket exists, a hypervisor's record lives where it is
 * authoritative — at its agent — and a core node answers from two sources:
 * - SWIM says who the agents are (members with role `agent`) and whether each is `up` (alive or
 *   suspect) or `down` (dead or left);
 * - each agent that is up is asked for its record (`agent.info` over the actor transport, all
 *   in parallel, bounded by `hypervisorQueryTimeoutMs`); the last record seen is kept, so an
 *   agent that is down, or slow to answer, is listed with its last known figures, marked `stale`
 *   with the time it was read.
 * When the ring store lands, agents write their record there (it is shaped for it: see
 * hypervisor-agent/src/record.ts) and `view()` reads the store instead of asking; the routes and
 * their JSON do not change.
 *
 * Routes (admin token): `GET /api/v1/hypervisors`, `GET /api/v1/hypervisors/:name`, and the
 * ledger of one host — `GET …/:name/reservations[?after=VM&limit=N]` (one page in VM id order; `next` continues), `POST …/:name/reservations`
 * `{ vmId, ramMb, leaseMs? }`, `POST …/:name/reservations/:vmId/confirm`,
 * `DELETE …/:name/reservations/:vmId` — which pass straight to the agent (the VM workflow will
 * call the agent itself; these are for operators and tests).
 */
import type { ActorSystem } from '@shoal/actors';
import { ApiError, type ApiRoutes, type ErrorCode } from '@shoal/api';
import { AgentRequestError, agentInfo, agentReservations, agentReserve, askAgent, type AgentRequestErrorCode } from '@shoal/hypervisor-agent';
import type { Clock } from '@shoal/runtime';
import type { Member, MemberState, SwimNode } from '@shoal/swim';
import type { HypervisorRecord, MemoryFigures } from '@shoal/wire';

/** How long a listing waits for each agent's record, ms. */
export const hypervisorQueryTimeoutMs = 2_000;
/** Agents listed at most (SWIM's own member cap is 10 000). */
export const hypervisorsListMax = 10_000;
/** Agent queries in flight at once during a listing. */
export const hypervisorQueriesMax = 64;

export interface HypervisorView {
  name: string;
  /** `up` while SWIM holds the agent alive or suspect; `down` once dead or left. */
  state: 'up' | 'down';
  swimState: MemberState;
  /** When the record shown was read from the agent (ISO 8601), or null if it never was. */
  seenAt: string | null;
  /** True when the record is not from this request (the agent is down or did not answer). */
  stale: boolean;
  /** Why the record is not fresh, when it is not. */
  error?: string;
  memory: MemoryFigures | null;
  zones: Record<string, number> | null;
  record: HypervisorRecord | null;
}

interface Seen {
  record: HypervisorRecord;
  atMs: number;
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

export class HypervisorDirectory {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly swim: () => SwimNode | undefined,
    private readonly system: ActorSystem,
    private readonly clock: Clock,
    private readonly queryTimeoutMs = hypervisorQueryTimeoutMs,
  ) {}

  private agents(): Member[] {
    const swim = this.swim();
    // As the members route: membership starts after the API, and an empty list would be a lie.
    if (!swim) throw new ApiError('unavailable', 'membership is still starting; try again in a moment');
    const agents = swim.members().filter((m) => m.meta.role === 'agent');
    agents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Forget records of agents SWIM itself has forgotten.
    const known = new Set(agents.map((m) => m.name));
    for (const name of this.seen.keys()) if (!known.has(name)) this.seen.delete(name);
    return agents.slice(0, hypervisorsListMax);
  }

  async list(): Promise<HypervisorView[]> {
    const agents = this.agents();
    const out: HypervisorView[] = new Array(agents.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < agents.length; i = next++) out[i] = await this.view(agents[i]!);
    };
    await Promise.all(Array.from({ length: Math.min(hypervisorQueriesMax, agents.length) }, worker));
    return out;
  }

  async get(name: string): Promise<HypervisorView | undefined> {
    const m = this.agents().find((a) => a.name === name);
    return m ? this.view(m) : undefined;
  }

  /** The agent's name if SWIM knows it and it is up; ApiError otherwise. */
  reachable(name: string): string {
    const m = this.agents().find((a) => a.name === name);
    if (!m) throw new ApiError('not_found', `no hypervisor named ${name}`);
    if (m.state !== 'alive' && m.state !== 'suspect') throw new ApiError('unavailable', `hypervisor ${name} is down (SWIM: ${m.state})`);
    return name;
  }

  private async view(m: Member): Promise<HypervisorView> {
    const up = m.state === 'alive' || m.state === 'suspect';
    let error: string | undefined;
    let fresh = false;
    if (up) {
      try {
        const record = await agentInfo(this.system, m.name, this.queryTimeoutMs);
        this.seen.set(m.name, { record, atMs: this.clock.wallMs() });
        fresh = true;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
    } else {
      error = `the agent is ${m.state} (SWIM)`;
    }
    const last = this.seen.get(m.name);
    return {
      name: m.name,
      state: up ? 'up' : 'down',
      swimState: m.state,
      seenAt: last ? new Date(last.atMs).toISOString() : null,
      stale: !fresh,
      ...(error !== undefined ? { error } : {}),
      memory: last?.record.memory ?? null,
      zones: last?.record.zoneCounts ?? null,
      record: last?.record ?? null,
    };
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

const nameParam = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' } as const;
const uuidParam = { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' } as const;
const openObject = { type: 'object', additionalProperties: true } as const;
const viewSchema = {
  type: 'object',
  required: ['name', 'state', 'swimState', 'seenAt', 'stale', 'memory', 'zones', 'record'],
  properties: {
    name: { type: 'string' },
    state: { type: 'string', enum: ['up', 'down'] },
    swimState: { type: 'string', enum: ['alive', 'suspect', 'dead', 'left'] },
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

export function hypervisorRoutes(swim: () => SwimNode | undefined, system: ActorSystem, clock: Clock): ApiRoutes {
  const dir = new HypervisorDirectory(swim, system, clock);
  return (app, { requireAdmin }) => {
    app.get('/api/v1/hypervisors', { preHandler: requireAdmin, schema: { response: { 200: { type: 'object', properties: { hypervisors: { type: 'array', items: viewSchema } } } } } }, async () => ({
      hypervisors: await dir.list(),
    }));
    app.get<{ Params: { name: string } }>('/api/v1/hypervisors/:name', { preHandler: requireAdmin, schema: { params: { type: 'object', properties: { name: nameParam } }, response: { 200: viewSchema } } }, async (req) => {
      const view = await dir.get(req.params.name);
      if (!view) throw new ApiError('not_found', `no hypervisor named ${req.params.name}`);
      return view;
    });
    app.get<{ Params: { name: string }; Querystring: { after?: string; limit?: string } }>(
      '/api/v1/hypervisors/:name/reservations',
      {
        preHandler: requireAdmin,
        schema: {
          params: { type: 'object', properties: { name: nameParam } },
          querystring: { type: 'object', additionalProperties: false, properties: { after: uuidParam, limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } } },
          response: { 200: openObject },
        },
      },
      async (req) => {
        const limit = req.query.limit === undefined ? undefined : Math.min(2_048, Number(req.query.limit));
        return dir.call(req.params.name, (s, n) => agentReservations(s, n, { ...(req.query.after ? { after: req.query.after } : {}), ...(limit ? { limit } : {}) }));
      },
    );
    app.post<{ Params: { name: string }; Body: { vmId: string; ramMb: number; leaseMs?: number } }>(
      '/api/v1/hypervisors/:name/reservations',
      {
        preHandler: requireAdmin,
        schema: {
          params: { type: 'object', properties: { name: nameParam } },
          body: { type: 'object', required: ['vmId', 'ramMb'], additionalProperties: false, properties: { vmId: uuidParam, ramMb: { type: 'integer', minimum: 1 }, leaseMs: { type: 'integer', minimum: 100, maximum: 3_600_000 } } },
          response: { 200: openObject },
        },
      },
      async (req) => dir.call(req.params.name, (s, n) => agentReserve(s, n, req.body)),
    );
    app.post<{ Params: { name: string; vmId: string } }>(
      '/api/v1/hypervisors/:name/reservations/:vmId/confirm',
      { preHandler: requireAdmin, schema: { params: { type: 'object', properties: { name: nameParam, vmId: uuidParam } }, response: { 200: openObject } } },
      async (req) => dir.call(req.params.name, (s, n) => askAgent(s, n, { type: 'agent.confirm', vmId: req.params.vmId })),
    );
    app.delete<{ Params: { name: string; vmId: string } }>(
      '/api/v1/hypervisors/:name/reservations/:vmId',
      { preHandler: requireAdmin, schema: { params: { type: 'object', properties: { name: nameParam, vmId: uuidParam } }, response: { 200: openObject } } },
      async (req) => dir.call(req.params.name, (s, n) => askAgent(s, n, { type: 'agent.release', vmId: req.params.vmId })),
    );
  };
}
