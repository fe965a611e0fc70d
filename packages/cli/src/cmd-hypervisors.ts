/** `shoal hypervisors list|get|remove`: the hosts of the cluster, as the asked node sees them (records from the ring's `hypervisors` bucket, state from SWIM). */
import type { HypervisorView } from '@shoal/cluster';
import type { PositionalSpec } from './args.js';
import { apiClient, clientFlags } from './client.js';
import type { Command } from './command.js';
import { fields, json, table } from './output.js';

const mb = (v: number | undefined): string | undefined => (v === undefined ? undefined : String(v));

const list: Command = {
  path: ['hypervisors', 'list'],
  summary: 'List the hypervisors (agents) of the cluster: up or down (from SWIM), memory in MB, zone counts.',
  flags: clientFlags,
  positionals: [],
  async run(args, io) {
    const body = (await apiClient(args).get('/api/v1/hypervisors', ['hypervisors'])) as { hypervisors: HypervisorView[] };
    if (args.bool('json')) {
      io.out(json(body));
      return 0;
    }
    io.out(
      table(body.hypervisors, [
        { header: 'name', value: (h) => h.name },
        { header: 'state', value: (h) => (h.state === 'up' && !h.record ? 'up (no record yet)' : h.state) },
        { header: 'total', value: (h) => mb(h.memory?.totalMb) },
        { header: 'host', value: (h) => mb(h.memory?.reservedForHostMb) },
        { header: 'provisioned', value: (h) => mb(h.memory?.provisionedMb) },
        { header: 'pending', value: (h) => mb(h.memory?.pendingMb) },
        { header: 'free', value: (h) => mb(h.memory?.freeMb) },
        { header: 'zones', value: (h) => h.zones?.['total'] },
        { header: 'running', value: (h) => h.zones?.['running'] },
        { header: 'driver', value: (h) => h.record?.agent.driver },
        { header: 'updated', value: (h) => h.seenAt ?? 'never' },
      ]),
    );
    if (body.hypervisors.length > 0) io.out('(memory in MB; free = total - host - provisioned - pending)\n');
    return 0;
  },
};

const namePositional: PositionalSpec[] = [{ name: 'name', help: 'the hypervisor (agent) name' }];

const get: Command = {
  path: ['hypervisors', 'get'],
  summary: 'Show one hypervisor: its state, memory figures, host facts and zones.',
  flags: clientFlags,
  positionals: namePositional,
  async run(args, io) {
    const name = args.positionals[0] as string;
    const h = (await apiClient(args).get(`/api/v1/hypervisors/${encodeURIComponent(name)}`, ['name', 'state', 'swimState', 'record', 'memory', 'zones'])) as HypervisorView;
    if (args.bool('json')) {
      io.out(json(h));
      return 0;
    }
    const r = h.record;
    const m = h.memory;
    io.out(
      fields([
        ['name', h.name],
        ['state', `${h.state} (SWIM: ${h.swimState})`],
        ['record', `${h.seenAt ? `updated ${h.seenAt}` : 'none stored'}${h.error ? ` — ${h.error}` : ''}`],
        ['driver', r?.agent.driver],
        ['agent', r ? `${r.agent.cluster} (gossip ${r.agent.gossip}), version ${r.agent.version}, up since ${r.agent.startedAt}` : undefined],
        ['platform', r?.platform],
        ['cpus', r?.cpus],
        ['virtualisation', r?.virtualisation.join(', ')],
        ['memory (MB)', m ? `total ${m.totalMb}, host ${m.reservedForHostMb}, provisioned ${m.provisionedMb}, pending ${m.pendingMb}, free ${m.freeMb}${m.overcommittedMb > 0 ? `, OVER-COMMITTED by ${m.overcommittedMb}` : ''}` : undefined],
        ['disk (GB)', r ? `total ${r.disk.totalGb}, provisioned ${r.disk.provisionedGb}, free ${r.disk.freeGb}` : undefined],
        ['nic tags', r?.nicTags.join(', ')],
        ['characteristics', r ? Object.entries(r.characteristics).map(([k, v]) => `${k}=${v}`).join(', ') || 'none' : undefined],
        ['topology', r?.topology || undefined],
        ['reservations', r ? `${r.reservations.pending} pending, ${r.reservations.provisioned} provisioned` : undefined],
        ['zones', h.zones ? Object.entries(h.zones).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ') || 'none' : undefined],
      ]),
    );
    if (r && r.zones.length > 0) {
      io.out('\n');
      io.out(
        table(r.zones, [
          { header: 'uuid', value: (z) => z.uuid },
          { header: 'alias', value: (z) => z.alias },
          { header: 'brand', value: (z) => z.brand },
          { header: 'state', value: (z) => z.state },
          { header: 'ram (MB)', value: (z) => z.ramMb },
        ]),
      );
      if (r.zonesTruncated) io.out('(more zones than the record lists)\n');
    }
    return 0;
  },
};

const remove: Command = {
  path: ['hypervisors', 'remove'],
  summary: 'Forget a hypervisor that is down (decommissioned): its record leaves the store. Refused while its agent is up.',
  flags: clientFlags,
  positionals: namePositional,
  async run(args, io) {
    const name = args.positionals[0] as string;
    const body = await apiClient(args).send('DELETE', `/api/v1/hypervisors/${encodeURIComponent(name)}`);
    io.out(args.bool('json') ? json(body) : `removed hypervisor ${name}\n`);
    return 0;
  },
};

export const hypervisorCommands: Command[] = [list, get, remove];
