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
  // The upper bound is the largest timer Node keeps (about 24.8 days).
  { name: 'timeout-ms', type: 'int', valueName: 'MS', help: 'give up after this long', default: 30_000, min: 1, max: 2_147_483_647 },
];

export interface ApiClient {
  /** A GET whose answer must be a JSON object holding `expect`'s keys (else one clear CliError). */
  get(path: string, expect?: readonly string[]): Promise<unknown>;
  send(method: HttpRequest['method'], path: string, body?: unknown, expect?: readonly string[]): Promise<unknown>;
}

/** Characters of a server's answer quoted in an error. */
const quotedAnswerMax = 120;

/** Text from the network, as part of one line: whitespace collapsed, control characters dropped, bounded. */
function oneLine(text: string, max = quotedAnswerMax): string {
  const flat = text.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * The base URL of `--url`: http(s), a host, an optional valid port, and nothing else (a path,
 * query, fragment or credentials would be silently mangled once the API path is appended).
 */
export function baseUrl(raw: string): string {
  const bad = (why: string): CliError => new CliError(`--url must look like http://HOST:PORT, got ${JSON.stringify(raw)}: ${why}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad('not a URL (a bad port, or an unclosed [IPv6] bracket?)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(`the scheme must be http or https, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username || url.password) throw bad('credentials do not belong in the URL; pass --token');
  if (url.pathname !== '/' || /[?#]/.test(raw)) throw bad('no path, query or fragment: the command adds the API path');
  return `${url.protocol}//${url.host}`;
}

/** A bearer token as HTTP allows it in a header: visible ASCII, no spaces. */
function checkToken(token: string, source: string): string {
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) throw new CliError(`the token from ${source} is not a bearer token (1-512 visible ASCII characters, no spaces)`);
  return token;
}

function resolveToken(args: ParsedArgs): string | undefined {
  const token = args.string('token');
  if (token) return checkToken(token, '--token or SHOAL_TOKEN');
  const dataDir = args.string('data') ?? 'data';
  const path = files.resolve(dataDir, adminTokenFileName);
  return files.exists(path) ? checkToken(files.readText(path).trim(), path) : undefined;
}

function errorMessage(status: number, body: unknown, text: string, contentType: string | undefined): string {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (err && typeof err.message === 'string') {
    const hint = status === 401 ? ' (pass --token, set SHOAL_TOKEN, or --data DIR of the node)' : '';
    return `${oneLine(err.message, 1000)}${hint}`;
  }
  return `HTTP ${status}${contentType ? ` (${oneLine(contentType, 60)})` : ''}: ${oneLine(text) || 'empty response'}`;
}

/** Why an answer of status 2xx is not what a Shoal node sends, or undefined if it is. */
function unexpectedAnswer(status: number, json: unknown, text: string, expect: readonly string[]): string | undefined {
  if (status === 204) return expect.length > 0 ? 'it answered 204 with no content' : undefined;
  if (json === undefined) return `it answered HTTP ${status} with ${text.length > 0 ? `something that is not JSON: ${oneLine(text)}` : 'an empty body'}`;
  if (expect.length === 0) return undefined;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return `it answered HTTP ${status} with JSON that is not an object: ${oneLine(JSON.stringify(json))}`;
  const missing = expect.filter((k) => !(k in json));
  return missing.length > 0 ? `its answer lacks ${missing.map((k) => JSON.stringify(k)).join(', ')}: ${oneLine(JSON.stringify(json))}` : undefined;
}

export function apiClient(args: ParsedArgs): ApiClient {
  const base = baseUrl(args.string('url') ?? defaultUrl);
  const token = resolveToken(args);
  const timeoutMs = args.int('timeout-ms') ?? 30_000;
  const send = async (method: HttpRequest['method'], path: string, body?: unknown, expect: readonly string[] = []): Promise<unknown> => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const url = `${base}${path}`;
    let res;
    try {
      res = await httpRequest({ method, url, headers, body, timeoutMs });
    } catch (err) {
      throw new CliError(oneLine(err instanceof Error ? err.message : String(err), 1000));
    }
    if (res.status >= 400) throw new CliError(errorMessage(res.status, res.json, res.text, res.headers['content-type']));
    const why = unexpectedAnswer(res.status, res.json, res.text, expect);
    if (why) throw new CliError(`${url} is not a Shoal node's API (is --url right?): ${why}`);
    return res.json;
  };
  return { get: (path, expect = []) => send('GET', path, undefined, expect), send };
}
