/**
 * The driver contract: what the agent needs from a hypervisor, whatever it is (`sim` for tests and
 * laptops, `vmadm` for SmartOS). One compliance suite (test/compliance.ts) holds every driver to
 * it. The contract, in short:
 *
 * - **Ids are the caller's.** A zone is created with the UUID of its VM (`spec.uuid`); every
 *   other call names that UUID. Creating a UUID that exists is `DriverError('exists')`; any call
 *   on a UUID that does not exist is `DriverError('not-found')`.
 * - **Calls return when the operation is done**, as vmadm's do: `create` when the zone is
 *   running (zones autoboot), `stop` when it is stopped, `reboot` when it runs again, `delete`
 *   when it is gone. Meanwhile `list`/`get` show the transitional state (`provisioning`,
 *   `stopping`, `starting`). A call that cannot apply in the zone's state (start a running zone,
 *   stop a stopped one) is `DriverError('state')`; one that collides with a transition in
 *   progress is `DriverError('busy')`.
 * - **State changes are a stream.** `subscribe(listener)` delivers `{ uuid, state, previous }`
 *   for every state a zone enters, and `state: 'deleted'` when it is removed, in order per zone.
 *   A listener that throws is logged, not fatal.
 * - **Snapshots follow vmadm**: names are ZFS-safe (≤ 64 of `[A-Za-z0-9_.:%-]`), rolling back to
 *   a snapshot deletes the newer ones, a duplicate name is `exists`.
 * - **Metadata** is the customer metadata map: `setMetadata` applies `set` then `remove`.
 * - **Failures are named**: every rejection is a `DriverError` with a code (errors.ts); a driver
 *   never rejects with anything else (an unexpected failure is `failed`, with the tool's message).
 * - `info()` describes the host: memory, CPUs, disk, NIC tags, virtualisation types, platform.
 * - `close()` stops timers and pollers; operations in flight may be abandoned.
 */
import type { Virtualisation, Zone, ZoneSnapshot, ZoneSpec, ZoneState } from '@shoal/wire';
import type { DriverError } from './errors.js';

export interface HostFacts {
  /** Physical memory, MB. */
  memoryMb: number;
  cpus: number;
  /** Zone pool size, GB. */
  diskGb: number;
  nicTags: string[];
  virtualisation: Virtualisation[];
  /** The host OS image, e.g. `SmartOS 20240307T000552Z`, or `shoal-sim`. */
  platform: string;
}

export interface ZoneChange {
  uuid: string;
  state: ZoneState | 'deleted';
  previous: ZoneState | undefined;
}

export type ZoneListener = (change: ZoneChange) => void;

export interface ZoneUpdate {
  ramMb?: number;
  cpuCap?: number;
  quotaGb?: number;
}

export interface MetadataChange {
  set?: Readonly<Record<string, string>>;
  remove?: readonly string[];
}

export interface CallOptions {
  signal?: AbortSignal;
}

export type DriverKind = 'sim' | 'vmadm';

export interface Hypervisor {
  readonly kind: DriverKind;
  info(): Promise<HostFacts>;
  list(): Promise<Zone[]>;
  /** The zone, or DriverError('not-found'). */
  get(uuid: string): Promise<Zone>;
  create(spec: ZoneSpec, opts?: CallOptions): Promise<Zone>;
  start(uuid: string, opts?: CallOptions): Promise<void>;
  stop(uuid: string, opts?: CallOptions & { force?: boolean }): Promise<void>;
  reboot(uuid: string, opts?: CallOptions & { force?: boolean }): Promise<void>;
  delete(uuid: string, opts?: CallOptions): Promise<void>;
  update(uuid: string, change: ZoneUpdate, opts?: CallOptions): Promise<Zone>;
  setMetadata(uuid: string, change: MetadataChange, opts?: CallOptions): Promise<Readonly<Record<string, string>>>;
  createSnapshot(uuid: string, name: string, opts?: CallOptions): Promise<void>;
  listSnapshots(uuid: string, opts?: CallOptions): Promise<readonly ZoneSnapshot[]>;
  rollbackSnapshot(uuid: string, name: string, opts?: CallOptions): Promise<void>;
  deleteSnapshot(uuid: string, name: string, opts?: CallOptions): Promise<void>;
  /** Zone state changes; returns the unsubscribe function. */
  subscribe(listener: ZoneListener): () => void;
  close(): Promise<void>;
}

export type { DriverError };

/** Fans zone changes out to listeners (bounded); a throwing listener is reported, not fatal. */
export class ZoneEvents {
  private readonly listeners = new Set<ZoneListener>();

  constructor(
    private readonly onListenerError: (err: unknown) => void,
    private readonly listenersMax: number,
  ) {}

  subscribe(listener: ZoneListener): () => void {
    if (this.listeners.size >= this.listenersMax) throw new RangeError(`at most ${this.listenersMax} zone listeners`);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change: ZoneChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
