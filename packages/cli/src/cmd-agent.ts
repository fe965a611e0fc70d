/**
 * `shoal agent start` runs a hypervisor agent in the foreground until SIGINT/SIGTERM (a graceful
 * SWIM leave), or until its ledger fails (exit status 1: it cannot be trusted any more).
 */
// The agent itself is loaded only by `agent start` (as the node is by `node start`: cmd-node.ts).
import { agentDefaults, parseLabels, parseList, validateAgentConfig, type AgentConfigInput } from '@shoal/hypervisor-agent/config';
import { AgentConfigError, AgentStartError } from '@shoal/hypervisor-agent/errors';
import { isLogLevel, nodeWorld } from '@shoal/runtime';
import type { FlagSpec } from './args.js';
import type { Command } from './command.js';
import { CliError } from './io.js';

const flags: FlagSpec[] = [
  { name: 'name', type: 'string', valueName: 'NAME', help: 'agent (hypervisor) name, unique in the cluster; required' },
  { name: 'join', type: 'string', valueName: 'HOST:PORT[,...]', help: 'gossip addresses of core nodes to join through; required' },
  { name: 'driver', type: 'string', valueName: 'DRIVER', help: "'sim' (zones simulated in the data directory) or 'vmadm' (SmartOS)", default: agentDefaults.driver },
  { name: 'memory-mb', type: 'int', valueName: 'MB', help: `host memory (sim: default ${agentDefaults.simMemoryMb}; vmadm: sysinfo)` },
  { name: 'cpus', type: 'int', valueName: 'N', help: `CPU cores (sim: default ${agentDefaults.simCpus}; vmadm: sysinfo)` },
  { name: 'reserved-mb', type: 'int', valueName: 'MB', help: 'memory kept for the host, never reserved for zones (default 10% of the memory)' },
  { name: 'disk-gb', type: 'int', valueName: 'GB', help: `zpool size (sim: default ${agentDefaults.simDiskGb}; vmadm: sysinfo)` },
  { name: 'nic-tags', type: 'string', valueName: 'TAG[,...]', help: "NIC tags of the host (sim: default admin,external; vmadm: sysinfo)" },
  { name: 'characteristics', type: 'string', valueName: 'K=V[,...]', help: 'labels used by placement, e.g. ssd=true,tier=gold' },
  { name: 'topology', type: 'string', valueName: 'PATH', help: 'where the host is, e.g. dc1.rack3' },
  { name: 'data', type: 'string', valueName: 'DIR', help: 'data directory: the memory ledger (and the sim zones) (default data/agents/NAME)' },
  { name: 'key-file', type: 'string', valueName: 'FILE', help: "a copy of the cluster's key file", default: agentDefaults.keyFile },
  { name: 'cluster', type: 'string', valueName: 'NAME', help: 'cluster name', default: agentDefaults.cluster },
  { name: 'host', type: 'string', valueName: 'HOST', help: 'address to bind and advertise', default: agentDefaults.host },
  { name: 'gossip-port', type: 'port', valueName: 'PORT', help: 'SWIM port (UDP, and TCP for state sync); 0 = any', default: agentDefaults.gossipPort },
  { name: 'cluster-port', type: 'port', valueName: 'PORT', help: 'cluster transport port (actor messages); 0 = any', default: agentDefaults.clusterPort },
  { name: 'metrics-port', type: 'port', valueName: 'PORT', help: 'serve Prometheus /metrics on this port (default: no metrics server); 0 = any' },
  { name: 'lease-ms', type: 'int', valueName: 'MS', help: 'lease of a reservation when the request names none', default: agentDefaults.leaseMsDefault },
  { name: 'swim-preset', type: 'string', valueName: 'PRESET', help: "SWIM timings: 'lan' or 'local' (loopback)", default: agentDefaults.swimPreset },
  { name: 'log-level', type: 'string', valueName: 'LEVEL', help: 'debug, info, warn or error', default: 'info', env: 'SHOAL_LOG_LEVEL' },
];

const agentStart: Command = {
  path: ['agent', 'start'],
  summary: 'Start a hypervisor agent in the foreground: it joins the cluster, keeps the host memory ledger, runs zones through its driver, and stops cleanly on SIGINT or SIGTERM.',
  flags,
  positionals: [],
  async run(args, io) {
    const level = args.string('log-level') ?? 'info';
    if (!isLogLevel(level)) throw new CliError(`--log-level must be debug, info, warn or error, got ${JSON.stringify(level)}`);
    let config;
    try {
      const input: AgentConfigInput = {
        name: args.string('name'),
        join: parseList(args.string('join')),
        driver: args.string('driver') as AgentConfigInput['driver'],
        memoryMb: args.int('memory-mb'),
        cpus: args.int('cpus'),
        reservedMb: args.int('reserved-mb'),
        diskGb: args.int('disk-gb'),
        nicTags: parseList(args.string('nic-tags')),
        characteristics: parseLabels(args.string('characteristics')),
        topology: args.string('topology'),
        dataDir: args.string('data'),
        keyFile: args.string('key-file'),
        cluster: args.string('cluster'),
        host: args.string('host'),
        gossipPort: args.int('gossip-port'),
        clusterPort: args.int('cluster-port'),
        metricsPort: args.int('metrics-port'),
        leaseMsDefault: args.int('lease-ms'),
        swimPreset: args.string('swim-preset') as AgentConfigInput['swimPreset'],
      };
      config = validateAgentConfig(input);
    } catch (err) {
      if (err instanceof AgentConfigError) throw new CliError(err.message);
      throw err;
    }
    let agent;
    try {
      const { startAgent } = await import('@shoal/hypervisor-agent');
      agent = await startAgent(config, nodeWorld({ logLevel: level }));
    } catch (err) {
      if (err instanceof AgentStartError) throw new CliError(err.message);
      throw err;
    }
    const say = (line: string): void => io.err(`${line}\n`);
    const m = agent.ledger.figures();
    const metrics = agent.addresses.metrics ? `, metrics http://${agent.addresses.metrics}/metrics` : '';
    say(`shoal: agent ${config.name} is up (${config.driver}, ${m.totalMb} MB, ${m.freeMb} MB free): gossip ${agent.addresses.gossip}, cluster transport ${agent.addresses.cluster}${metrics}, data ${config.dataDir}; joining ${config.join.join(', ')}`);
    const why = await Promise.race([io.stopSignal(), agent.failed.then((err) => `failure: ${err.message}`)]);
    say(`shoal: ${why}: stopping`);
    await agent.stop();
    return why.startsWith('failure') ? 1 : 0;
  },
};

export const agentCommands: Command[] = [agentStart];
