/**
 * Configuration of a core node: documented, validated once, frozen. Every field says its unit
 * and default; `validateNodeConfig` turns user input into a NodeConfig or throws ConfigError
 * with one sentence naming the bad field.
 */

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
  /** TCP port of the cluster transport (actor messages between nodes). Default 7947; 0 = any. */
  readonly clusterPort: number;
  /** TCP port of the HTTP API. Default 8080; 0 = any. */
  readonly httpPort: number;
  /** Data directory: storage, cluster key, admin token. Default ./data. */
  readonly dataDir: string;
  /** Keyring file (one base64 key per line, first is primary). Default: DATA/cluster.key, created if missing. */
  readonly keyFile: string | undefined;
}

export const nodeDefaults = {
  cluster: 'shoal',
  host: '127.0.0.1',
  clusterPort: 7947,
  httpPort: 8080,
  dataDir: 'data',
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

export function validateNodeConfig(input: NodeConfigInput, hostname: string): NodeConfig {
  const clusterPort = checkPort('cluster port', input.clusterPort ?? nodeDefaults.clusterPort);
  const host = input.host ?? nodeDefaults.host;
  if (host.length === 0 || /\s/.test(host)) throw new ConfigError(`host ${JSON.stringify(host)} is not a valid host`);
  const config: NodeConfig = {
    name: checkName('node name', input.name ?? `${hostname.split('.')[0] || 'shoal'}-${clusterPort}`),
    cluster: checkName('cluster name', input.cluster ?? nodeDefaults.cluster),
    host,
    clusterPort,
    httpPort: checkPort('HTTP port', input.httpPort ?? nodeDefaults.httpPort),
    dataDir: input.dataDir ?? nodeDefaults.dataDir,
    keyFile: input.keyFile,
  };
  return Object.freeze(config);
}
