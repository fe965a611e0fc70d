/**
 * Remote send, ask and monitor between two real processes on loopback; `kill -9` of the remote
 * process fires `node-down` on the monitor, and later queries to it fail at once.
 */
import t from 'tap';
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dispatch, monitor, NodeDownError, query, refFromJSON, systemOf, UndeliverableError, type ActorRef } from '@shoal/actors';
import { collector, keyringOf, startNode, waitFor } from './net-helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/net-node.js', import.meta.url));
const key = keyringOf(7);

function startChild(name: string, peer: string): Promise<{ child: ChildProcess; address: string }> {
  const child = spawnProcess(process.execPath, [fixture, name, Buffer.from(key.primary).toString('base64'), peer], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve({ child, address: (JSON.parse(line) as { ready: string }).ready }));
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
}

t.test('two processes: dispatch, query, monitor, and kill -9', async (t) => {
  const local = await startNode('local', key);
  const { child, address } = await startChild('remote', `local=${local.address}`);
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await local.stop();
  });
  local.net.setPeerAddress('remote', address);
  const sys = systemOf(local.root);
  const echo = refFromJSON<unknown>(sys, { node: 'remote', path: ['echo'] });

  const answer = (await query(echo, (tmp: ActorRef<unknown>) => ({ q: 'ping', replyTo: tmp }), 5000)) as { reply: { q: string }; from: ActorRef<unknown> };
  t.equal(answer.reply.q, 'ping', 'query answered by the other process');
  t.equal(answer.from.toString(), 'remote/echo');

  const box = collector(local.root, 'box');
  for (let i = 0; i < 500; i++) dispatch(echo, { i }, box.ref);
  await waitFor('500 replies from the other process', () => box.got.length === 500);
  t.same(box.got.map((m) => (m as { reply: { i: number } }).reply.i), Array.from({ length: 500 }, (_, i) => i), 'in order');

  const watcher = collector(local.root, 'watcher');
  monitor(watcher.ref, echo);
  // The monitor request must reach the other process before it dies for the test to mean anything.
  await query(echo, (tmp: ActorRef<unknown>) => ({ sync: true, replyTo: tmp }), 5000);
  child.kill('SIGKILL');
  await waitFor('node-down after kill -9', () => watcher.downs.length === 1, 10_000);
  t.equal(watcher.downs[0]?.reason, 'node-down');
  t.equal(watcher.downs[0]?.ref.toString(), 'remote/echo');
  const late = await query(echo, 'anyone?', 20_000).catch((err: unknown) => err);
  t.ok(late instanceof UndeliverableError || late instanceof NodeDownError, `a query to the dead node fails at once (${String(late)})`);
});
