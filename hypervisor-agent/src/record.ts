/**
 * The hypervisor record (schema in packages/wire, `hypervisorRecordSchema`), built from what the
 * agent knows — pure: the caller passes the time and every figure.
 *
 * It is shaped to be stored as is in the ring's `hypervisors` bucket under the agent's name once
 * that store exists: no field depends on who asks, and `revision = { boot, seq }` orders versions
 * (`boot` is the agent's start time, `seq` grows with every ledger or zone change during that
 * run), so the store can keep the last writer by comparing revisions.
 */
import type { HypervisorRecord, MemoryFigures, ZoneState } from '@shoal/wire';
import { agentLimits } from '@shoal/wire';
import type { HostFacts } from './hypervisor.js';
import type { ZoneTable } from './zones.js';

export const recordVersion = 1;

/**
 * Estimated bytes of the zone list in one record: with the rest of the record it stays well under
 * the 1 MiB of a wire frame and of a stored CRDT record (4,096 zones with short aliases fit;
 * long aliases shorten the list, and `zonesTruncated` says so).
 */
export const recordZoneBytesMax = 640 * 1024;

export interface RecordInput {
  name: string;
  nowMs: number;
  revision: { boot: number; seq: number };
  agent: HypervisorRecord['agent'];
  host: HostFacts;
  memory: MemoryFigures;
  reservations: { pending: number; provisioned: number };
  zones: ZoneTable;
  characteristics: Readonly<Record<string, string>>;
  topology: string;
}

export function buildRecord(i: RecordInput): HypervisorRecord {
  const { zones, truncated } = i.zones.summaries(agentLimits.recordZonesMax, recordZoneBytesMax);
  const counts = i.zones.counts();
  const zoneCounts: Record<string, number> = { total: i.zones.size };
  for (const [state, n] of Object.entries(counts) as [ZoneState, number][]) zoneCounts[state] = n;
  const provisionedGb = i.zones.quotaGb();
  return {
    v: recordVersion,
    name: i.name,
    revision: { ...i.revision },
    updatedAt: new Date(i.nowMs).toISOString(),
    agent: { ...i.agent },
    platform: i.host.platform.slice(0, 128),
    virtualisation: [...i.host.virtualisation],
    cpus: i.host.cpus,
    memory: { ...i.memory },
    disk: { totalGb: i.host.diskGb, provisionedGb, freeGb: Math.max(0, i.host.diskGb - provisionedGb) },
    nicTags: i.host.nicTags.slice(0, agentLimits.nicTagsMax),
    characteristics: { ...i.characteristics },
    topology: i.topology,
    reservations: { ...i.reservations },
    zoneCounts,
    zones,
    zonesTruncated: truncated,
  };
}
