/**
 * The CLI's HTTP client for a node's API. Every API command takes `--url` (or SHOAL_URL,
 * default http://127.0.0.1:8080), `--token` (or SHOAL_TOKEN, or the admin token file in
 * `--data`, default ./data) and `--json`. Errors come back as one sentence.
 */
import { files, httpRequest, type HttpRequest } from '@shoal/runtime';
import type { FlagSpec, ParsedArgs } from './args.js';
import { CliError } from './io.js';

export const defaultUrl = 'http://127.0.0.1:8080';
export const adminTokenFileName = 'admin.token';

export const clientFlags: FlagSpec[] = [
  { name: 'url', type: 'string', valueName: 'URL', help: 'the node API to talk to', env: 'SHOAL_URL', default: defaultUrl },
  { name: 'token', type: 'string', valueName: 'TOKEN', help: 'bearer token', env: 'SHOAL_TOKEN' },
  { name: 'data', type: 'string', valueName: 'DIR', help: `read the token from DIR/${adminTokenFileName} when no token is given`, default: 'data' },
  { name: 'json', type: 'bool', help: 'print JSON for scripts' },
  { name: 'timeout-ms', type: 'int', valueName: 'MS', help: 'give up after this long', default: 30_000 },
];

export interface ApiClient {
  get(path: string): Promise<unknown>;
  send(method: HttpRequest['method'], path: string, body?: unknown): Promise<unknown>;
}

function resolveToken(args: ParsedArgs): string | undefined {
  const token = args.string('token');
  if (token) return token;
  const dataDir = args.string('data') ?? 'data';
  const path = files.resolve(dataDir, adminTokenFileName);
  return files.exists(path) ? files.readText(path).trim() : undefined;
}

function errorMessage(status: number, body: unknown, text: string): string {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (err && typeof err.message === 'string') {
    const hint = status === 401 ? ' (pass --token, set SHOAL_TOKEN, or --data DIR of the node)' : '';
    return `${err.message}${hint}`;
  }
  return `HTTP ${status}: ${text.slice(0, 200) || 'empty response'}`;
}

export function apiClient(args: ParsedArgs): ApiClient {
  const base = (args.string('url') ?? defaultUrl).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+$/.test(base)) throw new CliError(`--url must look like http://HOST:PORT, got ${JSON.stringify(base)}`);
  const token = resolveToken(args);
  const timeoutMs = args.int('timeout-ms') ?? 30_000;
  const send = async (method: HttpRequest['method'], path: string, body?: unknown): Promise<unknown> => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    let res;
    try {
      res = await httpRequest({ method, url: `${base}${path}`, headers, body, timeoutMs });
    } catch (err) {
      throw new CliError(err instanceof Error ? err.message : String(err));
    }
    if (res.status >= 400) throw new CliError(errorMessage(res.status, res.json, res.text));
    return res.json;
  };
  return { get: (path) => send('GET', path), send };
}
