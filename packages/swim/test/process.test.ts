// Multi-process test on loopback: real UDP, real WebSocket push-pull, real AES-GCM, the
// standalone entry (src/main.ts). Five processes form a cluster; `kill -9` of one is seen as dead
// by all others; restarted on the same address it rejoins and is alive again; a process with the
// wrong key never joins. Every process started here is ended by its PID (teardown), and every
// wait has a deadline, so the test is bounded in time. Deadlines are liveness limits, not timing
// assertions: the speed figures are the benchmark's business.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Keyring, formatKeyringFile } from '@shoal/wire';

const mainJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/main.js');
const waitMaxMs = 30_000;

interface Proc {
  name: string;
  child: ChildProcess;
  gossip: string;
  lines: Record<string, unknown>[];
  waiters: ((line: Record<string, unknown>) => boolean)[];
}

const started: ChildProcess[] = [];

/** A delay that does not keep the test process alive on its own (used in races). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function startProc(name: string, bind: string, keyFile: string, join: string[] = []): Promise<Proc> {
  const args = [mainJs, '--name', name, '--bind', bind, '--key-file', keyFile, '--cluster', 'proc-test', '--preset', 'local'];
  if (join.length > 0) args.push('--join', join.join(','));
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(child);
  const proc: Proc = { name, child, gossip: '', lines: [], waiters: [] };
  let buf = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      proc.lines.push(line);
      proc.waiters = proc.waiters.filter((w) => !w(line));
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready within ${waitMaxMs} ms`)), waitMaxMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before ready`));
    });
    proc.waiters.push((line) => {
      if (line['type'] !== 'ready') return false;
      clearTimeout(timer);
      proc.gossip = line['gossip'] as string;
      resolve(proc);
      return true;
    });
  });
}

/** Sends a command and resolves with the next line of type `type`. */
function ask(p: Proc, cmd: string, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${p.name}: no ${type} answer to ${cmd}`)), waitMaxMs);
    p.waiters.push((line) => {
      if (line['type'] !== type) return false;
      clearTimeout(timer);
      resolve(line);
      return true;
    });
    p.child.stdin!.write(`${cmd}\n`);
  });
}

/** Polls every 100 ms until every observer sees `name` in `state`; throws past the deadline. */
async function untilAllSee(observers: Proc[], name: string, state: string | null): Promise<number> {
  const startMs = Date.now();
  for (;;) {
    const states = await Promise.all(observers.map((o) => ask(o, `state ${name}`, 'state')));
    if (states.every((s) => s['state'] === state)) return Date.now() - startMs;
    if (Date.now() - startMs > waitMaxMs) throw new Error(`not every observer sees ${name} ${state} within ${waitMaxMs} ms: ${JSON.stringify(states)}`);
    await sleep(100);
  }
}

function killByPid(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, signal);
}

t.teardown(() => {
  for (const c of started) killByPid(c);
});

t.test('five processes: form, kill -9, restart, wrong key', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-swim-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = path.join(dir, 'cluster.key');
  const wrongKeyFile = path.join(dir, 'wrong.key');
  writeFileSync(keyFile, formatKeyringFile(new Keyring([randomBytes(32)])));
  writeFileSync(wrongKeyFile, formatKeyringFile(new Keyring([randomBytes(32)])));

  const first = await startProc('p0', '127.0.0.1:0', keyFile);
  const rest = await Promise.all([1, 2, 3, 4].map((i) => startProc(`p${i}`, '127.0.0.1:0', keyFile, [first.gossip])));
  const procs = [first, ...rest];
  for (const p of procs) await untilAllSee(procs, p.name, 'alive');
  t.pass('five processes form a cluster: each sees all five alive');
  const counts = await Promise.all(procs.map((p) => ask(p, 'counts', 'counts')));
  t.ok(counts.every((c) => c['alive'] === 5), 'counts agree: 5 alive everywhere');

  const victim = procs[2]!;
  const others = procs.filter((p) => p !== victim);
  killByPid(victim.child);
  await untilAllSee(others, victim.name, 'dead');
  t.pass('kill -9 of one is seen as dead by all four others');

  const restarted = await startProc(victim.name, victim.gossip, keyFile, [first.gossip]);
  await untilAllSee([...others, restarted], victim.name, 'alive');
  const seen = await ask(others[0]!, 'members', 'members');
  const rec = (seen['members'] as { name: string; incarnation: number }[]).find((m) => m.name === victim.name);
  t.ok(rec && rec.incarnation > 0, 'the restarted process rejoined with a refuting incarnation');

  const rogue = await startProc('rogue', '127.0.0.1:0', wrongKeyFile, [first.gossip]);
  await sleep(3000);
  await untilAllSee([...others, restarted], 'rogue', null);
  const rogueCounts = await ask(rogue, 'counts', 'counts');
  t.equal(rogueCounts['alive'], 1, 'the wrong-key process knows only itself');
  const stats = (await ask(first, 'stats', 'stats'))['stats'] as { pushPullsRefused: number };
  t.ok(stats.pushPullsRefused > 0, 'its push-pulls were refused');

  for (const p of [...others, restarted, rogue]) {
    const exited = new Promise((resolve) => p.child.once('exit', resolve));
    p.child.stdin!.write('stop\n');
    await Promise.race([exited, sleep(5000)]);
    killByPid(p.child);
  }
  const ended = (c: ChildProcess): Promise<void> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((resolve) => c.once('exit', () => resolve())));
  await Promise.race([Promise.all(started.map(ended)), sleep(10_000)]);
  t.ok(started.every((c) => c.exitCode !== null || c.signalCode !== null), 'every process has ended');
});
