/**
 * The agent as a standalone process: `node hypervisor-agent/dist/src/main.js --name N --join
 * HOST:PORT [flags]`, with the flags of `shoal agent start` (see `shoal agent start --help`).
 * Parents that run agents beside them (`shoal node start --sim-agents K`, the benchmark) start
 * this entry by path, since the CLI sits above the cluster in the dependency order.
 *
 * Two flags only a parent uses: `--watch-stdin` stops the agent when its stdin closes (the
 * parent holds the pipe, so the agent ends with its parent even if the parent is killed with
 * SIGKILL), and `--ready-line` prints one JSON line `{"ready":true,"name",…,"cluster","gossip"}`
 * on stdout once the agent is up. SIGINT/SIGTERM stop it cleanly (graceful SWIM leave); the exit
 * status is 0 after a clean stop, 1 if it could not start or its ledger failed, 2 for bad flags.
 */
import { parseArgs } from 'node:util';
import { isLogLevel, nodeWorld, onStdinClosed } from '@shoal/runtime';
import { startAgent } from './agent.js';
import { parseLabels, parseList, validateAgentConfig, type AgentConfigInput } from './config.js';
import { AgentConfigError } from './errors.js';

const stringFlags = ['name', 'cluster', 'join', 'driver', 'data', 'key-file', 'host', 'swim-preset', 'log-level', 'characteristics', 'nic-tags', 'topology'] as const;
const intFlags = ['memory-mb', 'cpus', 'reserved-mb', 'disk-gb', 'gossip-port', 'cluster-port', 'metrics-port', 'lease-ms', 'sim-provision-ms', 'sim-boot-ms', 'sim-shutdown-ms'] as const;

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new AgentConfigError(`--${flag} must be a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

function inputFrom(values: Record<string, string | boolean | undefined>): AgentConfigInput {
  const s = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  const n = (k: string): number | undefined => int(k, s(k));
  const timings = { provisionMs: n('sim-provision-ms'), bootMs: n('sim-boot-ms'), shutdownMs: n('sim-shutdown-ms') };
  return {
    name: s('name'),
    cluster: s('cluster'),
    join: parseList(s('join')),
    driver: s('driver') as AgentConfigInput['driver'],
    dataDir: s('data'),
    keyFile: s('key-file'),
    host: s('host'),
    swimPreset: s('swim-preset') as AgentConfigInput['swimPreset'],
    characteristics: parseLabels(s('characteristics')),
    nicTags: parseList(s('nic-tags')),
    topology: s('topology'),
    memoryMb: n('memory-mb'),
    cpus: n('cpus'),
    reservedMb: n('reserved-mb'),
    diskGb: n('disk-gb'),
    gossipPort: n('gossip-port'),
    clusterPort: n('cluster-port'),
    metricsPort: n('metrics-port'),
    leaseMsDefault: n('lease-ms'),
    simTimings: Object.fromEntries(Object.entries(timings).filter(([, v]) => v !== undefined)),
  };
}

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let input: AgentConfigInput;
  try {
    const options = Object.fromEntries([
      ...[...stringFlags, ...intFlags].map((f) => [f, { type: 'string' as const }]),
      ['watch-stdin', { type: 'boolean' as const }],
      ['ready-line', { type: 'boolean' as const }],
    ]);
    values = parseArgs({ args: process.argv.slice(2), options, strict: true }).values as Record<string, string | boolean | undefined>;
    input = inputFrom(values);
  } catch (err) {
    process.stderr.write(`shoal-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const level = typeof values['log-level'] === 'string' ? values['log-level'] : 'info';
  if (!isLogLevel(level)) {
    process.stderr.write(`shoal-agent: --log-level must be debug, info, warn or error\n`);
    return 2;
  }
  let agent;
  try {
    agent = await startAgent(validateAgentConfig(input), nodeWorld({ logLevel: level }));
  } catch (err) {
    process.stderr.write(`shoal-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof AgentConfigError ? 2 : 1;
  }
  if (values['ready-line']) process.stdout.write(`${JSON.stringify({ ready: true, name: agent.config.name, pid: process.pid, ...agent.addresses })}\n`);
  const why = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    if (values['watch-stdin']) onStdinClosed(() => resolve('parent gone'));
    void agent.failed.then((err) => resolve(`failure: ${err.message}`));
  });
  await agent.stop();
  return why.startsWith('failure') ? 1 : 0;
}

process.exit(await main());
