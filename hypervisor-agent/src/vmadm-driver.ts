/**
 * The `vmadm` driver: SmartOS zones through `vmadm`, `imgadm` and `sysinfo`, run with the
 * runtime's process runner (no shell: arguments are passed as a vector, payloads on stdin).
 * Formats and their parsing are in vmadm-format.ts; this module sequences the commands:
 *
 * - create: `imgadm get IMAGE` (exit 0 = installed) else `imgadm import IMAGE`; then
 *   `vmadm create` with the payload on stdin; then `vmadm get UUID`. vmadm creates with
 *   `autoboot: true`, so the zone is running when create returns, as the contract says.
 * - start/stop/reboot/delete: `vmadm <verb> UUID [-F]`; update and metadata: `vmadm update UUID`
 *   with a JSON object on stdin; snapshots: `vmadm create-snapshot|rollback-snapshot|
 *   delete-snapshot UUID NAME`, listed from `vmadm get`.
 * - list: `vmadm list -p -o uuid,brand,state,ram,max_physical_memory,cpu_cap,quota,alias`;
 *   VMs of brands Shoal does not manage (e.g. the headnode's) are left out.
 *
 * State changes: vmadm has no push channel that every SmartOS release offers, so the driver
 * diffs what it sees: after each of its own operations it reads the zone again, and every
 * `pollMs` (5 s by default) it reads the whole list; each difference from the last state seen is
 * one change event. (SmartOS releases with vminfod offer `vmadm events -j`; switching to it would
 * only replace the poller.)
 *
 * Deadlines: create 15 min (image import and dataset clone), anything else 5 min; a command past
 * its deadline is killed and the call fails with DriverError('timeout'). A missing binary is
 * DriverError('unavailable').
 */
import {
  CommandAbortedError,
  CommandStartError,
  CommandTimeoutError,
  every,
  runCommand,
  type Clock,
  type CommandResult,
  type Logger,
  type Timer,
} from '@shoal/runtime';
import type { Zone, ZoneSnapshot, ZoneSpec, ZoneState } from '@shoal/wire';
import { DriverError } from './errors.js';
import { ZoneEvents, type CallOptions, type HostFacts, type Hypervisor, type MetadataChange, type ZoneListener, type ZoneUpdate } from './hypervisor.js';
import { limits } from './limits.js';
import { failureOf, hostFromSysinfo, listFields, parseVmadmList, vmadmCreatePayload, vmadmMetadataPayload, vmadmUpdatePayload, zoneFromVmadm } from './vmadm-format.js';

export interface VmadmDriverOptions {
  clock: Clock;
  log: Logger;
  /** Commands (names on PATH, or absolute paths). Defaults: vmadm, imgadm, sysinfo. */
  vmadm?: string;
  imgadm?: string;
  sysinfo?: string;
  /** Environment overlay for every command (tests put fake binaries first on PATH). */
  env?: Record<string, string | undefined>;
  /** Full list poll for state changes, ms; 0 disables. Default 5 000. */
  pollMs?: number;
  /** Overrides of what sysinfo reports (e.g. `--memory-mb` on a host that shares memory). */
  host?: Partial<HostFacts>;
  createTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export class VmadmHypervisor implements Hypervisor {
  readonly kind = 'vmadm' as const;
  private readonly events: ZoneEvents;
  /** The last state seen per zone: the base of change events. */
  private readonly seen = new Map<string, ZoneState>();
  private poller: Timer | undefined;
  private readonly closing = new AbortController();
  private polling = false;

  private constructor(private readonly opts: VmadmDriverOptions) {
    this.events = new ZoneEvents((err) => opts.log.warn('zone listener failed', { err: String(err) }), limits.zoneListenersMax);
  }

  /** Checks that vmadm answers (one list) and starts the poller. */
  static async open(opts: VmadmDriverOptions): Promise<VmadmHypervisor> {
    const d = new VmadmHypervisor(opts);
    for (const z of await d.listRows()) d.seen.set(z.uuid, z.state);
    const pollMs = opts.pollMs ?? 5_000;
    if (pollMs > 0) d.poller = every(opts.clock, pollMs, () => void d.poll());
    return d;
  }

  async info(): Promise<HostFacts> {
    const r = await this.run(this.opts.sysinfo ?? 'sysinfo', [], {});
    if (r.code !== 0) throw failureOf('sysinfo', r.code, r.stderr);
    return { ...hostFromSysinfo(r.stdout), ...this.opts.host };
  }

  async list(): Promise<Zone[]> {
    const rows = await this.listRows();
    this.observe(rows, true);
    return rows.map((r) => ({ ...r, nics: [], resolvers: [], customerMetadata: {}, snapshots: [] }));
  }

  async get(uuid: string, opts: CallOptions = {}): Promise<Zone> {
    const r = await this.vmadm(['get', uuid], opts);
    const zone = zoneFromVmadm(r.stdout);
    this.observe([zone]);
    return zone;
  }

  async create(spec: ZoneSpec, opts: CallOptions = {}): Promise<Zone> {
    await this.ensureImage(spec.imageUuid, opts);
    const payload = JSON.stringify(vmadmCreatePayload(spec));
    const r = await this.run(this.vmadmCmd(), ['create'], { ...opts, stdin: payload, timeoutMs: this.opts.createTimeoutMs ?? limits.createTimeoutMs });
    if (r.code !== 0) {
      const err = failureOf(`vmadm create ${spec.uuid}`, r.code, r.stderr);
      await this.get(spec.uuid).catch(() => undefined); // a failed create may leave a failed zone: announce it
      throw err.code === 'not-found' ? new DriverError('failed', err.message) : err;
    }
    return this.get(spec.uuid, opts);
  }

  async start(uuid: string, opts: CallOptions = {}): Promise<void> {
    await this.verb(['start', uuid], opts);
  }

  async stop(uuid: string, opts: CallOptions & { force?: boolean } = {}): Promise<void> {
    await this.verb(['stop', uuid, ...(opts.force ? ['-F'] : [])], opts);
  }

  async reboot(uuid: string, opts: CallOptions & { force?: boolean } = {}): Promise<void> {
    await this.verb(['reboot', uuid, ...(opts.force ? ['-F'] : [])], opts);
  }

  async delete(uuid: string, opts: CallOptions = {}): Promise<void> {
    await this.vmadm(['delete', uuid], opts);
    const previous = this.seen.get(uuid);
    this.seen.delete(uuid);
    this.events.emit({ uuid, state: 'deleted', previous });
  }

  async update(uuid: string, change: ZoneUpdate, opts: CallOptions = {}): Promise<Zone> {
    const zone = await this.get(uuid, opts);
    const payload = vmadmUpdatePayload(zone.brand, change);
    if (Object.keys(payload).length > 0) await this.vmadm(['update', uuid], { ...opts, stdin: JSON.stringify(payload) });
    return this.get(uuid, opts);
  }

  async setMetadata(uuid: string, change: MetadataChange, opts: CallOptions = {}): Promise<Record<string, string>> {
    const payload = vmadmMetadataPayload(change);
    if (Object.keys(payload).length > 0) await this.vmadm(['update', uuid], { ...opts, stdin: JSON.stringify(payload) });
    return (await this.get(uuid, opts)).customerMetadata;
  }

  async createSnapshot(uuid: string, name: string, opts: CallOptions = {}): Promise<void> {
    await this.vmadm(['create-snapshot', uuid, name], opts);
  }

  async listSnapshots(uuid: string, opts: CallOptions = {}): Promise<readonly ZoneSnapshot[]> {
    return (await this.get(uuid, opts)).snapshots;
  }

  async rollbackSnapshot(uuid: string, name: string, opts: CallOptions = {}): Promise<void> {
    await this.verb(['rollback-snapshot', uuid, name], opts);
  }

  async deleteSnapshot(uuid: string, name: string, opts: CallOptions = {}): Promise<void> {
    await this.vmadm(['delete-snapshot', uuid, name], opts);
  }

  subscribe(listener: ZoneListener): () => void {
    return this.events.subscribe(listener);
  }

  async close(): Promise<void> {
    this.poller?.cancel();
    this.closing.abort();
  }

  // ---- commands ----

  private vmadmCmd(): string {
    return this.opts.vmadm ?? 'vmadm';
  }

  /** A vmadm call that changes a zone's state: run it, then read the zone (emits the change). */
  private async verb(args: string[], opts: CallOptions): Promise<void> {
    await this.vmadm(args, opts);
    await this.get(args[1]!, opts).catch(() => undefined);
  }

  /** Runs vmadm; a non-zero exit becomes the DriverError its stderr describes. */
  private async vmadm(args: string[], opts: CallOptions & { stdin?: string }): Promise<CommandResult> {
    const r = await this.run(this.vmadmCmd(), args, opts);
    if (r.code !== 0) throw failureOf(`vmadm ${args.slice(0, 2).join(' ')}`, r.code, r.stderr);
    return r;
  }

  private async ensureImage(image: string, opts: CallOptions): Promise<void> {
    const imgadm = this.opts.imgadm ?? 'imgadm';
    const have = await this.run(imgadm, ['get', image], opts);
    if (have.code === 0) return;
    const r = await this.run(imgadm, ['import', '-q', image], { ...opts, timeoutMs: this.opts.createTimeoutMs ?? limits.createTimeoutMs });
    if (r.code !== 0) {
      const err = failureOf(`imgadm import ${image}`, r.code, r.stderr);
      throw err.code === 'not-found' ? new DriverError('invalid', `image ${image} is not available: ${err.message}`) : err;
    }
  }

  /** The one place commands run: deadlines, cancellation and start failures become DriverErrors. */
  private async run(cmd: string, args: string[], opts: CallOptions & { stdin?: string; timeoutMs?: number }): Promise<CommandResult> {
    const signal = opts.signal ? AbortSignal.any([opts.signal, this.closing.signal]) : this.closing.signal;
    try {
      return await runCommand(cmd, args, { env: this.opts.env, stdin: opts.stdin, signal, timeoutMs: opts.timeoutMs ?? this.opts.commandTimeoutMs ?? limits.commandTimeoutMs });
    } catch (err) {
      const what = `${cmd} ${args.slice(0, 2).join(' ')}`;
      if (err instanceof CommandStartError) throw new DriverError('unavailable', `${what}: ${err.message}`);
      if (err instanceof CommandTimeoutError || err instanceof CommandAbortedError) throw new DriverError('timeout', `${what}: ${err.message}`);
      throw new DriverError('failed', `${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async listRows(): Promise<ReturnType<typeof parseVmadmList>['rows']> {
    const r = await this.vmadm(['list', '-p', '-o', listFields.join(',')], {});
    const { rows, skipped } = parseVmadmList(r.stdout);
    if (skipped.length > 0) this.opts.log.debug('vmadm list: lines not managed by Shoal skipped', { lines: skipped.length });
    if (rows.length > limits.zonesMax) {
      this.opts.log.warn('more zones than zonesMax; the rest are ignored', { zones: rows.length, zonesMax: limits.zonesMax });
      return rows.slice(0, limits.zonesMax);
    }
    return rows;
  }

  // ---- change events by diffing ----

  private observe(zones: readonly { uuid: string; state: ZoneState }[], complete = false): void {
    for (const z of zones) {
      const previous = this.seen.get(z.uuid);
      if (previous === z.state) continue;
      this.seen.set(z.uuid, z.state);
      this.events.emit({ uuid: z.uuid, state: z.state, previous });
    }
    if (!complete) return;
    const present = new Set(zones.map((z) => z.uuid));
    for (const [uuid, previous] of [...this.seen]) {
      if (present.has(uuid)) continue;
      this.seen.delete(uuid);
      this.events.emit({ uuid, state: 'deleted', previous });
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closing.signal.aborted) return;
    this.polling = true;
    try {
      this.observe(await this.listRows(), true);
    } catch (err) {
      this.opts.log.warn('vmadm list failed while polling', { err: err instanceof Error ? err.message : String(err) });
    } finally {
      this.polling = false;
    }
  }
}
