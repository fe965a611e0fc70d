/**
 * The `sim` driver: a hypervisor that exists only in the agent's data directory. Zones live in
 * LMDB (store `zones`, key `['z', uuid]`), so they survive an agent restart like real zones do,
 * and move through SmartOS-like states on the injected clock:
 *
 *     create:  provisioning ──provisionMs──▶ running
 *     stop:    running ──▶ stopping ──shutdownMs──▶ stopped       (force: running ──▶ stopped)
 *     start:   stopped ──▶ starting ──bootMs──▶ running
 *     reboot:  running ──▶ stopping ──▶ starting ──▶ running     (force skips the shutdown wait)
 *
 * A zone found in a transitional state when the driver opens was interrupted by a crash: a
 * `provisioning` zone becomes `failed` (as an interrupted vmadm create leaves it), `stopping`
 * becomes `stopped`, `starting` becomes `running`.
 *
 * Injected failures, for tests (1-based numbers of creates since the driver opened): `failCreate`
 * ends those creates in `failed` with DriverError('failed'); `hangCreate` never finishes them
 * (until the caller's signal or `close()`); `crashCreate` calls `onCrash` mid-create (a test
 * crashes the simulated process there) and then hangs.
 *
 * One operation per zone at a time: a call on a zone with an operation in progress is
 * DriverError('busy'). Every state change is written (awaited) before it is announced.
 */
import { sleep, type Clock, type Logger, type Storage, type Store } from '@shoal/runtime';
import { validate, zoneSchema, type Zone, type ZoneSnapshot, type ZoneSpec, type ZoneState } from '@shoal/wire';
import { AgentStartError, DriverError } from './errors.js';
import { ZoneEvents, type CallOptions, type HostFacts, type Hypervisor, type MetadataChange, type ZoneListener, type ZoneUpdate } from './hypervisor.js';
import { limits } from './limits.js';

export interface SimTimings {
  provisionMs: number;
  bootMs: number;
  shutdownMs: number;
}

/** Roughly what a small SmartOS zone takes, scaled down so a demo feels alive. */
export const simTimingsDefault: SimTimings = { provisionMs: 2_000, bootMs: 500, shutdownMs: 500 };

export interface SimFaults {
  failCreate?: readonly number[];
  hangCreate?: readonly number[];
  crashCreate?: readonly number[];
  onCrash?: () => void;
}

export interface SimDriverOptions {
  storage: Storage;
  clock: Clock;
  log: Logger;
  host: HostFacts;
  timings?: Partial<SimTimings>;
  faults?: SimFaults;
  storeName?: string;
}

const transitional: Partial<Record<ZoneState, ZoneState>> = { provisioning: 'failed', stopping: 'stopped', starting: 'running' };

function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function macFor(uuid: string, i: number): string {
  const hex = uuid.replace(/-/g, '');
  const b = [0x90, 0xb8, 0xd0, parseInt(hex.slice(0, 2), 16), parseInt(hex.slice(2, 4), 16), (parseInt(hex.slice(30, 32), 16) + i) & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function zoneFromSpec(spec: ZoneSpec, state: ZoneState, createdAt: string): Zone {
  return compact({
    uuid: spec.uuid,
    alias: spec.alias,
    brand: spec.brand,
    state,
    ramMb: spec.ramMb,
    cpuCap: spec.cpuCap,
    quotaGb: spec.quotaGb,
    cpus: spec.cpus,
    imageUuid: spec.imageUuid,
    nics: spec.nics.map((n, i) => compact({ ...n, mac: macFor(spec.uuid, i) })),
    resolvers: [...spec.resolvers],
    customerMetadata: { ...spec.customerMetadata },
    snapshots: [],
    createdAt,
  });
}

export class SimHypervisor implements Hypervisor {
  readonly kind = 'sim' as const;
  private readonly zones = new Map<string, Zone>();
  private readonly busy = new Set<string>();
  private readonly events: ZoneEvents;
  private readonly closing = new AbortController();
  private readonly timings: SimTimings;
  private creates = 0;

  private constructor(
    private readonly opts: SimDriverOptions,
    private readonly store: Store<Zone>,
  ) {
    this.timings = { ...simTimingsDefault, ...opts.timings };
    this.events = new ZoneEvents((err) => opts.log.warn('zone listener failed', { err: String(err) }), limits.zoneListenersMax);
  }

  /** Loads the zones and settles the ones a crash left mid-transition. */
  static async open(opts: SimDriverOptions): Promise<SimHypervisor> {
    const store = opts.storage.store<Zone>(opts.storeName ?? 'zones');
    const driver = new SimHypervisor(opts, store);
    const fixes: Promise<void>[] = [];
    // A zone record that is damaged or not a zone stops the start and stays on disk: the ledger
    // reconciles with this list, and a zone missing from it would have its memory released.
    const unreadable = (key: unknown, why: string): never => {
      throw new AgentStartError(`sim zone record ${JSON.stringify(key)} is unreadable (${why}); restore the data directory from a backup`);
    };
    for (const { key, value: stored } of store.range({ start: ['z'], end: ['z\u0020'], onDamaged: (err) => unreadable(err.key, err.message) })) {
      const checked = validate(zoneSchema, stored);
      if (!checked.ok) unreadable(key, checked.reason);
      const value = stored;
      const settled = transitional[value.state];
      const zone = settled ? { ...value, state: settled } : value;
      driver.zones.set(zone.uuid, zone);
      if (settled) fixes.push(store.put(['z', zone.uuid], zone));
    }
    await Promise.all(fixes);
    return driver;
  }

  async info(): Promise<HostFacts> {
    return { ...this.opts.host, nicTags: [...this.opts.host.nicTags], virtualisation: [...this.opts.host.virtualisation] };
  }

  async list(): Promise<Zone[]> {
    return [...this.zones.values()].map((z) => structuredClone(z));
  }

  async get(uuid: string): Promise<Zone> {
    return structuredClone(this.zone(uuid));
  }

  async create(spec: ZoneSpec, opts: CallOptions = {}): Promise<Zone> {
    if (this.zones.has(spec.uuid)) throw new DriverError('exists', `zone ${spec.uuid} already exists`);
    const n = ++this.creates;
    return this.exclusive(spec.uuid, async () => {
      const zone = zoneFromSpec(spec, 'provisioning', new Date(this.opts.clock.wallMs()).toISOString());
      await this.save(zone, undefined);
      const faults = this.opts.faults ?? {};
      if (faults.crashCreate?.includes(n)) {
        faults.onCrash?.();
        await this.wait(Infinity, opts);
      }
      if (faults.hangCreate?.includes(n)) await this.wait(Infinity, opts);
      await this.wait(this.timings.provisionMs, opts);
      if (faults.failCreate?.includes(n)) {
        await this.setState(spec.uuid, 'failed');
        throw new DriverError('failed', `create of zone ${spec.uuid} failed (injected failure: create #${n})`);
      }
      await this.setState(spec.uuid, 'running');
      return structuredClone(this.zone(spec.uuid));
    });
  }

  async start(uuid: string, opts: CallOptions = {}): Promise<void> {
    await this.exclusive(uuid, async () => {
      this.expect(uuid, ['stopped', 'failed'], 'start');
      await this.setState(uuid, 'starting');
      await this.wait(this.timings.bootMs, opts);
      await this.setState(uuid, 'running');
    });
  }

  async stop(uuid: string, opts: CallOptions & { force?: boolean } = {}): Promise<void> {
    await this.exclusive(uuid, async () => {
      this.expect(uuid, ['running'], 'stop');
      if (!opts.force) {
        await this.setState(uuid, 'stopping');
        await this.wait(this.timings.shutdownMs, opts);
      }
      await this.setState(uuid, 'stopped');
    });
  }

  async reboot(uuid: string, opts: CallOptions & { force?: boolean } = {}): Promise<void> {
    await this.exclusive(uuid, async () => {
      this.expect(uuid, ['running'], 'reboot');
      await this.setState(uuid, 'stopping');
      if (!opts.force) await this.wait(this.timings.shutdownMs, opts);
      await this.setState(uuid, 'starting');
      await this.wait(this.timings.bootMs, opts);
      await this.setState(uuid, 'running');
    });
  }

  async delete(uuid: string): Promise<void> {
    await this.exclusive(uuid, async () => {
      const previous = this.zone(uuid).state;
      this.zones.delete(uuid);
      await this.store.delete(['z', uuid]);
      this.events.emit({ uuid, state: 'deleted', previous });
    });
  }

  async update(uuid: string, change: ZoneUpdate): Promise<Zone> {
    return this.exclusive(uuid, async () => {
      const zone = compact({ ...this.zone(uuid), ...compact({ ...change }) });
      await this.save(zone, zone.state);
      return structuredClone(zone);
    });
  }

  async setMetadata(uuid: string, change: MetadataChange): Promise<Record<string, string>> {
    return this.exclusive(uuid, async () => {
      const zone = this.zone(uuid);
      const md: Record<string, string> = { ...zone.customerMetadata, ...change.set };
      for (const k of change.remove ?? []) delete md[k];
      await this.save({ ...zone, customerMetadata: md }, zone.state);
      return { ...md };
    });
  }

  async createSnapshot(uuid: string, name: string): Promise<void> {
    await this.exclusive(uuid, async () => {
      const zone = this.zone(uuid);
      if (zone.snapshots.some((s) => s.name === name)) throw new DriverError('exists', `zone ${uuid} already has a snapshot ${name}`);
      if (zone.snapshots.length >= limits.snapshotsMax) throw new DriverError('invalid', `zone ${uuid} has ${limits.snapshotsMax} snapshots, the most allowed`);
      const snap: ZoneSnapshot = { name, createdAt: new Date(this.opts.clock.wallMs()).toISOString() };
      await this.save({ ...zone, snapshots: [...zone.snapshots, snap] }, zone.state);
    });
  }

  async listSnapshots(uuid: string): Promise<readonly ZoneSnapshot[]> {
    return structuredClone(this.zone(uuid).snapshots);
  }

  /** As vmadm: the zone stops if running, rolls back (newer snapshots are deleted) and boots again. */
  async rollbackSnapshot(uuid: string, name: string, opts: CallOptions = {}): Promise<void> {
    await this.exclusive(uuid, async () => {
      const zone = this.zone(uuid);
      const at = zone.snapshots.findIndex((s) => s.name === name);
      if (at < 0) throw new DriverError('not-found', `zone ${uuid} has no snapshot ${name}`);
      const wasRunning = zone.state === 'running';
      if (wasRunning) await this.setState(uuid, 'stopping');
      await this.save({ ...this.zone(uuid), snapshots: zone.snapshots.slice(0, at + 1) }, this.zone(uuid).state);
      if (wasRunning) {
        await this.setState(uuid, 'starting');
        await this.wait(this.timings.bootMs, opts);
        await this.setState(uuid, 'running');
      }
    });
  }

  async deleteSnapshot(uuid: string, name: string): Promise<void> {
    await this.exclusive(uuid, async () => {
      const zone = this.zone(uuid);
      if (!zone.snapshots.some((s) => s.name === name)) throw new DriverError('not-found', `zone ${uuid} has no snapshot ${name}`);
      await this.save({ ...zone, snapshots: zone.snapshots.filter((s) => s.name !== name) }, zone.state);
    });
  }

  subscribe(listener: ZoneListener): () => void {
    return this.events.subscribe(listener);
  }

  async close(): Promise<void> {
    this.closing.abort(new DriverError('unavailable', 'the sim driver is closing'));
  }

  // ---- helpers ----

  private zone(uuid: string): Zone {
    const z = this.zones.get(uuid);
    if (!z) throw new DriverError('not-found', `no zone ${uuid}`);
    return z;
  }

  private expect(uuid: string, states: readonly ZoneState[], what: string): void {
    const state = this.zone(uuid).state;
    if (!states.includes(state)) throw new DriverError('state', `cannot ${what} zone ${uuid}: it is ${state}`);
  }

  private async exclusive<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(uuid)) throw new DriverError('busy', `zone ${uuid} has an operation in progress`);
    if (this.closing.signal.aborted) throw new DriverError('unavailable', 'the sim driver is closed');
    this.busy.add(uuid);
    try {
      return await fn();
    } finally {
      this.busy.delete(uuid);
    }
  }

  private async save(zone: Zone, previous: ZoneState | undefined): Promise<void> {
    this.zones.set(zone.uuid, zone);
    await this.store.put(['z', zone.uuid], zone);
    if (zone.state !== previous) this.events.emit({ uuid: zone.uuid, state: zone.state, previous });
  }

  private async setState(uuid: string, state: ZoneState): Promise<void> {
    const zone = this.zone(uuid);
    await this.save({ ...zone, state }, zone.state);
  }

  /** Sleeps on the injected clock; the caller's signal or close() end it with a DriverError. */
  private async wait(ms: number, opts: CallOptions): Promise<void> {
    const signal = opts.signal ? AbortSignal.any([opts.signal, this.closing.signal]) : this.closing.signal;
    try {
      if (ms === Infinity) {
        await new Promise<void>((_, reject) => {
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      } else {
        await sleep(this.opts.clock, ms, { signal });
      }
    } catch (err) {
      if (err instanceof DriverError) throw err;
      throw new DriverError('timeout', `operation abandoned: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
