/**
 * `shoal node start` runs a core node in the foreground until SIGINT/SIGTERM;
 * `shoal node status` asks a running node about itself.
 */
import { hostname } from 'node:os';
// The node itself (@shoal/cluster: the ring, the actors, SWIM, the HTTP API, LMDB) is loaded only
// by `node start`: every other command starts in about half the time without it.
import { nodeDefaults, validateNodeConfig, ConfigError } from '@shoal/cluster/config';
import type { NodeStatus } from '@shoal/api';
import { isLogLevel, nodeWorld } from '@shoal/runtime';
import type { FlagSpec } from './args.js';
import { apiClient, clientFlags } from './client.js';
import type { Command } from './command.js';
import { CliError } from './io.js';
import { fields, json } from './output.js';

const startFlags: FlagSpec[] = [
  { name: 'name', type: 'string', valueName: 'NAME', help: 'node name, unique in the cluster (default: HOSTNAME-CLUSTERPORT)' },
  { name: 'cluster', type: 'string', valueName: 'NAME', help: 'cluster name', default: nodeDefaults.cluster },
  { name: 'host', type: 'string', valueName: 'HOST', help: 'address to bind and advertise', default: nodeDefaults.host },
  { name: 'gossip-port', type: 'port', valueName: 'PORT', help: 'SWIM membership port (UDP, and TCP for state sync)', default: nodeDefaults.gossipPort },
  { name: 'cluster-port', type: 'port', valueName: 'PORT', help: 'cluster transport port (actor messages)', default: nodeDefaults.clusterPort },
  { name: 'http-port', type: 'port', valueName: 'PORT', help: 'HTTP API port', default: nodeDefaults.httpPort },
  { name: 'data', type: 'string', valueName: 'DIR', help: 'data directory', default: nodeDefaults.dataDir },
  { name: 'key-file', type: 'string', valueName: 'FILE', help: 'keyring file: one base64 key per line, the first is primary (default: DIR/cluster.key, created)' },
  { name: 'join', type: 'string', valueName: 'HOST:PORT[,...]', help: 'gossip addresses of members to join through (retried until one answers)' },
  { name: 'swim-preset', type: 'string', valueName: 'PRESET', help: "SWIM timings: 'lan' (memberlist's LAN defaults) or 'local' (faster, loopback)", default: nodeDefaults.swimPreset },
  { name: 'sim-agents', type: 'int', valueName: 'K', help: 'run K simulated hypervisor agents beside the node (child processes, data in DIR/agents)', default: nodeDefaults.simAgents },
  { name: 'log-level', type: 'string', valueName: 'LEVEL', help: 'debug, info, warn or error', default: 'info', env: 'SHOAL_LOG_LEVEL' },
];

const nodeStart: Command = {
  path: ['node', 'start'],
  summary: 'Start a core node in the foreground. It serves the HTTP API and the cluster transport, and stops cleanly on SIGINT or SIGTERM.',
  flags: startFlags,
  positionals: [],
  async run(args, io) {
    const level = args.string('log-level') ?? 'info';
    if (!isLogLevel(level)) throw new CliError(`--log-level must be debug, info, warn or error, got ${JSON.stringify(level)}`);
    let config;
    try {
      config = validateNodeConfig(
        {
          name: args.string('name'),
          cluster: args.string('cluster'),
          host: args.string('host'),
          clusterPort: args.int('cluster-port'),
          httpPort: args.int('http-port'),
          gossipPort: args.int('gossip-port'),
          dataDir: args.string('data'),
          keyFile: args.string('key-file'),
          join: (args.string('join') ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0),
          swimPreset: args.string('swim-preset') as 'lan' | 'local' | undefined,
          simAgents: args.int('sim-agents'),
        },
        hostname(),
      );
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message);
      throw err;
    }
    const { startNode } = await import('@shoal/cluster');
    const node = await startNode(config, nodeWorld({ logLevel: level }));
    const say = (line: string): void => io.err(`${line}\n`);
    if (node.created.keyFile) say(`shoal: created the cluster key ${node.created.keyFile}; give other nodes a copy as their --key-file`);
    if (node.created.adminToken) say(`shoal: created the admin token ${node.created.adminToken} (mode 0600); shoal commands run with --data ${config.dataDir} read it`);
    if (config.join.length > 0) say(`shoal: joining through ${config.join.join(', ')}`);
    say(`shoal: node ${config.name} is up: API http://${node.httpAddress}, gossip ${node.gossipAddress}, cluster transport ${node.clusterAddress}, data ${config.dataDir}`);
    const signal = await io.stopSignal();
    say(`shoal: ${signal}: stopping`);
    await node.stop();
    return 0;
  },
};

const nodeStatus: Command = {
  path: ['node', 'status'],
  summary: 'Show what a running node is and how it is doing (admin token needed).',
  flags: clientFlags,
  positionals: [],
  async run(args, io) {
    const body = (await apiClient(args).get('/api/v1/node', ['name', 'addresses', 'peers'])) as NodeStatus;
    if (args.bool('json')) {
      io.out(json(body));
      return 0;
    }
    io.out(
      fields([
        ['name', body.name],
        ['cluster', body.cluster],
        ['version', body.version],
        ['started', body.startedAt],
        ['uptime', `${body.uptimeSeconds} s`],
        ['http', body.addresses.http],
        ['cluster transport', body.addresses.cluster],
        ['peers', body.peers.length === 0 ? 'none' : body.peers.map((p) => `${p.node} (${p.state})`).join(', ')],
      ]),
    );
    return 0;
  },
};

export const nodeCommands: Command[] = [nodeStart, nodeStatus];
