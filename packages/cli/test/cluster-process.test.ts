/**
 * Five real `shoal node start` processes on loopback form a cluster through `--join`; every node
 * lists all five alive; `kill -9` of one is seen as dead by all others; restarted on its data
 * directory it is alive again everywhere; a node with another key never joins. Every process
 * is ended by its PID.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeTcpPort } from '@shoal/runtime';
import { runShoal, startNodeProcess, type NodeProcess } from './process-helpers.js';

interface Member {
  name: string;
  state: string;
}

async function members(node: NodeProcess, data: string): Promise<Member[]> {
  const r = await runShoal(['cluster', 'members', '--json', '--url', `http://${node.http}`, '--data', data]);
  if (r.code !== 0) throw new Error(`cluster members failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { members: Member[] }).members;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test('five nodes: join, kill -9, restart, wrong key', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'shoal-cluster-'));
  const running = new Set<NodeProcess>();
  t.teardown(async () => {
    for (const n of running) await n.stop('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });
  const keyFile = path.join(root, 'cluster.key');
  writeFileSync(keyFile, (await runShoal(['keygen'])).stdout);
  const gossip: number[] = [];
  for (let i = 0; i < 5; i++) gossip.push(await freeTcpPort());
  const seed = `127.0.0.1:${gossip[0]}`;
  const args = (i: number) => [
    '--name', `n${i}`, '--data', path.join(root, `n${i}`), '--key-file', keyFile, '--swim-preset', 'local',
    '--gossip-port', String(gossip[i]), '--http-port', '0', '--cluster-port', '0', '--log-level', 'warn',
    ...(i > 0 ? ['--join', seed] : []),
  ];
  const nodes: NodeProcess[] = [];
  for (let i = 0; i < 5; i++) {
    const n = await startNodeProcess(args(i));
    running.add(n);
    nodes.push(n);
  }
  const data = (i: number) => path.join(root, `n${i}`);
  const allAlive = async (among: number[], want: number) => {
    for (const i of among) {
      const ms = await members(nodes[i]!, data(i));
      if (ms.filter((m) => m.state === 'alive').length !== want) return false;
    }
    return true;
  };
  const formed = await until('all five see five alive', () => allAlive([0, 1, 2, 3, 4], 5), 30_000);
  t.pass(`all five nodes list five alive members (${formed} ms)`);

  const victim = nodes[4]!;
  await victim.stop('SIGKILL');
  running.delete(victim);
  const seen = await until(
    'every other node marks n4 dead',
    async () => {
      for (const i of [0, 1, 2, 3]) {
        const n4 = (await members(nodes[i]!, data(i))).find((m) => m.name === 'n4');
        if (n4?.state !== 'dead') return false;
      }
      return true;
    },
    30_000,
  );
  t.pass(`kill -9 of n4 seen as dead by all four others (${seen} ms)`);

  nodes[4] = await startNodeProcess(args(4));
  running.add(nodes[4]);
  const back = await until('n4 alive again everywhere', () => allAlive([0, 1, 2, 3, 4], 5), 30_000);
  t.pass(`restarted n4 is alive again on every node (${back} ms)`);

  const strangerKey = path.join(root, 'other.key');
  writeFileSync(strangerKey, (await runShoal(['keygen'])).stdout);
  const strangerPort = await freeTcpPort();
  const stranger = await startNodeProcess([
    '--name', 'stranger', '--data', path.join(root, 'stranger'), '--key-file', strangerKey, '--swim-preset', 'local',
    '--gossip-port', String(strangerPort), '--http-port', '0', '--cluster-port', '0', '--log-level', 'warn', '--join', seed,
  ]);
  running.add(stranger);
  await new Promise((r) => setTimeout(r, 4000));
  for (const i of [0, 1, 2, 3, 4]) {
    const names = (await members(nodes[i]!, data(i))).map((m) => m.name);
    t.notOk(names.includes('stranger'), `n${i} never lists the node with the wrong key`);
  }
  const strangersView = await members(stranger, path.join(root, 'stranger'));
  t.same(strangersView.map((m) => m.name), ['stranger'], 'the stranger sees only itself');

  for (const n of [...running]) {
    t.equal(await n.stop('SIGTERM'), 0, 'clean stop');
    running.delete(n);
  }
});
