/**
 * The caller's side of the agent protocol, for core nodes (packages/cluster) and benchmarks:
 * `askAgent(system, name, request, timeoutMs)` queries the actor `['hypervisor', name]` on node
 * `name`, checks the reply against its schema, and returns the result or throws
 * AgentRequestError with the agent's code — or `unreachable` / `timeout` when no answer came
 * (node down, no route, query timeout), or `bad-reply` when the answer does not parse. Typed
 * helpers check results whose shape the wire defines (`info`, `reserve`, `reservations`).
 */
import { NodeDownError, QueryTimeoutError, SystemStoppedError, UndeliverableError, query, refFromJSON, type ActorRef, type ActorSystem } from '@shoal/actors';
import {
  agentLimits,
  agentReplySchema,
  agentUuidSchema,
  hypervisorRecordSchema,
  memoryFiguresSchema,
  reservationSchema,
  reserveResultSchema,
  s,
  validate,
  type AgentErrorCode,
  type AgentRequest,
  type HypervisorRecord,
  type MemoryFigures,
  type Reservation,
  type ReserveResult,
  type Schema,
} from '@shoal/wire';
import { hypervisorActorPath } from './actor.js';
import { limits } from './limits.js';

export type AgentRequestErrorCode = AgentErrorCode | 'unreachable' | 'bad-reply';

export class AgentRequestError extends Error {
  override name = 'AgentRequestError';
  constructor(
    readonly code: AgentRequestErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function agentRef(system: ActorSystem, name: string): ActorRef<AgentRequest> {
  return refFromJSON(system, { node: name, path: hypervisorActorPath(name) }) as ActorRef<AgentRequest>;
}

/** Sends one request and returns the agent's `result` (unchecked: use the typed helpers where they exist). */
export async function askAgent(system: ActorSystem, name: string, request: AgentRequest, timeoutMs: number = limits.queryTimeoutMsDefault): Promise<unknown> {
  let reply: unknown;
  try {
    reply = await query(agentRef(system, name), request, timeoutMs);
  } catch (err) {
    if (err instanceof QueryTimeoutError) throw new AgentRequestError('timeout', `agent ${name} did not answer within ${timeoutMs} ms`);
    if (err instanceof UndeliverableError || err instanceof NodeDownError || err instanceof SystemStoppedError) {
      throw new AgentRequestError('unreachable', `agent ${name} cannot be reached (${err.message})`);
    }
    throw err;
  }
  const checked = validate(agentReplySchema, reply, 'reply');
  if (!checked.ok) throw new AgentRequestError('bad-reply', `agent ${name} answered something unreadable: ${checked.reason}`);
  const r = checked.value;
  if (r.type === 'agent.reply-error') throw new AgentRequestError(r.code, `agent ${name}: ${r.message}`);
  return r.result;
}

function expect<T>(name: string, schema: Schema<T>, value: unknown): T {
  const checked = validate(schema, value, 'result');
  if (!checked.ok) throw new AgentRequestError('bad-reply', `agent ${name} answered an unreadable result: ${checked.reason}`);
  return checked.value;
}

const reservationsResultSchema = s.object({ memory: memoryFiguresSchema, reservations: s.array(reservationSchema, { lengthMax: agentLimits.reservationsPageMax }), next: s.optional(agentUuidSchema) });

export async function agentInfo(system: ActorSystem, name: string, timeoutMs?: number): Promise<HypervisorRecord> {
  return expect(name, hypervisorRecordSchema, await askAgent(system, name, { type: 'agent.info' }, timeoutMs));
}

export async function agentReserve(system: ActorSystem, name: string, req: { vmId: string; ramMb: number; leaseMs?: number }, timeoutMs?: number): Promise<ReserveResult> {
  return expect(name, reserveResultSchema, await askAgent(system, name, { type: 'agent.reserve', ...req }, timeoutMs));
}

/** One page of an agent's ledger (VM id order); pass the answer's `next` as `after` for the next page. */
export async function agentReservations(
  system: ActorSystem,
  name: string,
  page: { after?: string; limit?: number } = {},
  timeoutMs?: number,
): Promise<{ memory: MemoryFigures; reservations: readonly Reservation[]; next?: string }> {
  return expect(name, reservationsResultSchema, await askAgent(system, name, { type: 'agent.reservations', ...page }, timeoutMs));
}

/** The whole ledger, page by page (at most `pagesMax` pages). */
export async function agentReservationsAll(system: ActorSystem, name: string, timeoutMs?: number, pagesMax = 64): Promise<{ memory: MemoryFigures; reservations: Reservation[] }> {
  const out: Reservation[] = [];
  let after: string | undefined;
  let memory: MemoryFigures | undefined;
  for (let i = 0; i < pagesMax; i++) {
    const page = await agentReservations(system, name, after === undefined ? {} : { after }, timeoutMs);
    memory = page.memory;
    out.push(...page.reservations);
    if (page.next === undefined) return { memory, reservations: out };
    after = page.next;
  }
  throw new AgentRequestError('limit', `agent ${name} holds more than ${pagesMax} pages of reservations`);
}
