/**
 * The agent's request handler: one validated request in, one reply out (`agent.reply-ok` with a
 * result, or `agent.reply-error` with a code). The actor (actor.ts) calls `handle` for each
 * message in arrival order; `handle` never rejects.
 *
 * Order and concurrency. `handle` does its synchronous part — validation, and for ledger requests
 * the ledger decision itself — before it returns, so ledger requests are decided strictly in
 * arrival order while their durability waits overlap (the actor does not wait for one answer
 * before taking the next message). Driver operations run concurrently, at most `driverOpsMax` at
 * once and one per zone (more are answered `busy`).
 *
 * Validation. A request that fails its schema (packages/wire, ids 600–611: types, UUIDs, sizes,
 * counts) is answered `invalid` before anything is touched, so a bad command changes nothing.
 *
 * Memory and zones. Creating a zone needs a reservation for its UUID of at least its size; the
 * reservation is confirmed (durably) before the driver is called, so memory is held for the
 * whole create however long it takes. Deleting a zone releases its reservation; releasing a
 * reservation whose zone still exists is refused (`zone-exists`): the zone uses that memory.
 * Growing a zone's memory reserves the difference first and gives it back if the driver fails.
 */
import type { Clock, Logger } from '@shoal/runtime';
import {
  agentLimits,
  agentRequestSchema,
  validate,
  type AgentErrorCode,
  type AgentReply,
  type AgentRequest,
  type HypervisorRecord,
  type MemoryFigures,
  type Reservation,
  type ReserveResult,
} from '@shoal/wire';
import { AgentError, DriverError, LedgerClosedError, LedgerStorageError, codeOfDriverError } from './errors.js';
import type { Hypervisor } from './hypervisor.js';
import type { DurableLedger, ReserveOutcome } from './ledger.js';
import { limits } from './limits.js';
import type { ZoneTable } from './zones.js';

export interface ServiceDeps {
  ledger: DurableLedger;
  driver: Hypervisor;
  zones: ZoneTable;
  clock: Clock;
  log: Logger;
  record(): HypervisorRecord;
  leaseMsDefault: number;
  driverOpsMax?: number;
  /** Called after each driver call with its duration and, on failure, the error code. */
  onDriverCall?(op: string, ms: number, failure: AgentErrorCode | undefined): void;
}

export interface ServiceStats {
  requests: number;
  invalid: number;
  errors: number;
}

type Req<T extends AgentRequest['type']> = Extract<AgentRequest, { type: T }>;

const ok = (result: unknown): AgentReply => ({ type: 'agent.reply-ok', result });
const fail = (code: AgentErrorCode, message: string): AgentReply => ({ type: 'agent.reply-error', code, message: message.slice(0, 1024) });

function assertNever(x: never): never {
  throw new Error(`unhandled request ${JSON.stringify(x)}`);
}

export class AgentService {
  readonly stats: ServiceStats = { requests: 0, invalid: 0, errors: 0 };
  private readonly busy = new Set<string>();
  private inFlight = 0;

  constructor(private readonly deps: ServiceDeps) {}

  /** Answers one request; never rejects. */
  handle(raw: unknown): Promise<AgentReply> {
    this.stats.requests++;
    const checked = validate(agentRequestSchema, raw, 'request');
    if (!checked.ok) {
      this.stats.invalid++;
      return Promise.resolve(fail('invalid', checked.reason));
    }
    let answer: Promise<unknown>;
    try {
      answer = this.dispatch(checked.value);
    } catch (err) {
      answer = Promise.reject(err);
    }
    return answer.then(ok, (err: unknown) => this.failure(err));
  }

  private failure(err: unknown): AgentReply {
    this.stats.errors++;
    if (err instanceof AgentError) return fail(err.code, err.message);
    if (err instanceof DriverError) return fail(codeOfDriverError(err), err.message);
    if (err instanceof LedgerStorageError || err instanceof LedgerClosedError) return fail('unavailable', err.message);
    this.deps.log.error('request failed unexpectedly', { err: err instanceof Error ? err.stack ?? err.message : String(err) });
    return fail('unavailable', 'the agent failed to handle the request; see its log');
  }

  private dispatch(r: AgentRequest): Promise<unknown> {
    switch (r.type) {
      case 'agent.info':
        return Promise.resolve(this.deps.record());
      case 'agent.reserve':
        return this.reserve(r);
      case 'agent.confirm':
        return this.confirm(r.vmId);
      case 'agent.release':
        return this.release(r.vmId);
      case 'agent.reservations':
        return Promise.resolve(this.reservations(r.after, r.limit));
      case 'agent.zone-list':
        return this.driverOp(undefined, 'list', () => this.deps.driver.list()).then((zones) => ({ zones }));
      case 'agent.zone-get':
        return this.driverOp(undefined, 'get', () => this.deps.driver.get(r.uuid));
      case 'agent.zone-create':
        return this.create(r);
      case 'agent.zone-action':
        return this.action(r);
      case 'agent.zone-update':
        return this.update(r);
      case 'agent.zone-snapshot':
        return this.snapshot(r);
      case 'agent.zone-metadata':
        return this.metadata(r);
      default:
        return assertNever(r);
    }
  }

  // ---- memory ----

  private reserve(r: Req<'agent.reserve'>): Promise<ReserveResult> {
    return this.deps.ledger.reserve(r.vmId, r.ramMb, r.leaseMs ?? this.deps.leaseMsDefault).then((o) => reserveResult(r.vmId, r.ramMb, o, this.deps.ledger.figures().freeMb));
  }

  private confirm(vmId: string): Promise<Reservation> {
    return this.deps.ledger.confirm(vmId).then((o) => {
      if (o.kind === 'not-found') throw new AgentError('not-found', `no reservation for VM ${vmId} (never made, released, or its lease expired)`);
      return o.entry;
    });
  }

  private release(vmId: string): Promise<{ vmId: string; released: boolean; ramMb?: number }> {
    if (this.deps.zones.has(vmId) || this.busy.has(vmId)) {
      return Promise.reject(new AgentError('zone-exists', `VM ${vmId} has a zone on this host (or one being made); delete the zone, which releases its memory`));
    }
    return this.deps.ledger.release(vmId).then((o) => (o.kind === 'released' ? { vmId, released: true, ramMb: o.entry.ramMb } : { vmId, released: false }));
  }

  /** One page of the ledger in VM id order (bounded so the answer fits a frame). */
  private reservations(after: string | undefined, limit: number | undefined): { memory: MemoryFigures; reservations: Reservation[]; next?: string } {
    const max = Math.min(limit ?? agentLimits.reservationsPageMax, agentLimits.reservationsPageMax);
    const all = this.deps.ledger.list().filter((r) => after === undefined || r.vmId > after);
    all.sort((a, b) => (a.vmId < b.vmId ? -1 : a.vmId > b.vmId ? 1 : 0));
    const page = all.slice(0, max);
    return { memory: this.deps.ledger.figures(), reservations: page, ...(all.length > max ? { next: page[page.length - 1]!.vmId } : {}) };
  }

  // ---- zones ----

  private async create(r: Req<'agent.zone-create'>): Promise<unknown> {
    const { spec } = r;
    const held = this.deps.ledger.get(spec.uuid);
    if (!held) throw new AgentError('no-reservation', `no memory is reserved for VM ${spec.uuid} on this host: reserve ${spec.ramMb} MB first`);
    if (held.ramMb < spec.ramMb) throw new AgentError('invalid', `VM ${spec.uuid} reserved ${held.ramMb} MB but asks for ${spec.ramMb} MB`);
    return this.driverOp(spec.uuid, 'create', async () => {
      const confirmed = await this.deps.ledger.confirm(spec.uuid);
      if (confirmed.kind === 'not-found') throw new AgentError('no-reservation', `the reservation for VM ${spec.uuid} expired before the create started`);
      const zone = await this.deps.driver.create(spec);
      this.deps.zones.upsert(zone);
      await this.deps.ledger.markZoneSeen(spec.uuid);
      return zone;
    });
  }

  private action(r: Req<'agent.zone-action'>): Promise<unknown> {
    const { driver, ledger, zones } = this.deps;
    const force = r.force === true;
    return this.driverOp(r.uuid, r.action, async () => {
      switch (r.action) {
        case 'start':
          await driver.start(r.uuid);
          break;
        case 'stop':
          await driver.stop(r.uuid, { force });
          break;
        case 'reboot':
          await driver.reboot(r.uuid, { force });
          break;
        case 'delete':
          await driver.delete(r.uuid);
          zones.remove(r.uuid);
          await ledger.release(r.uuid);
          return { uuid: r.uuid, deleted: true };
      }
      const zone = await driver.get(r.uuid);
      zones.upsert(zone);
      return zone;
    });
  }

  private update(r: Req<'agent.zone-update'>): Promise<unknown> {
    const { driver, ledger, zones } = this.deps;
    return this.driverOp(r.uuid, 'update', async () => {
      const before = await driver.get(r.uuid);
      const growMb = r.ramMb === undefined ? 0 : r.ramMb - before.ramMb;
      if (r.ramMb !== undefined && growMb > 0) await this.resize(r.uuid, r.ramMb);
      let zone;
      try {
        zone = await driver.update(r.uuid, { ramMb: r.ramMb, cpuCap: r.cpuCap, quotaGb: r.quotaGb });
      } catch (err) {
        if (growMb > 0) await ledger.resize(r.uuid, before.ramMb);
        throw err;
      }
      if (r.ramMb !== undefined && growMb < 0) await ledger.resize(r.uuid, r.ramMb);
      zones.upsert(zone);
      return zone;
    });
  }

  private async resize(uuid: string, ramMb: number): Promise<void> {
    const o = await this.deps.ledger.resize(uuid, ramMb);
    if (o.kind === 'refused') throw new AgentError('insufficient-memory', `growing VM ${uuid} to ${ramMb} MB needs more than the ${o.freeMb} MB free`);
    if (o.kind === 'not-found') throw new AgentError('no-reservation', `VM ${uuid} has no reservation on this host`);
  }

  private snapshot(r: Req<'agent.zone-snapshot'>): Promise<unknown> {
    const { driver } = this.deps;
    if (r.action !== 'list' && r.name === undefined) return Promise.reject(new AgentError('invalid', `a snapshot ${r.action} needs a name`));
    const name = r.name ?? '';
    return this.driverOp(r.uuid, `snapshot-${r.action}`, async () => {
      if (r.action === 'create') await driver.createSnapshot(r.uuid, name);
      else if (r.action === 'rollback') await driver.rollbackSnapshot(r.uuid, name);
      else if (r.action === 'delete') await driver.deleteSnapshot(r.uuid, name);
      return { uuid: r.uuid, snapshots: await driver.listSnapshots(r.uuid) };
    });
  }

  private metadata(r: Req<'agent.zone-metadata'>): Promise<unknown> {
    const { driver } = this.deps;
    if (r.set === undefined && r.remove === undefined) {
      return this.driverOp(undefined, 'get', () => driver.get(r.uuid)).then((z) => ({ uuid: r.uuid, customerMetadata: z.customerMetadata }));
    }
    return this.driverOp(r.uuid, 'metadata', async () => ({ uuid: r.uuid, customerMetadata: await driver.setMetadata(r.uuid, { set: r.set, remove: r.remove }) }));
  }

  /** Runs one driver call under the concurrency bounds, timing it for the metrics. */
  private async driverOp<T>(uuid: string | undefined, op: string, fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= (this.deps.driverOpsMax ?? limits.driverOpsMax)) throw new AgentError('busy', `${this.inFlight} zone operations are running on this host; try again shortly`);
    if (uuid !== undefined && this.busy.has(uuid)) throw new AgentError('busy', `zone ${uuid} has an operation in progress`);
    if (uuid !== undefined) this.busy.add(uuid);
    this.inFlight++;
    const started = this.deps.clock.monoMs();
    let failure: AgentErrorCode | undefined;
    try {
      return await fn();
    } catch (err) {
      failure = err instanceof DriverError ? codeOfDriverError(err) : err instanceof AgentError ? err.code : 'unavailable';
      throw err;
    } finally {
      this.inFlight--;
      if (uuid !== undefined) this.busy.delete(uuid);
      this.deps.onDriverCall?.(op, this.deps.clock.monoMs() - started, failure);
    }
  }
}

/** The wire answer to a reserve; `freeMb` is what the host has left when the answer is sent. */
export function reserveResult(vmId: string, ramMb: number, o: ReserveOutcome, freeMb: number): ReserveResult {
  switch (o.kind) {
    case 'granted':
      return {
        vmId,
        granted: true,
        ramMb: o.entry.ramMb,
        state: o.entry.state,
        ...(o.entry.expiresAtMs !== undefined ? { expiresAtMs: o.entry.expiresAtMs } : {}),
        freeMb,
      };
    case 'refused':
      return { vmId, granted: false, ramMb, reason: 'insufficient-memory', freeMb: o.freeMb };
    case 'conflict':
      throw new AgentError('conflict', `VM ${vmId} already holds a reservation of ${o.entry.ramMb} MB on this host, not ${ramMb} MB`);
    case 'limit':
      throw new AgentError('limit', `this host holds the most reservations it may (${limits.reservationsMax})`);
  }
}
