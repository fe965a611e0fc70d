/**
 * A node's secrets in its data directory: the cluster keyring and the admin token.
 *
 * - Cluster key: `--key-file F` names a keyring file (one base64 key per line, first = primary).
 *   Without it the node uses `DATA/cluster.key`, creating it (mode 0600) on first start; other
 *   nodes join with a copy of that file as their `--key-file`.
 * - Admin token: `DATA/admin.token` (mode 0600), created on first start. The API stores only its
 *   digest; the CLI reads the file itself when run with `--data DATA`.
 * A file that exists but is not what it should be stops the node with a sentence naming it; a
 * secret is never silently regenerated over a corrupted one.
 */
import { files, type Random } from '@shoal/runtime';
import { formatKeyringFile, generateKey, Keyring, parseKeyringFile } from '@shoal/wire';

export const clusterKeyFileName = 'cluster.key';
export const adminTokenFileName = 'admin.token';

export class SecretError extends Error {
  override name = 'SecretError';
}

export interface LoadedSecret<T> {
  value: T;
  path: string;
  /** True when this start created the file. */
  created: boolean;
}

export function loadKeyring(dataDir: string, keyFile: string | undefined, random: Random): LoadedSecret<Keyring> {
  const path = files.resolve(keyFile ?? files.resolve(dataDir, clusterKeyFileName));
  if (keyFile === undefined && !files.exists(path)) {
    const keyring = new Keyring([generateKey(random)]);
    files.writeSecret(path, formatKeyringFile(keyring));
    return { value: keyring, path, created: true };
  }
  try {
    return { value: parseKeyringFile(files.readText(path)), path, created: false };
  } catch (err) {
    throw new SecretError(`cluster key file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const tokenPattern = /^[A-Za-z0-9_-]{32,512}$/;

export function loadAdminToken(dataDir: string, random: Random): LoadedSecret<string> {
  const path = files.resolve(dataDir, adminTokenFileName);
  if (!files.exists(path)) {
    const token = Buffer.from(random.bytes(32)).toString('base64url');
    files.writeSecret(path, `${token}\n`);
    return { value: token, path, created: true };
  }
  const token = files.readText(path).trim();
  if (!tokenPattern.test(token)) {
    throw new SecretError(`admin token file ${path} is corrupted (expected one line of at least 32 base64url characters); remove it to have a new token made`);
  }
  return { value: token, path, created: false };
}
