/**
 * The ring across real processes (issue 4): three nodes form a ring with plan/commit; 5,000 keys
 * are written through random nodes; `kill -9` of one node leaves every key readable; the node is
 * restarted and a fourth joins with plan/commit; once `cluster transfers` says done everywhere,
 * every key is readable from every node, all nodes agree on the ring, each owns what the ring
 * says and holds no one else's data. Every process is ended by its PID.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeTcpPort } from '@shoal/runtime';
import { runShoal, startNodeProcess, type NodeProcess } from './process-helpers.js';

const keyCount = 5000;

interface Node {
  name: string;
  data: string;
  gossip: number;
  proc: NodeProcess;
  token: string;
}

async function api(n: Node, method: string, route: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://${n.proc.http}${route}`, {
    method,
    headers: { authorization: `Bearer ${n.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs `fn` over `items` with `width` in flight; returns the failures. */
async function pool<T>(items: T[], width: number, fn: (x: T) => Promise<string | undefined>): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        const failed = await fn(item);
        if (failed) failures.push(failed);
      }
    }),
  );
  return failures;
}

t.test('three nodes, 5,000 keys, kill -9, a fourth node joins', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'shoal-ring-'));
  const nodes = new Map<string, Node>();
  t.teardown(async () => {
    for (const n of nodes.values()) await n.proc.stop('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });
  const keyFile = path.join(root, 'cluster.key');
  writeFileSync(keyFile, (await runShoal(['keygen'])).stdout);
  const seedPort = await freeTcpPort();
  const start = async (name: string, gossip: number, join: boolean): Promise<Node> => {
    const data = path.join(root, name);
    const proc = await startNodeProcess([
      '--name', name, '--data', data, '--key-file', keyFile, '--swim-preset', 'local', '--log-level', 'warn',
      '--gossip-port', String(gossip), '--http-port', '0', '--cluster-port', '0', ...(join ? ['--join', `127.0.0.1:${seedPort}`] : []),
    ]);
    const node = { name, data, gossip, proc, token: readFileSync(path.join(data, 'admin.token'), 'utf8').trim() };
    nodes.set(name, node);
    return node;
  };
  const n1 = await start('n1', seedPort, false);
  const n2 = await start('n2', await freeTcpPort(), true);
  const n3 = await start('n3', await freeTcpPort(), true);
  const alive = async (n: Node, want: number) => ((await api(n, 'GET', '/api/v1/cluster/members')).json as { members: { state: string }[] }).members.filter((m) => m.state === 'alive').length === want;
  await until('three members alive', () => alive(n1, 3), 30_000);

  for (const name of ['n2', 'n3']) t.equal((await api(n1, 'POST', '/api/v1/cluster/join', { node: name })).status, 200, `join ${name} staged`);
  const plan1 = await api(n1, 'POST', '/api/v1/cluster/commit');
  t.equal(plan1.status, 200, 'commit');
  const transfersDone = async (among: Node[]) => {
    for (const n of among) {
      const tr = (await api(n, 'GET', '/api/v1/cluster/transfers')).json as { complete: boolean; version?: number };
      if (!tr.complete) return false;
    }
    return true;
  };
  const ringVersion = async (n: Node) => ((await api(n, 'GET', '/api/v1/cluster/status')).json as { ring: { version: number } | null }).ring?.version ?? 0;
  await until('every node on ring version 2 with transfers done', async () => (await Promise.all([n1, n2, n3].map(ringVersion))).every((v) => v === 2) && transfersDone([n1, n2, n3]), 60_000);

  const keys = Array.from({ length: keyCount }, (_, i) => i);
  const trio = [n1, n2, n3];
  const writeFailures = await pool(keys, 32, async (i) => {
    const via = trio[i % 3] as Node;
    const r = await api(via, 'PUT', `/api/v1/db/load/k${i}`, { i, text: `value ${i}` });
    return r.status === 200 ? undefined : `k${i} via ${via.name}: ${r.status} ${JSON.stringify(r.json)}`;
  });
  t.same(writeFailures.slice(0, 5), [], `all ${keyCount} writes acknowledged`);

  const readAll = (via: Node) =>
    pool(keys, 32, async (i) => {
      const r = await api(via, 'GET', `/api/v1/db/load/k${i}`);
      const value = (r.json as { value?: { i?: number } } | undefined)?.value;
      return r.status === 200 && value?.i === i ? undefined : `k${i} via ${via.name}: ${r.status} ${JSON.stringify(r.json)}`;
    });

  await n3.proc.stop('SIGKILL');
  nodes.delete('n3');
  await until('n3 seen dead', async () => ((await api(n1, 'GET', '/api/v1/cluster/members')).json as { members: { name: string; state: string }[] }).members.find((m) => m.name === 'n3')?.state === 'dead', 30_000);
  t.same((await readAll(n1)).slice(0, 5), [], 'every key readable with n3 killed (via n1)');
  t.same((await readAll(n2)).slice(0, 5), [], 'every key readable with n3 killed (via n2)');

  const n3b = await start('n3', n3.gossip, true);
  const n4 = await start('n4', await freeTcpPort(), true);
  await until('four members alive', () => alive(n1, 4), 30_000);
  t.equal((await api(n1, 'POST', '/api/v1/cluster/join', { node: 'n4' })).status, 200, 'join n4 staged');
  const plan2 = (await api(n1, 'GET', '/api/v1/cluster/plan')).json as { nextVersion: number; movedPartitions: number; balance: { members: { name: string; owned: number }[] } };
  t.equal(plan2.nextVersion, 3);
  t.ok(plan2.movedPartitions > 0, `the plan moves ${plan2.movedPartitions} partitions`);
  t.equal((await api(n1, 'POST', '/api/v1/cluster/commit')).status, 200, 'commit the join of n4');
  const all = [n1, n2, n3b, n4];
  await until('every node on ring version 3 with transfers done', async () => (await Promise.all(all.map(ringVersion))).every((v) => v === 3) && transfersDone(all), 120_000);

  for (const n of all) t.same((await readAll(n)).slice(0, 5), [], `every key readable via ${n.name}`);

  const rings = await Promise.all(all.map(async (n) => (await api(n, 'GET', '/api/v1/cluster/ring')).json as { version: number; owners: string[][]; balance: { members: { name: string; owned: number }[] } }));
  for (const r of rings.slice(1)) t.same(r.owners, rings[0]?.owners, 'every node has the same owners');
  const planned = new Map(plan2.balance.members.map((m) => [m.name, m.owned]));
  for (const m of rings[0]?.balance.members ?? []) t.equal(m.owned, planned.get(m.name), `${m.name} owns ${m.owned} partitions, as planned`);
  for (const n of all) {
    const st = (await api(n, 'GET', '/api/v1/cluster/status')).json as { vnodes: { owned: number[]; foreign: number[] } };
    const mine = (rings[0]?.owners ?? []).flatMap((owners, p) => (owners.includes(n.name) ? [p] : []));
    t.same([...st.vnodes.owned].sort((a, b) => a - b), mine, `${n.name} hosts exactly the partitions it owns`);
    t.same(st.vnodes.foreign, [], `${n.name} holds no data it does not own`);
  }
  // The handoff shows in the nodes' metrics: what the senders report acknowledged.
  let handedOff = 0;
  for (const n of all) {
    const text = await (await fetch(`http://${n.proc.http}/metrics`)).text();
    handedOff += Number(/^shoal_ring_handoff_records_sent_total\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? NaN);
  }
  t.ok(handedOff > 0, `the nodes' metrics count ${handedOff} records handed off`);
  for (const n of all) t.equal(await n.proc.stop('SIGTERM'), 0, `${n.name} stops cleanly`);
  nodes.clear();
});
