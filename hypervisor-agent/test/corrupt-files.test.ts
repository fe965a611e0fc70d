/**
 * The corrupted-files sweep of a hypervisor agent (`shoal agent start`): its copy of the cluster
 * key, its LMDB environment (identity, memory ledger, sim zones) damaged the ways disks damage
 * them. The agent runs as a process (its standalone entry, main.ts: LMDB damage can kill a
 * process outright). Each case: status 1, one line naming the file and what is wrong, no stack
 * trace, the damaged bytes still there afterwards.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatKeyringFile, generateKey, Keyring } from '@shoal/wire';
import { nodeRandom, seededRandom } from '@shoal/runtime';
import { damageStoredValue, storedBytes, type RawKey as Key } from '@shoal/runtime/compliance';

const agentMain = fileURLToPath(new URL('../src/main.js', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  up: boolean;
}

/** Runs the agent (joining a port nobody answers: it starts anyway) until it is up, then SIGTERM. */
function runAgent(dir: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const args = ['--name', 'hv1', '--join', '127.0.0.1:9', '--data', path.join(dir, 'agent'), '--key-file', path.join(dir, 'cluster.key'), '--gossip-port', '0', '--cluster-port', '0', '--swim-preset', 'local', '--ready-line', '--log-level', 'error'];
    const child = spawn(process.execPath, [agentMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let up = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent did not finish in time; stderr: ${stderr}`));
    }, 30_000);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      if (!up && String(d).includes('"ready":true')) {
        up = true;
        child.kill('SIGTERM');
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, up });
    });
  });
}

let template: string;

t.before(async () => {
  template = mkdtempSync(path.join(tmpdir(), 'shoal-agent-corrupt-template-'));
  writeFileSync(path.join(template, 'cluster.key'), formatKeyringFile(new Keyring([generateKey(nodeRandom())])), { mode: 0o600 });
  const run = await runAgent(template);
  if (!run.up || run.code !== 0) throw new Error(`template agent: ${run.code} ${run.stderr}`);
});
t.teardown(() => rmSync(template, { recursive: true, force: true }));

function copyTemplate(test: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-agent-corrupt-'));
  test.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(template, dir, { recursive: true });
  return dir;
}

/** `n` bytes of seeded noise: what a damaged disk might leave. */
const garbage = (n: number, seed: number): Buffer => Buffer.from(seededRandom(seed).bytes(n));

const readOrDir = (p: string): Buffer | 'dir' => (statSync(p).isDirectory() ? 'dir' : readFileSync(p));

interface FileCase {
  name: string;
  /** Damages the copy; returns the path (relative to the copy) whose bytes must survive. */
  damage(dir: string): string;
  stderr: RegExp;
}

const data = (d: string, ...p: string[]): string => path.join(d, 'agent', ...p);
const fileCases: FileCase[] = [
  { name: 'cluster key empty', damage: (d) => (writeFileSync(path.join(d, 'cluster.key'), ''), 'cluster.key'), stderr: /cluster key file \S*cluster\.key: keyring file holds no keys/ },
  { name: 'cluster key truncated', damage: (d) => (truncateSync(path.join(d, 'cluster.key'), 90), 'cluster.key'), stderr: /cluster\.key: keyring line 2: not a base64 key/ },
  { name: 'cluster key of the wrong length', damage: (d) => (writeFileSync(path.join(d, 'cluster.key'), `${Buffer.alloc(31, 1).toString('base64')}\n`), 'cluster.key'), stderr: /cluster\.key: keyring line 1: key is 31 bytes, expected 32/ },
  { name: 'cluster key is binary garbage', damage: (d) => (writeFileSync(path.join(d, 'cluster.key'), garbage(300, 1)), 'cluster.key'), stderr: /cluster\.key: keyring line \d+: not a base64 key/ },
  { name: 'cluster key is a directory', damage: (d) => (rmSync(path.join(d, 'cluster.key')), mkdirSync(path.join(d, 'cluster.key')), 'cluster.key'), stderr: /cluster key file \S*cluster\.key: cannot read .*EISDIR/ },
  // Was a stack trace (EISDIR in files.lockPid).
  { name: 'PID lock is a directory', damage: (d) => (mkdirSync(data(d, 'agent.pid')), 'cluster.key'), stderr: /lock \S*agent\.pid is not a file/ },
  { name: 'db is a file', damage: (d) => (rmSync(data(d, 'db'), { recursive: true }), writeFileSync(data(d, 'db'), garbage(100, 2)), 'agent/db'), stderr: /storage path \S*db is not a directory/ },
  { name: 'data.mdb truncated to 0 bytes', damage: (d) => (truncateSync(data(d, 'db', 'data.mdb'), 0), 'agent/db/data.mdb'), stderr: /storage file \S*data\.mdb is empty/ },
  { name: 'data.mdb truncated to half', damage: (d) => (truncateSync(data(d, 'db', 'data.mdb'), statSync(data(d, 'db', 'data.mdb')).size / 2), 'agent/db/data.mdb'), stderr: /storage file \S*data\.mdb is (truncated|damaged or truncated)/ },
  { name: 'data.mdb header overwritten', damage: (d) => {
    const f = data(d, 'db', 'data.mdb');
    const b = readFileSync(f);
    garbage(200, 3).copy(b, 0);
    writeFileSync(f, b);
    return 'agent/db/data.mdb';
  }, stderr: /storage file \S*data\.mdb is not an LMDB data file/ },
];

function check(t: Test, run: Run, stderr: RegExp): void {
  t.equal(run.up, false, 'the agent did not start');
  t.equal(run.code, 1, `exit status 1 (stderr: ${run.stderr})`);
  t.equal(run.signal, null, 'not killed by a signal');
  t.match(run.stderr, stderr, 'the line names the file and what is wrong');
  t.equal(run.stderr.trim().split('\n').length, 1, 'one line');
  t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

t.test('damaged files: a clear refusal, the damage left as it was', async (t) => {
  for (const c of fileCases) {
    await t.test(c.name, async (t) => {
      const dir = copyTemplate(t);
      const kept = path.join(dir, c.damage(dir));
      const before = readOrDir(kept);
      check(t, await runAgent(dir), c.stderr);
      t.same(readOrDir(kept), before, 'unchanged');
    });
  }
});


const vm = '5f0c9e5e-4a8e-4d2b-9b1a-0c8e2d1f3a4b';
const undecodable = Buffer.from('garbage!!');
const recordCases: { name: string; store: string; key: Key; bytes: Buffer; stderr: RegExp }[] = [
  // Were stack traces through `shoal agent start` (msgpackr's errors are plain Errors).
  { name: 'identity record undecodable', store: 'agent', key: ['identity'], bytes: undecodable, stderr: /storage \S*db: the agent's identity record is damaged/ },
  { name: 'identity record of the wrong shape', store: 'agent', key: ['identity'], bytes: Buffer.from([0x2a]), stderr: /the agent's identity record is not valid/ },
  { name: 'ledger record undecodable', store: 'ledger', key: ['r', vm], bytes: undecodable, stderr: /ledger record \["r","5f0c9e5e-[^"]+"\] is unreadable \(record .* of store ledger in \S*db is damaged/ },
  { name: 'ledger record of the wrong shape', store: 'ledger', key: ['r', vm], bytes: Buffer.from([0x2a]), stderr: /ledger record \["r","5f0c9e5e-[^"]+"\] is unreadable/ },
  // Was a TypeError at start (a zone without `state`) or a wrong zone handed to the ledger.
  { name: 'sim zone record undecodable', store: 'zones', key: ['z', vm], bytes: undecodable, stderr: /sim zone record \["z","5f0c9e5e-[^"]+"\] is unreadable .*store zones in \S*db is damaged/ },
  { name: 'sim zone record of the wrong shape', store: 'zones', key: ['z', vm], bytes: Buffer.from([0xc0]), stderr: /sim zone record \["z","5f0c9e5e-[^"]+"\] is unreadable/ },
];

t.test('damaged records: a clear refusal, the record left as it was', async (t) => {
  for (const c of recordCases) {
    await t.test(c.name, async (t) => {
      const dir = copyTemplate(t);
      const db = data(dir, 'db');
      await damageStoredValue(db, c.store, c.key, c.bytes);
      check(t, await runAgent(dir), c.stderr);
      t.same(storedBytes(db, c.store, c.key), c.bytes, 'the damaged record is still there');
    });
  }
});

t.test('recoveries: a garbage PID lock or lock.mdb; the agent starts', async (t) => {
  const cases: [string, (d: string) => void][] = [
    ['PID lock holds garbage', (d) => writeFileSync(data(d, 'agent.pid'), garbage(40, 4))],
    ['lock.mdb is garbage', (d) => writeFileSync(data(d, 'db', 'lock.mdb'), garbage(8272, 5))],
  ];
  for (const [name, damage] of cases) {
    await t.test(name, async (t) => {
      const dir = copyTemplate(t);
      damage(dir);
      const run = await runAgent(dir);
      t.equal(run.up, true, run.stderr);
      t.equal(run.code, 0);
    });
  }
});
