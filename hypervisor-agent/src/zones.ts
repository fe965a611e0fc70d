/**
 * The agent's view of its zones: a table kept current from the driver's change stream, from the
 * results of the agent's own operations, and by a full re-list every `refreshMs` (which also
 * reconciles the ledger with what the driver really has). The record's zone list and counts,
 * the zone-state metrics and the "zone exists" check of `release` read it; nothing here decides
 * memory — the ledger does.
 */
import { every, type Clock, type Logger, type Timer } from '@shoal/runtime';
import type { Zone, ZoneState, ZoneSummary } from '@shoal/wire';
import type { Hypervisor, ZoneChange } from './hypervisor.js';
import { limits } from './limits.js';

interface Row {
  summary: ZoneSummary;
  quotaGb: number;
}

export const zoneStates: readonly ZoneState[] = ['provisioning', 'starting', 'running', 'stopping', 'stopped', 'failed'];

export class ZoneTable {
  private readonly rows = new Map<string, Row>();
  private timer: Timer | undefined;
  private unsubscribe: (() => void) | undefined;
  private refreshing = false;
  /** Bumped on every change (part of the record's revision). */
  version = 0;

  constructor(
    private readonly driver: Hypervisor,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly onRefresh: (zones: readonly Zone[]) => Promise<void>,
  ) {}

  /** Lists the zones once (the caller reconciles with them) and starts following changes. */
  async start(refreshMs: number = limits.zoneRefreshMs): Promise<Zone[]> {
    this.unsubscribe = this.driver.subscribe((c) => this.apply(c));
    const zones = await this.driver.list();
    this.replaceAll(zones);
    if (refreshMs > 0) this.timer = every(this.clock, refreshMs, () => void this.refresh());
    return zones;
  }

  stop(): void {
    this.timer?.cancel();
    this.unsubscribe?.();
  }

  has(uuid: string): boolean {
    return this.rows.has(uuid);
  }

  get size(): number {
    return this.rows.size;
  }

  /** Records a zone the agent just created, read or updated. */
  upsert(zone: Zone): void {
    if (!this.rows.has(zone.uuid) && this.rows.size >= limits.zonesMax) return;
    const summary: ZoneSummary = { uuid: zone.uuid, brand: zone.brand, state: zone.state, ramMb: zone.ramMb, ...(zone.alias !== undefined ? { alias: zone.alias } : {}) };
    this.rows.set(zone.uuid, { summary, quotaGb: zone.quotaGb ?? 0 });
    this.version++;
  }

  remove(uuid: string): void {
    if (this.rows.delete(uuid)) this.version++;
  }

  /**
   * Zone summaries in UUID order: at most `max`, and at most `bytesMax` of them by a generous
   * estimate of their encoded size (so the record fits a wire frame and a store record whatever
   * the aliases); `truncated` when any were left out.
   */
  summaries(max: number, bytesMax = Infinity): { zones: ZoneSummary[]; truncated: boolean } {
    const all = [...this.rows.values()].map((r) => r.summary);
    all.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
    let bytes = 0;
    let n = 0;
    for (; n < Math.min(max, all.length); n++) {
      bytes += summaryBytes(all[n]!);
      if (bytes > bytesMax) break;
    }
    return { zones: all.slice(0, n), truncated: all.length > n };
  }

  counts(): Record<ZoneState, number> {
    const out = Object.fromEntries(zoneStates.map((s) => [s, 0])) as Record<ZoneState, number>;
    for (const r of this.rows.values()) out[r.summary.state]++;
    return out;
  }

  quotaGb(): number {
    let sum = 0;
    for (const r of this.rows.values()) sum += r.quotaGb;
    return sum;
  }

  private apply(c: ZoneChange): void {
    if (c.state === 'deleted') {
      this.remove(c.uuid);
      return;
    }
    const row = this.rows.get(c.uuid);
    if (row) {
      row.summary = { ...row.summary, state: c.state };
      this.version++;
      return;
    }
    // A zone we have not seen (created behind our back, or our own create in progress): read it.
    void this.driver.get(c.uuid).then(
      (z) => this.upsert(z),
      () => undefined,
    );
  }

  private replaceAll(zones: readonly Zone[]): void {
    this.rows.clear();
    for (const z of zones.slice(0, limits.zonesMax)) this.upsert(z);
    this.version++;
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const zones = await this.driver.list();
      this.replaceAll(zones);
      await this.onRefresh(zones);
    } catch (err) {
      this.log.warn('zone refresh failed', { err: err instanceof Error ? err.message : String(err) });
    } finally {
      this.refreshing = false;
    }
  }
}

/** An upper estimate of a zone summary's msgpack size: keys, a UUID, the alias, brand, state and a number. */
export function summaryBytes(z: ZoneSummary): number {
  return 96 + Buffer.byteLength(z.alias ?? '');
}
