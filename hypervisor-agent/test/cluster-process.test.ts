/**
 * Real processes on loopback, as an operator runs them: `shoal node start` and two
 * `shoal agent start`; `shoal hypervisors list --json` shows both up with their memory figures;
 * after `kill -9` of an agent the node lists it `down` (within the SWIM bound, with its last
 * record); restarted on its data directory it is `up` again and a reservation granted before the
 * kill is still there; an agent with another cluster key never appears. Then `shoal node start
 * --sim-agents 2` runs two agents beside the node, which end when the node stops. Every process
 * is ended by its PID; every wait is bounded.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from '@shoal/runtime';
import { tempDir, writeKey } from './core-harness.js';

const shoalBin = fileURLToPath(new URL('../../../packages/cli/bin/shoal.js', import.meta.url));

interface Proc {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `shoal …` and resolves once stderr matches `ready` (rejects on exit or after 20 s). */
function startShoal(args: string[], ready: RegExp): Promise<Proc> {
  const child = spawn(process.execPath, [shoalBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const proc: Proc = {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(child.pid!, 'SIGKILL');
      reject(new Error(`shoal ${args.slice(0, 2).join(' ')} did not start in 20 s: ${err}`));
    }, 20_000);
    child.stderr!.on('data', (d) => {
      err += d;
      if (ready.test(err)) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`shoal ${args.slice(0, 2).join(' ')} exited with ${code}: ${err}`));
    });
  });
}

function runShoal(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [shoalBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      process.kill(child.pid!, 'SIGKILL');
      reject(new Error(`shoal ${args.join(' ')} did not finish in 20 s`));
    }, 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface View {
  name: string;
  state: 'up' | 'down';
  stale: boolean;
  memory: { totalMb: number; reservedForHostMb: number; provisionedMb: number; pendingMb: number; freeMb: number } | null;
  zones: Record<string, number> | null;
  record: { revision: { boot: number; seq: number } } | null;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return { value, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const pidGone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

t.test('one node, two agents: list, kill -9, restart with the ledger intact, wrong key refused', async (t) => {
  const root = tempDir(t, 'shoal-agents-');
  const running = new Set<Proc>();
  t.teardown(async () => {
    for (const p of running) await p.stop('SIGKILL');
  });
  const { file: keyFile } = writeKey(root, 11);
  const gossip = await freeTcpPort();
  const nodeData = path.join(root, 'n1');
  const node = await startShoal(['node', 'start', '--name', 'n1', '--data', nodeData, '--key-file', keyFile, '--swim-preset', 'local', '--gossip-port', String(gossip), '--http-port', '0', '--cluster-port', '0', '--log-level', 'warn'], /API http:\/\/(\S+),/);
  running.add(node);
  const url = `http://${/API http:\/\/(\S+),/.exec(node.stderr())![1]}`;
  const agentArgs = (name: string, key = keyFile) => ['agent', 'start', '--name', name, '--join', `127.0.0.1:${gossip}`, '--key-file', key, '--data', path.join(root, name), '--swim-preset', 'local', '--gossip-port', '0', '--cluster-port', '0', '--memory-mb', '32768', '--reserved-mb', '2048', '--log-level', 'warn'];
  const startAgent = async (name: string, key?: string) => {
    const p = await startShoal(agentArgs(name, key), /is up/);
    running.add(p);
    return p;
  };
  await startAgent('hv1');
  let hv2 = await startAgent('hv2');
  const list = async (): Promise<View[]> => {
    const r = await runShoal(['hypervisors', 'list', '--json', '--url', url, '--data', nodeData]);
    if (r.code !== 0) throw new Error(`hypervisors list failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { hypervisors: View[] }).hypervisors;
  };
  const both = await until('both agents up with figures', async () => {
    const l = await list();
    return l.length === 2 && l.every((h) => h.state === 'up' && !h.stale && h.memory) ? l : undefined;
  }, 20_000);
  t.same(both.value.map((h) => h.name), ['hv1', 'hv2']);
  for (const h of both.value) t.same(h.memory, { totalMb: 32_768, reservedForHostMb: 2_048, provisionedMb: 0, pendingMb: 0, freeMb: 30_720, overcommittedMb: 0 }, `${h.name}: memory figures in MB`);
  t.equal(both.value[0]!.zones?.['total'], 0);
  const table = await runShoal(['hypervisors', 'list', '--url', url, '--data', nodeData]);
  t.match(table.stdout, /hv1\s+up\s+32768\s+2048\s+0\s+0\s+30720/, 'the table for people');

  const token = (await import('node:fs')).readFileSync(path.join(nodeData, 'admin.token'), 'utf8').trim();
  const vmId = '7b0e1d4c-0000-4000-8000-000000000001';
  const grant = await fetch(`${url}/api/v1/hypervisors/hv2/reservations`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ vmId, ramMb: 4_096, leaseMs: 600_000 }) });
  t.match(await grant.json(), { vmId, granted: true, ramMb: 4_096, state: 'pending' }, 'a grant on hv2, acknowledged');
  const shown = await until('the grant in the listing (the agent publishes its record to the store)', async () => {
    const h = (await list()).find((x) => x.name === 'hv2');
    return h?.memory?.pendingMb === 4_096 ? h : undefined;
  }, 10_000);
  t.pass(`the listing shows it after ${shown.ms} ms`);
  const bootBefore = shown.value.record?.revision.boot ?? 0;

  await hv2.stop('SIGKILL');
  running.delete(hv2);
  const down = await until('hv2 down', async () => {
    const h = (await list()).find((x) => x.name === 'hv2');
    return h?.state === 'down' ? h : undefined;
  }, 30_000);
  t.pass(`kill -9 of hv2: listed down after ${down.ms} ms (SWIM local preset bound ≈ 14 s at 3 members)`);
  t.match(down.value, { stale: true, memory: { pendingMb: 4_096 } }, 'with its last stored record');

  hv2 = await startAgent('hv2');
  const up = await until('hv2 up again', async () => {
    const h = (await list()).find((x) => x.name === 'hv2');
    return h?.state === 'up' && !h.stale && (h.record?.revision.boot ?? 0) > bootBefore ? h : undefined;
  }, 30_000);
  t.pass(`restarted hv2 is up again, with a record from its new run, after ${up.ms} ms`);
  t.match(up.value.memory, { pendingMb: 4_096, freeMb: 30_720 - 4_096 }, 'the grant made before the kill is still held');
  const res = (await (await fetch(`${url}/api/v1/hypervisors/hv2/reservations`, { headers: { authorization: `Bearer ${token}` } })).json()) as { reservations: { vmId: string }[] };
  t.same(res.reservations.map((r) => r.vmId), [vmId], 'and listed by the ledger');

  const { file: otherKey } = writeKey(root, 99);
  const stranger = await startAgent('hv3', otherKey);
  await new Promise((r) => setTimeout(r, 4_000));
  t.notOk((await list()).some((h) => h.name === 'hv3'), 'an agent with another key is never listed');
  t.equal(await stranger.stop('SIGTERM'), 0, 'the stranger stops cleanly');
  running.delete(stranger);

  for (const p of [...running]) {
    t.equal(await p.stop('SIGTERM'), 0, `clean stop of pid ${p.pid}`);
    running.delete(p);
  }
});

t.test('shoal node start --sim-agents 2: two agents beside the node, ended with it', async (t) => {
  const root = tempDir(t, 'shoal-simagents-');
  const gossip = await freeTcpPort();
  const data = path.join(root, 'n1');
  const node = await startShoal(['node', 'start', '--name', 'n1', '--data', data, '--swim-preset', 'local', '--gossip-port', String(gossip), '--http-port', '0', '--cluster-port', '0', '--log-level', 'info', '--sim-agents', '2'], /API http:\/\/(\S+),/);
  t.teardown(() => node.stop('SIGKILL'));
  const url = `http://${/API http:\/\/(\S+),/.exec(node.stderr())![1]}`;
  const agents = await until('two sim agents up', async () => {
    const r = await runShoal(['hypervisors', 'list', '--json', '--url', url, '--data', data]);
    const l = (JSON.parse(r.stdout || '{"hypervisors":[]}') as { hypervisors: View[] }).hypervisors;
    return l.length === 2 && l.every((h) => h.state === 'up' && h.memory) ? l : undefined;
  }, 20_000);
  t.same(agents.value.map((h) => h.name), ['n1-hv1', 'n1-hv2']);
  t.equal(agents.value[0]!.memory?.totalMb, 65_536, 'sim agents have the default 64 GiB');
  const pids = [...node.stdout().matchAll(/"msg":"sim agent started".*?"pid":(\d+)/g)].map((m) => Number(m[1]));
  t.equal(pids.length, 2, `the node logged both agent PIDs (${pids.join(', ')})`);
  t.equal(await node.stop('SIGTERM'), 0, 'the node stops cleanly');
  for (const pid of pids) t.ok(pidGone(pid), `agent pid ${pid} ended with the node`);
});
