/**
 * Configuration of an agent: documented, validated once, frozen (STYLE habit 7). Every field
 * says its unit and default; `validateAgentConfig` turns user input into an AgentConfig or throws
 * AgentConfigError with one sentence naming the bad field.
 */
import { parseAddress } from '@shoal/runtime';
import { nicTagSchema, validate } from '@shoal/wire';
import { AgentConfigError } from './errors.js';
import type { SimTimings } from './sim-driver.js';

export type DriverName = 'sim' | 'vmadm';

export interface AgentConfig {
  /** Agent (and hypervisor) name, unique in the cluster: 1–63 letters, digits, `.`, `_`, `-`. Also its SWIM and actor node name. */
  readonly name: string;
  /** Cluster name; must match the core nodes'. Default `shoal`. */
  readonly cluster: string;
  /** Address to bind and advertise. Default 127.0.0.1. */
  readonly host: string;
  /** SWIM port (UDP + push-pull TCP). Default 7956 (a node beside it uses 7946); 0 = any. */
  readonly gossipPort: number;
  /** Cluster transport port (actor messages). Default 7957; 0 = any. */
  readonly clusterPort: number;
  /** Prometheus `/metrics` port; undefined = no metrics server (default). 0 = any. */
  readonly metricsPort: number | undefined;
  /** Data directory: the ledger and (sim driver) the zones. Default `data/agents/NAME`. */
  readonly dataDir: string;
  /** The cluster's keyring file. Default `data/cluster.key` (what `shoal node start` creates in the same directory). */
  readonly keyFile: string;
  /** Gossip addresses (`host:port`) of core nodes to join through; at least one. */
  readonly join: readonly string[];
  /** SWIM timings: `lan` (memberlist's LAN defaults) or `local` (loopback, tests). Default lan. */
  readonly swimPreset: 'lan' | 'local';
  readonly driver: DriverName;
  /** Host memory, MB. sim: default 65 536; vmadm: default what sysinfo reports (set it to cap what Shoal may use). */
  readonly memoryMb: number | undefined;
  /** CPU cores. sim: default 16; vmadm: sysinfo. */
  readonly cpus: number | undefined;
  /** Memory kept for the host itself, never reserved for zones, MB. Default 10 % of the host's memory (Triton keeps 15 %). */
  readonly reservedMb: number | undefined;
  /** Zpool size, GB. sim: default 1 024; vmadm: sysinfo. */
  readonly diskGb: number | undefined;
  /** NIC tags this host has. sim: default admin, external; vmadm: sysinfo's "NIC Names". */
  readonly nicTags: readonly string[] | undefined;
  /** Free-form labels used by placement (`ssd=true`, `tier=gold`). Default none. */
  readonly characteristics: Readonly<Record<string, string>>;
  /** Where the host is, as a dotted path (`dc1.rack3`). Default empty. */
  readonly topology: string;
  /** Lease of a reservation when the request names none, ms. Default 60 000. */
  readonly leaseMsDefault: number;
  /** sim driver timings, ms. */
  readonly simTimings: Partial<SimTimings>;
  /** vmadm driver: list poll for state changes, ms. Default 5 000. */
  readonly vmadmPollMs: number;
}

export const agentDefaults = {
  cluster: 'shoal',
  host: '127.0.0.1',
  gossipPort: 7956,
  clusterPort: 7957,
  keyFile: 'data/cluster.key',
  swimPreset: 'lan',
  driver: 'sim',
  simMemoryMb: 65_536,
  simCpus: 16,
  simDiskGb: 1_024,
  simNicTags: ['admin', 'external'],
  reservedFraction: 0.1,
  leaseMsDefault: 60_000,
  vmadmPollMs: 5_000,
} as const;

export type AgentConfigInput = { [K in keyof AgentConfig]?: AgentConfig[K] | undefined };

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function checkName(what: string, name: string | undefined): string {
  if (name === undefined) throw new AgentConfigError(`${what} is required (--name)`);
  if (!namePattern.test(name)) throw new AgentConfigError(`${what} ${JSON.stringify(name)} is not valid: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return name;
}

function checkPort(what: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AgentConfigError(`${what} must be a port number 0-65535, got ${port}`);
  return port;
}

function checkPositive(what: string, v: number | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v <= 0 || v > max) throw new AgentConfigError(`${what} must be an integer from 1 to ${max}, got ${v}`);
  return v;
}

function checkJoin(seeds: readonly string[] | undefined): readonly string[] {
  if (!seeds || seeds.length === 0) throw new AgentConfigError('an agent joins an existing cluster: give --join HOST:PORT of a core node');
  for (const seed of seeds) {
    try {
      parseAddress(seed);
    } catch {
      throw new AgentConfigError(`join address ${JSON.stringify(seed)} is not HOST:PORT`);
    }
  }
  return Object.freeze([...seeds]);
}

function checkLabels(labels: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(k) || v.length > 256 || /[\u0000-\u001f]/.test(v)) throw new AgentConfigError(`characteristic ${JSON.stringify(k)}=${JSON.stringify(v)} is not valid (key: 1-64 letters, digits, '.', '_', '-'; value: up to 256 printable characters)`);
    out[k] = v;
  }
  if (Object.keys(out).length > 64) throw new AgentConfigError('at most 64 characteristics');
  return Object.freeze(out);
}

function checkNicTags(tags: readonly string[] | undefined): readonly string[] | undefined {
  if (tags === undefined) return undefined;
  for (const tag of tags) if (!validate(nicTagSchema, tag).ok) throw new AgentConfigError(`nic tag ${JSON.stringify(tag)} is not valid (1-31 letters, digits or '_')`);
  return Object.freeze([...tags]);
}

export function validateAgentConfig(input: AgentConfigInput): AgentConfig {
  const name = checkName('agent name', input.name);
  const swimPreset = input.swimPreset ?? agentDefaults.swimPreset;
  if (swimPreset !== 'lan' && swimPreset !== 'local') throw new AgentConfigError(`SWIM preset must be lan or local, got ${JSON.stringify(swimPreset)}`);
  const driver = input.driver ?? agentDefaults.driver;
  if (driver !== 'sim' && driver !== 'vmadm') throw new AgentConfigError(`driver must be sim or vmadm, got ${JSON.stringify(driver)}`);
  const host = input.host ?? agentDefaults.host;
  if (host.length === 0 || /\s/.test(host)) throw new AgentConfigError(`host ${JSON.stringify(host)} is not a valid host`);
  const topology = input.topology ?? '';
  if (!/^([A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7})?$/.test(topology)) throw new AgentConfigError(`topology ${JSON.stringify(topology)} is not a dotted path like dc1.rack3`);
  const leaseMsDefault = checkPositive('default lease', input.leaseMsDefault, 3_600_000) ?? agentDefaults.leaseMsDefault;
  const config: AgentConfig = {
    name,
    cluster: checkName('cluster name', input.cluster ?? agentDefaults.cluster),
    host,
    gossipPort: checkPort('gossip port', input.gossipPort ?? agentDefaults.gossipPort),
    clusterPort: checkPort('cluster port', input.clusterPort ?? agentDefaults.clusterPort),
    metricsPort: input.metricsPort === undefined ? undefined : checkPort('metrics port', input.metricsPort),
    dataDir: input.dataDir ?? `data/agents/${name}`,
    keyFile: input.keyFile ?? agentDefaults.keyFile,
    join: checkJoin(input.join),
    swimPreset,
    driver,
    memoryMb: checkPositive('memory (MB)', input.memoryMb, 16 * 1024 * 1024),
    cpus: checkPositive('CPUs', input.cpus, 65_536),
    reservedMb: input.reservedMb === 0 ? 0 : checkPositive('reserved memory (MB)', input.reservedMb, 16 * 1024 * 1024),
    diskGb: checkPositive('disk (GB)', input.diskGb, 1_048_576),
    nicTags: checkNicTags(input.nicTags),
    characteristics: checkLabels(input.characteristics),
    topology,
    leaseMsDefault,
    simTimings: Object.freeze({ ...input.simTimings }),
    vmadmPollMs: input.vmadmPollMs ?? agentDefaults.vmadmPollMs,
  };
  return Object.freeze(config);
}

/** `k=v,k2=v2` → a record (the CLI form of characteristics). */
export function parseLabels(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new AgentConfigError(`characteristic ${JSON.stringify(part)} is not KEY=VALUE`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** `a,b` → a list (the CLI form of lists). */
export function parseList(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}
