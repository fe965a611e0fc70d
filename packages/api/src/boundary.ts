/**
 * The gateway's boundary: everything that turns hostile or malformed input into one clear
 * `ApiError` before a route sees it, so that no bad request is a 500, a hang or a crash, and
 * every refusal says which part of the request was wrong.
 *
 * - JSON bodies: parsed here (not by fastify's default parser) so the message says why a body
 *   was refused — not JSON (with the parser's reason), empty, holding a `__proto__` key or a
 *   `constructor.prototype` (prototype poisoning, as secure-json-parse defines it), or a number
 *   that JSON.parse would change (an integer beyond 2^53 − 1, a number past the largest double:
 *   json-numbers.ts).
 * - Schema violations: ajv's first issue becomes a sentence naming the field, query parameter or
 *   path parameter, what it must be (the schema's `description` when it has one) and what came.
 * - Wrong methods: a path that exists under other methods is answered 405 with `Allow`.
 * - Requests Node's HTTP parser refuses (oversized headers, bytes a URL may not hold) are
 *   answered in the same JSON format on the raw socket, then the socket is closed.
 */
import type { FastifyServerOptions } from 'fastify';
import { ApiError, errorBody, statusOfCode, type ErrorCode } from './errors.js';
import { lossyNumberIn, lossyNumberMessage } from './json-numbers.js';

/** Characters of the offending input quoted back in an error message. */
export const quotedInputMax = 60;

function quote(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > quotedInputMax ? `${text.slice(0, quotedInputMax)}…` : text;
}

// ---- JSON bodies -------------------------------------------------------------------------------

interface Visit {
  value: unknown;
  key: string;
  parent: Visit | undefined;
}

function pathOf(v: Visit): string {
  const keys: string[] = [];
  for (let at: Visit | undefined = v; at?.parent; at = at.parent) keys.push(at.key);
  const shown = keys.reverse().map((k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`)).join('');
  return `body${shown.length > 120 ? `${shown.slice(0, 120)}…` : shown}`;
}

/**
 * The first `__proto__` key, or `constructor` key holding a `prototype`, in a parsed JSON value.
 * Iterative, so a body nested a million levels deep cannot overflow the stack.
 */
function poisonedKey(root: unknown): { key: string; path: string } | undefined {
  const stack: Visit[] = [{ value: root, key: '', parent: undefined }];
  for (let v = stack.pop(); v; v = stack.pop()) {
    if (typeof v.value !== 'object' || v.value === null) continue;
    for (const [key, child] of Object.entries(v.value)) {
      const visit = { value: child, key, parent: v };
      if (key === '__proto__') return { key, path: pathOf(visit) };
      if (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) return { key: 'constructor.prototype', path: pathOf(visit) };
      stack.push(visit);
    }
  }
  return undefined;
}

/** Parses a JSON request body, or throws an ApiError that says what is wrong with it. */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new ApiError('bad_request', 'the body is empty but its content-type is application/json: send a JSON value, or leave out the content-type');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
    throw new ApiError('bad_request', `the body is not valid JSON: ${why}`);
  }
  const poisoned = poisonedKey(value);
  if (poisoned) throw new ApiError('bad_request', `the body holds a "${poisoned.key}" key (at ${poisoned.path}); such keys are refused`);
  // Refused rather than stored as another number (JSON.parse has already changed it).
  const lossy = lossyNumberIn(text);
  if (lossy !== undefined) throw new ApiError('bad_request', lossyNumberMessage('the body', lossy));
  return value;
}

// ---- schema violations -------------------------------------------------------------------------

/** One ajv issue as fastify passes it (ajv runs with `verbose`, so `data` and `parentSchema` are set). */
export interface SchemaIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  parentSchema?: { description?: string; properties?: Record<string, unknown> };
}

const nouns: Record<string, { one: string; root: string; where: string }> = {
  body: { one: 'field', root: 'the body', where: 'in the body' },
  querystring: { one: 'query parameter', root: 'the query string', where: '' },
  params: { one: 'path parameter', root: 'the path', where: '' },
  headers: { one: 'header', root: 'the headers', where: '' },
};

const typeNames: Record<string, string> = {
  object: 'a JSON object',
  array: 'an array',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
};

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return `the number ${quote(v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${quote(v)}`;
}

/** A sentence for the first schema violation of a request. */
export function validationMessage(context: string | undefined, issues: readonly SchemaIssue[]): string {
  const noun = nouns[context ?? 'body'] ?? nouns['body']!;
  const issue = issues[0];
  if (!issue) return `${noun.root} is not valid`;
  const field = issue.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const subject = field ? `${noun.one} "${field}"` : noun.root;
  const inside = field ? ` in ${subject}` : noun.where ? ` ${noun.where}` : '';
  switch (issue.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys(issue.parentSchema?.properties ?? {});
      const takes = allowed.length > 0 ? `expected: ${allowed.join(', ')}` : 'none is expected';
      return `unknown ${noun.one} ${quote(issue.params['additionalProperty'])}${inside} (${takes})`;
    }
    case 'required':
      return `missing ${noun.one} ${quote(issue.params['missingProperty'])}${inside}`;
    case 'type':
      if (context === 'querystring' && Array.isArray(issue.data)) return `${subject} is given more than once`;
      return `${subject} must be ${typeNames[String(issue.params['type'])] ?? String(issue.params['type'])}, got ${jsonType(issue.data)}`;
  }
  const description = issue.parentSchema?.description;
  if (description) return `${subject} must be ${description}, got ${quote(issue.data)}`;
  return `${subject} ${issue.message ?? 'is not valid'}, got ${quote(issue.data)}`;
}

// ---- methods -----------------------------------------------------------------------------------

/** The methods registered for each route pattern, to tell a wrong method (405) from no route (404). */
export class MethodIndex {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(methods: string | readonly string[], url: string): void {
    let entry = this.routes.get(url);
    if (!entry) {
      const source = url
        .split('/')
        .map((seg) => (seg.startsWith(':') ? '[^/]*' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      entry = { pattern: new RegExp(`^${source}$`), methods: new Set() };
      this.routes.set(url, entry);
    }
    for (const m of typeof methods === 'string' ? [methods] : methods) {
      entry.methods.add(m);
      if (m === 'GET') entry.methods.add('HEAD');
    }
  }

  /** Methods a path (without its query string) is served under, sorted; empty if none. */
  allowed(path: string): string[] {
    const all = new Set<string>();
    for (const { pattern, methods } of this.routes.values()) if (pattern.test(path)) for (const m of methods) all.add(m);
    return [...all].sort();
  }
}

// ---- requests Node's parser refuses ------------------------------------------------------------

type ClientErrorHandler = NonNullable<FastifyServerOptions['clientErrorHandler']>;

const reasons: Partial<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

function clientErrorReply(code: string | undefined): [ErrorCode, string] {
  if (code === 'HPE_HEADER_OVERFLOW') return ['headers_too_large', 'the request line and headers are over the server limit (16 KiB): is the URL or the Authorization header that long?'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return ['request_timeout', 'the request did not arrive in time'];
  return ['bad_request', `malformed HTTP request (${code ?? 'parse error'}): characters outside printable ASCII must be percent-encoded in the URL`];
}

/** Answers a request Node's HTTP parser refused, in the gateway's error format, and closes the socket. */
export const clientErrorHandler: ClientErrorHandler = (err, socket) => {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message] = clientErrorReply(err.code);
  const status = statusOfCode(code);
  const body = JSON.stringify(errorBody(code, message));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reasons[status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
};
