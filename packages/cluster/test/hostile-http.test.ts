/**
 * Hostile input against every HTTP route of a core node (a ring of one, in-process, as
 * ring-routes.test.ts builds it). Requests go over a raw socket so that bytes no HTTP client would
 * send (raw non-ASCII, bad percent-escapes, oversized headers) reach the server as written.
 * Every refusal must be a 4xx in the gateway's format `{ error: { code, message } }` with a
 * message naming what was wrong; afterwards the node still answers and nothing stored changed.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nodeWorld } from '@shoal/runtime';
import { startNode, validateNodeConfig } from '../src/index.js';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
}

/** One HTTP/1.1 request written as is; the answer parsed (JSON when it is). Times out at 10 s. */
function rawRequest(address: string, method: string, target: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const head = [`${method} ${target} HTTP/1.1`, `host: ${address}`, 'connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body !== undefined) head.push(`content-length: ${Buffer.byteLength(body)}`);
  return new Promise((resolve, reject) => {
    // write, not end: a half-closed socket may be closed by the server before a slow answer.
    const socket = net.connect(port, host, () => socket.write(Buffer.from(`${head.join('\r\n')}\r\n\r\n${body ?? ''}`, 'utf8')));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined); // the server may close first on an oversized request
    socket.on('close', () => {
      const all = Buffer.concat(chunks).toString('utf8');
      const split = all.indexOf('\r\n\r\n');
      const lines = all.slice(0, split).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const hdrs = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const text = all.slice(split + 4);
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      resolve({ status, headers: hdrs, body: parsed, text });
    });
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`no answer to ${method} ${target.slice(0, 80)} within 10 s`));
    });
  });
}

const J = { 'content-type': 'application/json' };
const uuid = '123e4567-e89b-12d3-a456-426614174000';

type Case = [what: string, method: string, target: string, body: string | undefined, headers: Record<string, string>, status: number, code: string, message: RegExp];

/** Bad input sent with a valid admin token. */
const withToken: Case[] = [
  // methods
  ['POST on a GET route', 'POST', '/api/v1/health', '{}', J, 405, 'method_not_allowed', /POST is not allowed on \/api\/v1\/health; use one of GET, HEAD/],
  ['GET on a POST route', 'GET', '/api/v1/cluster/join', undefined, {}, 405, 'method_not_allowed', /use one of POST/],
  ['PATCH on a key', 'PATCH', '/api/v1/db/scratch/k1', '1', J, 405, 'method_not_allowed', /DELETE, GET, HEAD, PUT/],
  ['DELETE on members', 'DELETE', '/api/v1/cluster/members', undefined, {}, 405, 'method_not_allowed', /GET/],
  ['OPTIONS on metrics', 'OPTIONS', '/metrics', undefined, {}, 405, 'method_not_allowed', /GET/],
  ['an unknown path', 'GET', '/api/v1/nothing', undefined, {}, 404, 'not_found', /no route GET \/api\/v1\/nothing/],
  // bodies of the wrong top-level type
  ['a JSON array body', 'POST', '/api/v1/cluster/join', '[]', J, 400, 'bad_request', /body must be a JSON object, got an array/],
  ['a JSON string body', 'POST', '/api/v1/cluster/leave', '"solo"', J, 400, 'bad_request', /body must be a JSON object, got string "solo"/],
  ['a JSON number body', 'POST', '/api/v1/cluster/remove', '42', J, 400, 'bad_request', /JSON object, got the number 42/],
  ['a JSON null body', 'POST', '/api/v1/cluster/replace', 'null', J, 400, 'bad_request', /JSON object, got null/],
  ['an array as a reservation', 'POST', '/api/v1/hypervisors/hv1/reservations', '[1]', J, 400, 'bad_request', /JSON object, got an array/],
  // fields missing, extra, ill-typed, out of range
  ['a missing field', 'POST', '/api/v1/cluster/replace', '{"node":"a"}', J, 400, 'bad_request', /missing field "replacement" in the body/],
  ['an extra field', 'POST', '/api/v1/cluster/join', '{"node":"a","force":true}', J, 400, 'bad_request', /unknown field "force" in the body \(expected: node, weight\)/],
  ['a number for a name', 'POST', '/api/v1/cluster/join', '{"node":5}', J, 400, 'bad_request', /field "node" must be a string, got the number 5/],
  ['a string for a weight', 'POST', '/api/v1/cluster/join', '{"node":"a","weight":"2"}', J, 400, 'bad_request', /field "weight" must be an integer, got string "2"/],
  ['a fractional weight', 'POST', '/api/v1/cluster/join', '{"node":"a","weight":1.5}', J, 400, 'bad_request', /field "weight" must be an integer/],
  ['an over-long name', 'POST', '/api/v1/cluster/leave', JSON.stringify({ node: 'n'.repeat(129) }), J, 400, 'bad_request', /field "node" must NOT have more than 128 characters/],
  ['a reservation of 10^20 MB', 'POST', '/api/v1/hypervisors/hv1/reservations', JSON.stringify({ vmId: uuid, ramMb: 1e20 }), J, 400, 'bad_request', /field "ramMb" must be <= 16777216/],
  ['a reservation of no memory', 'POST', '/api/v1/hypervisors/hv1/reservations', JSON.stringify({ vmId: uuid, ramMb: 0 }), J, 400, 'bad_request', /field "ramMb" must be >= 1/],
  ['a lease over an hour', 'POST', '/api/v1/hypervisors/hv1/reservations', JSON.stringify({ vmId: uuid, ramMb: 1, leaseMs: 3_600_001 }), J, 400, 'bad_request', /field "leaseMs"/],
  ['an uppercase VM id', 'POST', '/api/v1/hypervisors/hv1/reservations', JSON.stringify({ vmId: uuid.toUpperCase(), ramMb: 1 }), J, 400, 'bad_request', /field "vmId" must be a VM id/],
  // bodies that are not JSON, empty, too big, too deep, poisoned, of the wrong type
  ['a body that is not JSON', 'POST', '/api/v1/cluster/join', 'node=a', J, 400, 'bad_request', /the body is not valid JSON: Unexpected token/],
  ['truncated JSON', 'PUT', '/api/v1/db/scratch/k1', '{"a":', J, 400, 'bad_request', /the body is not valid JSON/],
  ['an empty JSON body', 'PUT', '/api/v1/db/scratch/k1', '', J, 400, 'bad_request', /the body is empty/],
  ['an empty body on commit', 'POST', '/api/v1/cluster/commit', '', J, 400, 'bad_request', /the body is empty/],
  // numbers JSON.parse would change: refused, not stored as another number
  ['an integer beyond 2^53 in a value', 'PUT', '/api/v1/db/scratch/k1', '{"id":12345678901234567890}', J, 400, 'bad_request', /^the body holds the integer 12345678901234567890, which is beyond ±\(2\^53 − 1\) and would lose precision; write it as a string$/],
  ['a number past the largest double in a value', 'PUT', '/api/v1/db/scratch/k1', '[1e400]', J, 400, 'bad_request', /^the body holds the number 1e400, which is too large for a number and would become infinite; write it as a string$/],
  ['an integer beyond 2^53 as a weight', 'POST', '/api/v1/cluster/join', '{"node":"a","weight":9007199254740993}', J, 400, 'bad_request', /the integer 9007199254740993/],
  // bodies on routes that take none (they were ignored: a commit with {"dryRun":true} committed)
  ['a body on commit', 'POST', '/api/v1/cluster/commit', '{"dryRun":true}', J, 400, 'bad_request', /^POST \/api\/v1\/cluster\/commit takes no body; send the request without one$/],
  ['a body on clear', 'POST', '/api/v1/cluster/clear', '{}', J, 400, 'bad_request', /^POST \/api\/v1\/cluster\/clear takes no body/],
  ['a body on confirm', 'POST', `/api/v1/hypervisors/hv1/reservations/${uuid}/confirm`, '{}', J, 400, 'bad_request', /takes no body/],
  ['a body on a DELETE', 'DELETE', '/api/v1/db/scratch/k1', '{"really":true}', J, 400, 'bad_request', /^DELETE \/api\/v1\/db\/scratch\/k1 takes no body/],
  ['a body on a GET', 'GET', '/api/v1/cluster/status', 'x', { 'content-type': 'text/plain' }, 400, 'bad_request', /^GET \/api\/v1\/cluster\/status takes no body/],
  ['a body over 1 MiB', 'PUT', '/api/v1/db/scratch/k1', JSON.stringify('x'.repeat(1024 * 1024 + 10)), J, 413, 'payload_too_large', /over the limit of 1048576 bytes/],
  ['arrays nested 400,000 deep', 'PUT', '/api/v1/db/scratch/k1', '['.repeat(400_000) + ']'.repeat(400_000), J, 400, 'bad_request', /nested deeper than 64/],
  ['objects nested 100,000 deep', 'POST', '/api/v1/cluster/join', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), J, 400, 'bad_request', /missing field "node"/],
  ['a __proto__ key', 'PUT', '/api/v1/db/scratch/k1', '{"x":[{"__proto__":{"admin":true}}]}', J, 400, 'bad_request', /"__proto__" key \(at body\.x\[0\]\.__proto__\)/],
  ['a constructor.prototype key', 'POST', '/api/v1/cluster/join', '{"node":"a","constructor":{"prototype":{"x":1}}}', J, 400, 'bad_request', /"constructor\.prototype" key/],
  ['text/plain', 'POST', '/api/v1/cluster/join', '{"node":"a"}', { 'content-type': 'text/plain' }, 415, 'unsupported_media_type', /content-type: application\/json \(got "text\/plain"\)/],
  ['no content-type', 'PUT', '/api/v1/db/scratch/k1', '1', {}, 415, 'unsupported_media_type', /got no content-type/],
  ['a form', 'PUT', '/api/v1/db/scratch/k1', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type', /x-www-form-urlencoded/],
  ['a JSON look-alike type', 'PUT', '/api/v1/db/scratch/k1', '1', { 'content-type': 'application/vnd.api+json' }, 415, 'unsupported_media_type', /vnd\.api\+json/],
  // path parameters
  ['an empty bucket', 'GET', '/api/v1/db//k1', undefined, {}, 400, 'bad_request', /path parameter "bucket"/],
  ['an empty key', 'PUT', '/api/v1/db/scratch/', '1', J, 400, 'bad_request', /path parameter "key"/],
  ['an empty hypervisor name', 'DELETE', '/api/v1/hypervisors/', undefined, {}, 400, 'bad_request', /path parameter "name" must be a hypervisor name/],
  ['a hypervisor name with a space', 'GET', '/api/v1/hypervisors/bad%20name', undefined, {}, 400, 'bad_request', /path parameter "name" must be a hypervisor name .*got "bad name"/],
  ['a VM id that is not one', 'POST', '/api/v1/hypervisors/hv1/reservations/nope/confirm', undefined, {}, 400, 'bad_request', /path parameter "vmId" must be a VM id/],
  ['%ZZ in a key', 'PUT', '/api/v1/db/scratch/%ZZ', '1', J, 400, 'bad_request', /\/api\/v1\/db\/scratch\/%ZZ is not valid percent-encoded UTF-8/],
  ['invalid UTF-8 in a key', 'GET', '/api/v1/db/scratch/%C3%28', undefined, {}, 400, 'bad_request', /not valid percent-encoded UTF-8/],
  ['an encoded surrogate in a bucket', 'GET', '/api/v1/db/%ED%A0%80', undefined, {}, 400, 'bad_request', /not valid percent-encoded UTF-8/],
  ['%ZZ in a hypervisor name', 'GET', '/api/v1/hypervisors/%ZZ', undefined, {}, 400, 'bad_request', /not valid percent-encoded UTF-8/],
  ['%00 in a key', 'PUT', '/api/v1/db/scratch/%00', '1', J, 400, 'bad_request', /control character/],
  ['raw non-ASCII in the path', 'GET', '/api/v1/hypervisors/é', undefined, {}, 400, 'bad_request', /malformed HTTP request .*percent-encoded/],
  ['a 5,000-character segment', 'GET', `/api/v1/db/${'a'.repeat(5000)}`, undefined, {}, 414, 'uri_too_long', /over 4096 characters/],
  ['a 100,000-character URL', 'GET', `/api/v1/db/scratch/${'a'.repeat(100_000)}`, undefined, {}, 431, 'headers_too_large', /over the server limit/],
  // query strings
  ['limit=-1', 'GET', '/api/v1/db/scratch?limit=-1', undefined, {}, 400, 'bad_request', /query parameter "limit" must be an integer from 1 to 1000, got "-1"/],
  ['limit=abc', 'GET', '/api/v1/db/scratch?limit=abc', undefined, {}, 400, 'bad_request', /"limit" must be an integer from 1 to 1000, got "abc"/],
  ['limit=1e9', 'GET', '/api/v1/db/scratch?limit=1e9', undefined, {}, 400, 'bad_request', /got "1e9"/],
  ['limit given twice', 'GET', '/api/v1/db/scratch?limit=1&limit=2', undefined, {}, 400, 'bad_request', /query parameter "limit" is given more than once/],
  ['values=1', 'GET', '/api/v1/db/scratch?values=1', undefined, {}, 400, 'bad_request', /"values" must be true or false, got "1"/],
  ['an empty continuation', 'GET', '/api/v1/db/scratch?continuation=', undefined, {}, 400, 'bad_request', /continuation/],
  ['a garbage continuation', 'GET', '/api/v1/db/scratch?continuation=%ZZ%00', undefined, {}, 400, 'bad_request', /continuation/],
  ['filter=null', 'GET', '/api/v1/db/scratch?filter=null', undefined, {}, 400, 'bad_request', /filter must be a filter object, not null/],
  // An empty filter is refused as null is (leaving it out lists everything), saying what a filter looks like.
  ['filter={}', 'GET', '/api/v1/db/scratch?filter=%7B%7D', undefined, {}, 400, 'bad_request', /^invalid filter: the filter is empty \(\{\}\): a filter is an operator object such as \{"op":"eq","field":"state","value":"running"\} .*; to list everything, leave the filter out$/],
  ['a filter operator without an op', 'GET', `/api/v1/db/scratch?filter=${encodeURIComponent('{"field":"state","value":"on"}')}`, undefined, {}, 400, 'bad_request', /^invalid filter: each filter operator needs an "op" .*; got an object with "field", "value" but no "op"$/],
  ['a __proto__ query parameter', 'GET', '/api/v1/db/scratch?__proto__=1', undefined, {}, 400, 'bad_request', /unknown query parameter "__proto__" \(expected: limit, continuation, values, filter\)/],
  ['a page limit on a route that does not page', 'GET', '/api/v1/hypervisors?limit=-1', undefined, {}, 400, 'bad_request', /unknown query parameter "limit" \(none is expected\)/],
  ['a query on members', 'GET', '/api/v1/cluster/members?cursor=zz', undefined, {}, 400, 'bad_request', /unknown query parameter "cursor"/],
  ['a query on a PUT', 'PUT', '/api/v1/db/scratch/k1?w=3', '1', J, 400, 'bad_request', /unknown query parameter "w"/],
  ['a reservations page over the agent maximum', 'GET', '/api/v1/hypervisors/hv1/reservations?limit=5000', undefined, {}, 400, 'bad_request', /"limit" must be an integer from 1 to 2048, got 5000/],
  ['a reservations cursor that is not a VM id', 'GET', '/api/v1/hypervisors/hv1/reservations?after=zz', undefined, {}, 400, 'bad_request', /"after" must be a VM id/],
];

/** Authorization headers that are not an admin's. */
const badAuth: [string, Record<string, string>, number, RegExp][] = [
  ['no header', {}, 401, /missing bearer token/],
  ['an empty header', { authorization: '' }, 401, /missing bearer token/],
  ['Bearer alone', { authorization: 'Bearer' }, 401, /malformed Authorization header/],
  ['Bearer and a space', { authorization: 'Bearer ' }, 401, /malformed Authorization header/],
  ['two words', { authorization: 'Bearer a b' }, 401, /malformed Authorization header/],
  ['Basic', { authorization: 'Basic YTpi' }, 401, /malformed Authorization header/],
  ['non-ASCII', { authorization: 'Bearer é☃' }, 401, /invalid or expired token/],
  ['over 512 characters', { authorization: `Bearer ${'a'.repeat(513)}` }, 401, /malformed Authorization header/],
  ['over the header limit', { authorization: `Bearer ${'a'.repeat(20_000)}` }, 431, /over the server limit/],
];

/** Every admin route, each with a body that would be refused if it were read. */
const adminRoutes: [string, string, string | undefined][] = [
  ['GET', '/api/v1/node', undefined],
  ['GET', '/api/v1/cluster/members', undefined],
  ['GET', '/api/v1/cluster/status', undefined],
  ['GET', '/api/v1/cluster/ring', undefined],
  ['GET', '/api/v1/cluster/transfers', undefined],
  ['GET', '/api/v1/cluster/plan', undefined],
  ['POST', '/api/v1/cluster/commit', '{'],
  ['POST', '/api/v1/cluster/clear', '{'],
  ['POST', '/api/v1/cluster/join', '[]'],
  ['POST', '/api/v1/cluster/leave', '{"node":5}'],
  ['POST', '/api/v1/cluster/remove', '{"__proto__":{}}'],
  ['POST', '/api/v1/cluster/replace', '{}'],
  ['PUT', '/api/v1/db/scratch/k1', '"changed"'],
  ['GET', '/api/v1/db/scratch/k1', undefined],
  ['DELETE', '/api/v1/db/scratch/k1', undefined],
  ['GET', '/api/v1/db/scratch?limit=abc', undefined],
  ['GET', '/api/v1/hypervisors', undefined],
  ['GET', '/api/v1/hypervisors/hv1', undefined],
  ['DELETE', '/api/v1/hypervisors/hv1', undefined],
  ['GET', '/api/v1/hypervisors/hv1/reservations', undefined],
  ['POST', '/api/v1/hypervisors/hv1/reservations', '{}'],
  ['POST', `/api/v1/hypervisors/hv1/reservations/${uuid}/confirm`, undefined],
  ['DELETE', `/api/v1/hypervisors/hv1/reservations/${uuid}`, undefined],
];

t.test('hostile HTTP input against a core node', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-hostile-http-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const node = await startNode(
    validateNodeConfig({ name: 'solo', dataDir: path.join(dir, 'solo'), httpPort: 0, gossipPort: 0, clusterPort: 0, swimPreset: 'local', host: '127.0.0.1' }, 'test'),
    nodeWorld({ logLevel: 'error', logWrite: () => undefined }),
  );
  t.teardown(() => node.stop());
  const admin = { authorization: `Bearer ${readFileSync(node.adminTokenPath, 'utf8').trim()}` };
  const send = (method: string, target: string, body?: string, headers: Record<string, string> = {}) => rawRequest(node.httpAddress, method, target, headers, body);
  const errorOf = (a: Answer) => (a.body as { error?: { code?: string; message?: string } } | undefined)?.error;

  const stored = { a: [1, { b: 'c' }] };
  t.equal((await send('PUT', '/api/v1/db/scratch/k1', JSON.stringify(stored), { ...admin, ...J })).status, 200, 'a value to guard');
  const ringBefore = (await send('GET', '/api/v1/cluster/ring', undefined, admin)).body as { version: number; hash: string };

  for (const [what, method, target, body, headers, status, code, message] of withToken) {
    const a = await send(method, target, body, { ...admin, ...headers });
    t.equal(a.status, status, `${what}: ${status}`);
    t.same(Object.keys((a.body ?? {}) as object), ['error'], `${what}: the body is the error format (${a.text.slice(0, 120)})`);
    t.equal(errorOf(a)?.code, code, `${what}: code ${code}`);
    t.match(errorOf(a)?.message ?? '', message, `${what}: says why (${errorOf(a)?.message})`);
    if (status === 405) t.match(a.headers['allow'] ?? '', /[A-Z]/, `${what}: an Allow header`);
  }

  for (const [what, headers, status, message] of badAuth) {
    for (const [method, target] of [['GET', '/api/v1/node'], ['GET', '/api/v1/cluster/status'], ['PUT', '/api/v1/db/scratch/k1']]) {
      const a = await send(method!, target!, method === 'PUT' ? '"changed"' : undefined, { ...headers, ...(method === 'PUT' ? J : {}) });
      t.equal(a.status, status, `${what}, ${method} ${target}: ${status}`);
      t.match(errorOf(a)?.message ?? '', message, `${what}: says why (${errorOf(a)?.message})`);
    }
  }

  // The token is checked before the body is read or validated: without one, every admin route
  // answers 401 whatever the body, and says nothing about what a body should hold.
  for (const [method, target, body] of adminRoutes) {
    const a = await send(method, target, body, body === undefined ? {} : J);
    t.equal(a.status, 401, `no token, ${method} ${target}: 401`);
    t.equal(errorOf(a)?.code, 'unauthorized', `no token, ${method} ${target}: unauthorized`);
  }
  const huge = await send('PUT', '/api/v1/db/scratch/k1', JSON.stringify('x'.repeat(2 * 1024 * 1024)), J);
  t.equal(huge.status, 401, 'no token and a body over the limit: 401, the body is not read');

  // The node still serves, and no refused request changed anything.
  t.same((await send('GET', '/api/v1/health')).body, { status: 'ok', node: 'solo', version: node.status().version }, 'health still answers');
  t.same((await send('GET', '/api/v1/db/scratch/k1', undefined, admin)).body, { bucket: 'scratch', key: 'k1', value: stored }, 'the guarded value is unchanged');
  t.same((await send('GET', '/api/v1/db/scratch?values=true', undefined, admin)).body, { bucket: 'scratch', items: [{ key: 'k1', value: stored }] }, 'no other key was written');
  t.match((await send('GET', '/api/v1/cluster/ring', undefined, admin)).body, { version: ringBefore.version, hash: ringBefore.hash }, 'the ring is unchanged');
  t.match((await send('GET', '/api/v1/cluster/status', undefined, admin)).body, { staged: [] }, 'nothing was staged');
  t.match((await send('GET', '/metrics')).text, /shoal_http_requests_total\{[^}]*status="405"/, 'metrics still answer and count the refusals');
});
