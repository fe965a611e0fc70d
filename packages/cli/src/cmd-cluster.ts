/** `shoal cluster …`: the cluster as the node being asked sees it. */
import type { MemberBody } from '@shoal/cluster';
import { apiClient, clientFlags } from './client.js';
import type { Command } from './command.js';
import { json, table } from './output.js';

const members: Command = {
  path: ['cluster', 'members'],
  summary: 'List the members of the cluster (SWIM membership: alive, suspect, dead or left) as the node sees them.',
  flags: clientFlags,
  positionals: [],
  async run(args, io) {
    const body = (await apiClient(args).get('/api/v1/cluster/members', ['members'])) as { members: MemberBody[] };
    if (args.bool('json')) {
      io.out(json(body));
      return 0;
    }
    io.out(
      table(body.members, [
        { header: 'name', value: (m) => m.name },
        { header: 'role', value: (m) => m.role },
        { header: 'state', value: (m) => m.state },
        { header: 'incarnation', value: (m) => m.incarnation },
        { header: 'gossip', value: (m) => m.addresses.gossip },
        { header: 'cluster', value: (m) => m.addresses.cluster },
        { header: 'http', value: (m) => m.addresses.http },
        { header: 'version', value: (m) => m.version },
      ]),
    );
    return 0;
  },
};

export const clusterCommands: Command[] = [members];
