/**
 * The ring's operator routes on one in-process node (a ring of one): the happy path of the
 * maintenance interface, and every kind of bad input answered with a clear JSON error and the
 * status docs/ring.md lists — never a 500, never a change.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nodeWorld } from '@shoal/runtime';
import { startNode, validateNodeConfig } from '../src/index.js';

t.test('ring and db routes', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-ring-routes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const node = await startNode(
    validateNodeConfig({ name: 'solo', dataDir: path.join(dir, 'solo'), httpPort: 0, gossipPort: 0, clusterPort: 0, swimPreset: 'local', host: '127.0.0.1' }, 'test'),
    nodeWorld({ logLevel: 'error', logWrite: () => undefined }),
  );
  t.teardown(() => node.stop());
  const token = readFileSync(node.adminTokenPath, 'utf8').trim();
  const call = async (method: string, p: string, body?: string, contentType = 'application/json') => {
    const res = await fetch(`http://${node.httpAddress}${p}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': contentType } : {}) }, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };
  const errorOf = (r: { body: Record<string, unknown> | null }) => (r.body?.['error'] as { message?: string } | undefined)?.message ?? '';

  // Happy path.
  t.match((await call('GET', '/api/v1/cluster/status')).body, { node: 'solo', ready: true });
  t.match((await call('GET', '/api/v1/cluster/ring')).body, { version: 1, partitionCount: 64, members: [{ name: 'solo' }] });
  t.match(await call('PUT', '/api/v1/db/scratch/k1', JSON.stringify({ a: [1, 2, { b: 'c' }] })), { status: 200, body: { bucket: 'scratch', key: 'k1' } });
  t.same((await call('GET', '/api/v1/db/scratch/k1')).body, { bucket: 'scratch', key: 'k1', value: { a: [1, 2, { b: 'c' }] } });
  t.match(await call('PUT', '/api/v1/db/scratch/k2', 'null'), { status: 200 }, 'null is a JSON value');
  t.same((await call('GET', '/api/v1/db/scratch?values=true')).body, { bucket: 'scratch', items: [{ key: 'k1', value: { a: [1, 2, { b: 'c' }] } }, { key: 'k2', value: null }] });
  t.equal((await call('DELETE', '/api/v1/db/scratch/k2')).status, 204);
  t.equal((await call('GET', '/api/v1/db/scratch/k2')).status, 404, 'deleted');
  t.equal((await call('GET', '/api/v1/db/scratch/nope')).status, 404);
  const longKey = 'é'.repeat(370); // 740 UTF-8 bytes, 2,220 characters percent-encoded
  t.equal((await call('PUT', `/api/v1/db/scratch/${encodeURIComponent(longKey)}`, '"long"')).status, 200, 'a key of 740 bytes');
  t.match((await call('GET', `/api/v1/db/scratch/${encodeURIComponent(longKey)}`)).body, { key: longKey, value: 'long' });
  t.equal((await call('DELETE', `/api/v1/db/scratch/${encodeURIComponent(longKey)}`)).status, 204);

  // Bad input: status, a message, and nothing changed.
  const cases: [string, string, string, string | undefined, number, RegExp][] = [
    ['malformed JSON body', 'PUT', '/api/v1/db/scratch/k1', '{"a":', 400, /./],
    ['not JSON at all', 'PUT', '/api/v1/db/scratch/k1', 'hello', 400, /./],
    ['a value nested too deep', 'PUT', '/api/v1/db/scratch/k1', JSON.stringify([[[[[[[[[[1]]]]]]]]]]), 400, /deep|nested/i],
    ['a value with too many elements', 'PUT', '/api/v1/db/scratch/k1', JSON.stringify(Array.from({ length: 300 }, (_, i) => i)), 400, /elements/],
    ['a string over 4 KiB', 'PUT', '/api/v1/db/scratch/k1', JSON.stringify('x'.repeat(5000)), 400, /./],
    ['a key over 740 bytes', 'PUT', `/api/v1/db/scratch/${encodeURIComponent('é'.repeat(371))}`, '1', 400, /742 bytes/],
    ['a bucket name the generic type refuses', 'PUT', '/api/v1/db/Scratch!/k', '1', 404, /bucket/],
    ['a typed bucket through the maintenance interface', 'PUT', '/api/v1/db/hypervisors/hv9', '{}', 400, /typed/],
    ['a bad list limit', 'GET', '/api/v1/db/scratch?limit=0', undefined, 400, /./],
    ['a list limit over the page maximum', 'GET', '/api/v1/db/scratch?limit=5000', undefined, 400, /./],
    ['a delete in a typed bucket', 'DELETE', '/api/v1/db/hypervisors/hv9', undefined, 400, /hypervisors remove/],
    ['an unknown list parameter', 'GET', '/api/v1/db/scratch?sort=asc', undefined, 400, /./],
    ['a forged continuation', 'GET', '/api/v1/db/scratch?continuation=AAAA', undefined, 400, /continuation/],
    ['a filter that is not JSON', 'GET', '/api/v1/db/scratch?filter=%7Bnope', undefined, 400, /filter/],
    ['a filter that is not a filter', 'GET', '/api/v1/db/scratch?filter=%5B%22explode%22%5D', undefined, 400, /filter/],
    ['join of a node SWIM does not know', 'POST', '/api/v1/cluster/join', JSON.stringify({ node: 'ghost' }), 409, /ghost/],
    ['join without a node', 'POST', '/api/v1/cluster/join', '{}', 400, /node/],
    ['join with a weight out of range', 'POST', '/api/v1/cluster/join', JSON.stringify({ node: 'x', weight: 99 }), 400, /./],
    ['leave of the last member', 'POST', '/api/v1/cluster/leave', JSON.stringify({ node: 'solo' }), 409, /./],
    ['remove of a non-member', 'POST', '/api/v1/cluster/remove', JSON.stringify({ node: 'ghost' }), 409, /ghost/],
    ['plan with nothing staged', 'GET', '/api/v1/cluster/plan', undefined, 409, /staged/],
    ['commit with nothing staged', 'POST', '/api/v1/cluster/commit', undefined, 409, /staged/],
  ];
  for (const [what, method, p, body, status, message] of cases) {
    const r = await call(method, p, body);
    t.equal(r.status, status, `${what}: ${status}`);
    t.match(errorOf(r), message, `${what}: says why (${errorOf(r)})`);
  }
  t.equal((await call('PUT', '/api/v1/db/scratch/k1', '1', 'text/plain')).status, 415, 'a body that is not JSON by type');
  t.same((await call('GET', '/api/v1/db/scratch/k1')).body, { bucket: 'scratch', key: 'k1', value: { a: [1, 2, { b: 'c' }] } }, 'no bad request changed the value');
  t.match((await call('GET', '/api/v1/cluster/ring')).body, { version: 1 }, 'nor the ring');
  t.equal((await fetch(`http://${node.httpAddress}/api/v1/db/scratch/k1`)).status, 401, 'no token: 401');
});
