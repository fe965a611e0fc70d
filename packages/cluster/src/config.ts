/**
 * Configuration of a core node: documented, validated once, frozen. Every field says its unit
 * and default; `validateNodeConfig` turns user input into a NodeConfig or throws ConfigError
 * with one sentence naming the bad field.
 */

import { parseAddress } from '@shoal/runtime';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface NodeConfig {
  /** Node name, unique in the cluster: letters, digits, `.`, `_`, `-`; 1–63 characters. */
  readonly name: string;
  /** Cluster name; authenticated in every packet and handshake, so clusters never mix. */
  readonly cluster: string;
  /** Address to bind and advertise (IPv4 or IPv6 literal, or a host name). Default 127.0.0.1. */
  readonly host: string;
  /** UDP (and push-pull TCP) port of SWIM membership. Default 7946 (memberlist's); 0 = any. */
  readonly gossipPort: number;
  /** TCP port of the cluster transport (actor messages between nodes). Default 7947; 0 = any. */
  readonly clusterPort: number;
  /** TCP port of the HTTP API. Default 8080; 0 = any. */
  readonly httpPort: number;
  /** Data directory: storage, cluster key, admin token. Default ./data. */
  readonly dataDir: string;
  /** Keyring file (one base64 key per line, first is primary). Default: DATA/cluster.key, created if missing. */
  readonly keyFile: string | undefined;
  /** Gossip addresses (`host:port`) of members to join through; empty = start a new cluster. */
  readonly join: readonly string[];
  /** SWIM timing preset: `lan` (memberlist's LAN defaults) or `local` (faster, for loopback). */
  readonly swimPreset: 'lan' | 'local';
  /** Simulated hypervisor agents run beside the node as child processes (sim-agents.ts), 0–16. Default 0. */
  readonly simAgents: number;
}

export const nodeDefaults = {
  cluster: 'shoal',
  host: '127.0.0.1',
  gossipPort: 7946,
  clusterPort: 7947,
  httpPort: 8080,
  dataDir: 'data',
  swimPreset: 'lan',
  simAgents: 0,
} as const;

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function checkName(what: string, name: string): string {
  if (!namePattern.test(name)) {
    throw new ConfigError(`${what} ${JSON.stringify(name)} is not valid: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return name;
}

function checkPort(what: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${what} must be a port number 0-65535, got ${port}`);
  return port;
}

export type NodeConfigInput = Partial<NodeConfig>;

function checkJoin(seeds: readonly string[]): readonly string[] {
  for (const seed of seeds) {
    try {
      parseAddress(seed);
    } catch {
      throw new ConfigError(`join address ${JSON.stringify(seed)} is not HOST:PORT`);
    }
  }
  return Object.freeze([...seeds]);
}

function checkSimAgents(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 16) throw new ConfigError(`sim agents must be 0-16, got ${n}`);
  return n;
}

export function validateNodeConfig(input: NodeConfigInput, hostname: string): NodeConfig {
  const clusterPort = checkPort('cluster port', input.clusterPort ?? nodeDefaults.clusterPort);
  const gossipPort = checkPort('gossip port', input.gossipPort ?? nodeDefaults.gossipPort);
  const swimPreset = input.swimPreset ?? nodeDefaults.swimPreset;
  if (swimPreset !== 'lan' && swimPreset !== 'local') throw new ConfigError(`SWIM preset must be lan or local, got ${JSON.stringify(swimPreset)}`);
  const host = input.host ?? nodeDefaults.host;
  if (host.length === 0 || /\s/.test(host)) throw new ConfigError(`host ${JSON.stringify(host)} is not a valid host`);
  const config: NodeConfig = {
    name: checkName('node name', input.name ?? `${hostname.split('.')[0] || 'shoal'}-${clusterPort}`),
    cluster: checkName('cluster name', input.cluster ?? nodeDefaults.cluster),
    host,
    gossipPort,
    clusterPort,
    httpPort: checkPort('HTTP port', input.httpPort ?? nodeDefaults.httpPort),
    dataDir: input.dataDir ?? nodeDefaults.dataDir,
    keyFile: input.keyFile,
    join: checkJoin(input.join ?? []),
    swimPreset,
    simAgents: checkSimAgents(input.simAgents ?? nodeDefaults.simAgents),
  };
  return Object.freeze(config);
}
