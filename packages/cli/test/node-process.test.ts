/**
 * `shoal node start` as a real process: secrets on first start (mode 0600, printed once), the
 * admin token guarding admin routes, `shoal node status` finding the token through --data,
 * one node per data directory, bad secrets refused clearly, and a clean stop on SIGTERM.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runShoal, startNodeProcess } from './process-helpers.js';

function tempDir(test: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-cli-'));
  test.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const ports = ['--http-port', '0', '--cluster-port', '0', '--gossip-port', '0'];

t.test('first start creates secrets once; admin routes need the token', async (t) => {
  const data = tempDir(t);
  const node = await startNodeProcess(['--name', 'n1', '--data', data, ...ports]);
  t.teardown(() => node.stop('SIGKILL'));
  t.match(node.stderr(), /created the admin token .*admin\.token \(mode 0600\)/);
  t.match(node.stderr(), /created the cluster key .*cluster\.key/);
  t.equal(statSync(path.join(data, 'admin.token')).mode & 0o777, 0o600);
  t.equal(statSync(path.join(data, 'cluster.key')).mode & 0o777, 0o600);

  const health = await fetch(`http://${node.http}/api/v1/health`);
  t.equal(health.status, 200);
  t.same(await health.json(), { status: 'ok', node: 'n1', version: '0.1.0' });
  const denied = await fetch(`http://${node.http}/api/v1/node`);
  t.equal(denied.status, 401);
  t.equal(((await denied.json()) as { error: { code: string } }).error.code, 'unauthorized');

  const status = await runShoal(['node', 'status', '--url', `http://${node.http}`, '--data', data, '--json']);
  t.equal(status.code, 0, status.stderr);
  t.match(JSON.parse(status.stdout), { name: 'n1', cluster: 'shoal', addresses: { http: node.http } });
  const table = await runShoal(['node', 'status', '--url', `http://${node.http}`, '--data', data]);
  t.match(table.stdout, /^name:\s+n1$/m);
  const token = readFileSync(path.join(data, 'admin.token'), 'utf8').trim();
  const withEnv = await runShoal(['node', 'status', '--url', `http://${node.http}`, '--data', '/nonexistent'], { env: { SHOAL_TOKEN: token } });
  t.equal(withEnv.code, 0, 'SHOAL_TOKEN works');
  const noToken = await runShoal(['node', 'status', '--url', `http://${node.http}`, '--data', '/nonexistent']);
  t.equal(noToken.code, 1);
  t.match(noToken.stderr, /missing bearer token/);

  const metrics = await (await fetch(`http://${node.http}/metrics`)).text();
  t.match(metrics, /shoal_http_requests_total\{.*route="\/api\/v1\/node",status="401"/);
  t.match(metrics, /^shoal_ring_vnodes\{node="n1"\} 64$/m, 'the ring reports its vnodes (a ring of one holds all 64 partitions)');
  for (const name of ['shoal_ring_handoff_records_sent_total', 'shoal_ring_aae_exchanges_total', 'shoal_ring_damaged_records_seen', 'shoal_ring_tree_drifts', 'shoal_ring_requests_outstanding']) {
    t.match(metrics, new RegExp(`^${name}\\{node="n1"\\} 0$`, 'm'), `and ${name}`);
  }
  // Labelled counters show a series once it counted something.
  for (const name of ['shoal_ring_handoff_sessions_total', 'shoal_ring_requests_total', 'shoal_ring_request_failures_total']) t.match(metrics, new RegExp(`^# TYPE ${name} counter$`, 'm'), `${name} is exported`);

  const second = await runShoal(['node', 'start', '--name', 'n1', '--data', data, ...ports]);
  t.equal(second.code, 1, 'a second node on the same data directory is refused');
  t.match(second.stderr, /is in use by another process \(pid \d+\)/);

  t.equal(await node.stop('SIGTERM'), 0, 'SIGTERM stops the node cleanly with status 0');
  t.match(node.stdout(), /"msg":"node stopped"/);

  const again = await startNodeProcess(['--name', 'n1', '--data', data, ...ports]);
  t.notMatch(again.stderr(), /created/, 'secrets are made once');
  t.equal(await again.stop('SIGINT'), 0, 'SIGINT stops it too');

  const renamed = await runShoal(['node', 'start', '--name', 'n2', '--data', data, ...ports]);
  t.equal(renamed.code, 1);
  t.match(renamed.stderr, /belongs to node n1 of cluster shoal; start with --name n1/);
});

t.test('bad secrets stop the node with a sentence naming the file', async (t) => {
  const data = tempDir(t);
  const keyFile = path.join(data, 'bad.key');
  writeFileSync(keyFile, 'not a key\n');
  const bad = await runShoal(['node', 'start', '--name', 'n1', '--data', data, '--key-file', keyFile, ...ports]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /cluster key file .*bad\.key: keyring line 1/);
  const missing = await runShoal(['node', 'start', '--name', 'n1', '--data', data, '--key-file', path.join(data, 'none.key'), ...ports]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /none\.key.*ENOENT/);
  writeFileSync(path.join(data, 'admin.token'), 'short\n');
  const token = await runShoal(['node', 'start', '--name', 'n1', '--data', data, ...ports]);
  t.equal(token.code, 1);
  t.match(token.stderr, /admin token file .* is corrupted/);
  const keygen = await runShoal(['keygen']);
  writeFileSync(keyFile, `# rotated\n${keygen.stdout}`);
  writeFileSync(path.join(data, 'admin.token'), `${'a'.repeat(43)}\n`);
  const ok = await startNodeProcess(['--name', 'n1', '--data', data, '--key-file', keyFile, ...ports]);
  t.notMatch(ok.stderr(), /created the cluster key/, 'a given key file is used, not created');
  t.equal(await ok.stop(), 0);
});
