/**
 * The corrupted-files sweep of a core node (`shoal node start`): every file the node reads at
 * start — the cluster key, the admin token, the PID lock, the LMDB environment and the records in
 * it — damaged in the ways disks and operators damage files. Each case runs the real command as a
 * process (LMDB damage can kill a process outright, so never in this one) and checks: it refuses
 * with status 1 and one line naming the file, never a stack trace; or it recovers where that is
 * clearly right; and the damaged bytes are still there afterwards for an operator to inspect.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLmdbStorage, seededRandom } from '@shoal/runtime';
import { damageStoredValue, storedBytes, type RawKey as Key } from '@shoal/runtime/compliance';

// The CLI sits above this package; its entry is run by path, as an operator runs it.
const shoalBin = fileURLToPath(new URL('../../../cli/bin/shoal.js', import.meta.url));
const ports = ['--http-port', '0', '--cluster-port', '0', '--gossip-port', '0', '--swim-preset', 'local'];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  up: boolean;
}

/** Runs `shoal node start`; once it says it is up, `whileUp` runs and the node gets SIGTERM. */
function runNode(data: string, whileUp?: (http: string) => Promise<void>, extra: string[] = [], user?: { uid: number; gid: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const argv = [shoalBin, 'node', 'start', '--name', 'n1', '--data', data, ...ports, ...extra];
    // As another user, without tap's process-info hook (it adds itself to every child's
    // NODE_OPTIONS and would write into .tap/ as that user): env(1) drops it before node starts.
    const child = user
      ? spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], ...user })
      : spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let up = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node did not finish in time; stderr: ${stderr}`));
    }, 30_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /API http:\/\/(\S+),/.exec(stderr);
      if (m?.[1] && !up) {
        up = true;
        void (whileUp ? whileUp(m[1]) : Promise.resolve()).finally(() => child.kill('SIGTERM'));
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, up });
    });
  });
}

function tempDir(test: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-corrupt-'));
  test.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A data directory a node made and stopped cleanly, with one record `scratch/k1` in the ring. */
let template: string;
let tokenOf: (dir: string) => string;

t.before(async () => {
  template = mkdtempSync(path.join(tmpdir(), 'shoal-corrupt-template-'));
  tokenOf = (dir) => readFileSync(path.join(dir, 'admin.token'), 'utf8').trim();
  const run = await runNode(template, async (http) => {
    const res = await fetch(`http://${http}/api/v1/db/scratch/k1`, { method: 'PUT', headers: { authorization: `Bearer ${tokenOf(template)}`, 'content-type': 'application/json' }, body: '{"a":1}' });
    if (res.status !== 200) throw new Error(`put: ${res.status}`);
  });
  if (run.code !== 0) throw new Error(`template node: ${run.code} ${run.stderr}`);
});
t.teardown(() => rmSync(template, { recursive: true, force: true }));

function copyTemplate(test: { teardown(fn: () => void): void }): string {
  const dir = path.join(tempDir(test), 'data');
  cpSync(template, dir, { recursive: true });
  return dir;
}

/** Every regular file under `dir` (relative path → bytes). */
function snapshot(dir: string, only?: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && (only === undefined || path.relative(dir, p) === only)) out.set(path.relative(dir, p), readFileSync(p));
    }
  };
  if (existsSync(dir) && statSync(dir).isDirectory()) walk(dir);
  else if (existsSync(dir)) out.set('.', readFileSync(dir));
  return out;
}

/** `n` bytes of seeded noise: what a damaged disk might leave. */
const garbage = (n: number, seed: number): Buffer => Buffer.from(seededRandom(seed).bytes(n));

function overwrite(file: string, offset: number, bytes: Buffer): void {
  const data = readFileSync(file);
  bytes.copy(data, offset);
  writeFileSync(file, data);
}

const isRoot = process.getuid?.() === 0;

interface RefusalCase {
  name: string;
  /** Damages the copy of the data directory; returns the path whose bytes must survive. */
  damage(data: string): string;
  stderr: RegExp;
  extra?: (data: string) => string[];
  /** Run the node as an unprivileged user that owns the data directory (root reads files whatever their mode). */
  unprivileged?: boolean;
}

/** `nobody`: the data directory is handed to it, and the directories above made traversable. */
const nobody = { uid: 65534, gid: 65534 };

function handTo(data: string, user: { uid: number; gid: number }): void {
  for (let d = path.dirname(data); d !== tmpdir() && d !== path.dirname(d); d = path.dirname(d)) chmodSync(d, 0o755);
  const walk = (p: string): void => {
    chownSync(p, user.uid, user.gid);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
  };
  walk(data);
}

const refusals: RefusalCase[] = [
  { name: 'cluster key empty', damage: (d) => (writeFileSync(path.join(d, 'cluster.key'), ''), 'cluster.key'), stderr: /cluster key file \S*cluster\.key: keyring file holds no keys/ },
  { name: 'cluster key truncated', damage: (d) => (truncateSync(path.join(d, 'cluster.key'), 90), 'cluster.key'), stderr: /cluster key file \S*cluster\.key: keyring line 2: not a base64 key/ },
  { name: 'cluster key of the wrong length', damage: (d) => (writeFileSync(path.join(d, 'cluster.key'), `${Buffer.alloc(16, 7).toString('base64')}\n`), 'cluster.key'), stderr: /cluster\.key: keyring line 1: key is 16 bytes, expected 32/ },
  { name: 'cluster key not base64', damage: (d) => (writeFileSync(path.join(d, 'cluster.key'), 'not*base64*at*all\n'), 'cluster.key'), stderr: /cluster\.key: keyring line 1: not a base64 key/ },
  { name: 'cluster key with an extra line', damage: (d) => (writeFileSync(path.join(d, 'cluster.key'), `${readFileSync(path.join(d, 'cluster.key'), 'utf8')}hello world\n`), 'cluster.key'), stderr: /cluster\.key: keyring line 3: not a base64 key/ },
  { name: 'cluster key is binary garbage', damage: (d) => (writeFileSync(path.join(d, 'cluster.key'), garbage(300, 1)), 'cluster.key'), stderr: /cluster\.key: keyring line \d+: not a base64 key/ },
  { name: 'cluster key is a directory', damage: (d) => (rmSync(path.join(d, 'cluster.key')), mkdirSync(path.join(d, 'cluster.key')), 'cluster.key'), stderr: /cluster key file \S*cluster\.key: cannot read .*EISDIR/ },
  {
    name: 'cluster key unreadable',
    damage: (d) => (chmodSync(path.join(d, 'cluster.key'), 0), 'cluster.key'),
    stderr: /cluster\.key: cannot read .*EACCES/,
    unprivileged: true,
  },
  { name: '--key-file is a directory', damage: (d) => (mkdirSync(path.join(d, 'keys')), 'cluster.key'), extra: (d) => ['--key-file', path.join(d, 'keys')], stderr: /cluster key file \S*keys: cannot read .*EISDIR/ },
  { name: 'admin token empty', damage: (d) => (writeFileSync(path.join(d, 'admin.token'), ''), 'admin.token'), stderr: /admin token file \S*admin\.token is corrupted/ },
  { name: 'admin token is binary garbage', damage: (d) => (writeFileSync(path.join(d, 'admin.token'), garbage(64, 2)), 'admin.token'), stderr: /admin token file \S*admin\.token is corrupted/ },
  { name: 'admin token is a directory', damage: (d) => (rmSync(path.join(d, 'admin.token')), mkdirSync(path.join(d, 'admin.token')), 'admin.token'), stderr: /cannot read \S*admin\.token \(EISDIR/ },
  // Was a stack trace (EISDIR from readFileSync in files.lockPid).
  { name: 'PID lock is a directory', damage: (d) => (mkdirSync(path.join(d, 'node.pid')), 'cluster.key'), stderr: /lock \S*node\.pid is not a file/ },
  { name: 'data directory is a file', damage: (d) => (rmSync(d, { recursive: true }), writeFileSync(d, garbage(10, 3)), '.'), stderr: /cannot create directory \S+ \(EEXIST: file already exists/ },
  // Was a stack trace from lmdb's open.
  { name: 'db is a file', damage: (d) => (rmSync(path.join(d, 'db'), { recursive: true }), writeFileSync(path.join(d, 'db'), garbage(100, 4)), 'db'), stderr: /storage path \S*db is not a directory/ },
  { name: 'data.mdb is a directory', damage: (d) => (rmSync(path.join(d, 'db', 'data.mdb')), mkdirSync(path.join(d, 'db', 'data.mdb')), 'cluster.key'), stderr: /storage file \S*data\.mdb is not a file/ },
  // Was a node that started with no data: a new identity and a new ring over the old data.
  { name: 'data.mdb truncated to 0 bytes', damage: (d) => (truncateSync(path.join(d, 'db', 'data.mdb'), 0), 'db/data.mdb'), stderr: /storage file \S*data\.mdb is empty \(0 bytes\)/ },
  // Was SIGBUS (status 135, no message).
  { name: 'data.mdb truncated to half', damage: (d) => (truncateSync(path.join(d, 'db', 'data.mdb'), statSync(path.join(d, 'db', 'data.mdb')).size / 2), 'db/data.mdb'), stderr: /storage file \S*data\.mdb is (truncated|damaged or truncated)/ },
  { name: 'data.mdb shorter than its two meta pages', damage: (d) => (truncateSync(path.join(d, 'db', 'data.mdb'), 5000), 'db/data.mdb'), stderr: /storage file \S*data\.mdb is truncated \(5000 bytes, shorter than its two meta pages\)/ },
  // Was SIGSEGV (status 139, no message).
  { name: 'data.mdb header overwritten', damage: (d) => (overwrite(path.join(d, 'db', 'data.mdb'), 0, garbage(200, 5)), 'db/data.mdb'), stderr: /storage file \S*data\.mdb is not an LMDB data file/ },
  { name: 'data.mdb replaced by garbage', damage: (d) => (writeFileSync(path.join(d, 'db', 'data.mdb'), garbage(40_000, 6)), 'db/data.mdb'), stderr: /storage file \S*data\.mdb is not an LMDB data file/ },
];

t.test('damaged files: a clear refusal, no stack trace, the damage left as it was', async (t) => {
  for (const c of refusals) {
    await t.test(c.name, async (t) => {
      const data = copyTemplate(t);
      const kept = c.damage(data);
      const target = kept === '.' ? data : path.join(data, kept);
      const before = snapshot(target);
      const user = c.unprivileged && isRoot ? nobody : undefined;
      if (user) handTo(data, user);
      const run = await runNode(data, undefined, c.extra?.(data) ?? [], user);
      t.equal(run.up, false, 'the node did not start');
      t.equal(run.code, 1, `exit status 1 (stderr: ${run.stderr})`);
      t.equal(run.signal, null, 'not killed by a signal');
      t.match(run.stderr, c.stderr, 'the line names the file and what is wrong');
      t.equal(run.stderr.trim().split('\n').length, 1, 'one line');
      t.notMatch(run.stderr, /\n\s+at |unexpected error/, 'no stack trace');
      t.same(snapshot(target), before, `${kept} is unchanged`);
    });
  }
});

const same = (k: Key, want: readonly (string | number)[]): boolean => (Array.isArray(k) ? k : [k]).join('\u0000') === want.join('\u0000');

interface RecordCase {
  name: string;
  store: string;
  key: (k: Key) => boolean;
  bytes: Buffer;
  stderr: RegExp;
}

const undecodable = Buffer.from('garbage!!');
const recordRefusals: RecordCase[] = [
  // Were stack traces (msgpackr's "Data read, but end of buffer not reached", exit 70).
  { name: 'identity record undecodable', store: 'node', key: (k) => same(k, ['identity']), bytes: undecodable, stderr: /storage \S*db: the node's identity record is damaged \(record \["identity"\] of store node in \S*db is damaged/ },
  { name: 'identity record of the wrong shape', store: 'node', key: (k) => same(k, ['identity']), bytes: Buffer.from([0xc0]), stderr: /the node's identity record is not valid/ },
  { name: 'stored ring undecodable', store: 'ring.cluster', key: (k) => same(k, ['ring']), bytes: undecodable, stderr: /record \["ring"\] of store ring\.cluster in \S*db is damaged/ },
  { name: 'stored ring of the wrong shape', store: 'ring.cluster', key: (k) => same(k, ['ring']), bytes: Buffer.from([0x2a]), stderr: /the stored ring \(store ring\.cluster, key \["ring"\]\) is not valid/ },
];

t.test('damaged records the node reads at start: a clear refusal, the record left as it was', async (t) => {
  for (const c of recordRefusals) {
    await t.test(c.name, async (t) => {
      const data = copyTemplate(t);
      const db = path.join(data, 'db');
      const key = await damageStoredValue(db, c.store, c.key, c.bytes);
      const run = await runNode(data);
      t.equal(run.up, false);
      t.equal(run.code, 1, `exit status 1 (stderr: ${run.stderr})`);
      t.match(run.stderr, c.stderr);
      t.notMatch(run.stderr, /\n\s+at |unexpected error/, 'no stack trace');
      t.same(storedBytes(db, c.store, key), c.bytes, 'the damaged record is still there');
    });
  }
});

t.test('a stored ring whose transfer state is malformed: a clear refusal (it cannot be rebuilt), the record left as it was', async (t) => {
  const data = copyTemplate(t);
  const db = path.join(data, 'db');
  // Written through the storage layer (a sound LMDB value of the wrong shape), not as raw damage.
  let storage = await openLmdbStorage(db);
  const saved = storage.store<unknown>('ring.cluster').get(['ring']) as Record<string, unknown>;
  const bad = { ...saved, transfers: { ...(saved['transfers'] as object), transfers: 'lost' } };
  await storage.store<unknown>('ring.cluster').put(['ring'], bad);
  await storage.close();
  const run = await runNode(data);
  t.equal(run.up, false, 'the node did not start');
  t.equal(run.code, 1, `exit status 1 (stderr: ${run.stderr})`);
  t.match(run.stderr, /the stored transfer state \(store ring\.cluster, key \["ring"\]\) is not valid: a transfer state needs transfers and done lists/);
  t.equal(run.stderr.trim().split('\n').length, 1, 'one line');
  t.notMatch(run.stderr, /\n\s+at |unexpected error/, 'no stack trace');
  storage = await openLmdbStorage(db);
  t.same(storage.store<unknown>('ring.cluster').get(['ring']), bad, 'the record is left as it was');
  await storage.close();
});

t.test('recoveries: a damaged lock is taken over, LMDB rebuilds its lock file; the data is intact', async (t) => {
  const cases: [string, (d: string) => void][] = [
    ['PID lock holds garbage', (d) => writeFileSync(path.join(d, 'node.pid'), garbage(50, 7))],
    ['PID lock is empty', (d) => writeFileSync(path.join(d, 'node.pid'), '')],
    ['lock.mdb is garbage', (d) => writeFileSync(path.join(d, 'db', 'lock.mdb'), garbage(8272, 8))],
  ];
  for (const [name, damage] of cases) {
    await t.test(name, async (t) => {
      const data = copyTemplate(t);
      damage(data);
      let got: unknown;
      const run = await runNode(data, async (http) => {
        const res = await fetch(`http://${http}/api/v1/db/scratch/k1`, { headers: { authorization: `Bearer ${tokenOf(data)}` } });
        got = await res.json();
      });
      t.equal(run.up, true, run.stderr);
      t.equal(run.code, 0);
      t.same(got, { bucket: 'scratch', key: 'k1', value: { a: 1 } }, 'the record written before is still there');
    });
  }
});

/** Damage to a record in the ring, and what a GET of it must say. */
const ringDamage: [name: string, bytes: Buffer, get: RegExp][] = [
  ['undecodable', undecodable, /record \[\d+,\\"scratch\\",\\"k1\\"\] of store ring\.data in \S*db is damaged/],
  // These two decode (msgpack) but are no record; they were read as absent: a GET answered 404,
  // a PUT started from an empty record and overwrote them.
  ['a number where record bytes belong', Buffer.from([0x2a]), /record \[\d+,\\"scratch\\",\\"k1\\"\] of store ring\.data is damaged \(it holds a number, not a record\)/],
  ['bytes that are no record', Buffer.from([0xc4, 0x03, 1, 2, 3]), /the record of scratch\/k1 on node n1 is damaged \(not a valid json record\)/],
];

t.test('a damaged record in the ring: a clear error for that key, the node keeps serving, the bytes stay', async (t) => {
  for (const [name, bytes, getMessage] of ringDamage) {
    await t.test(name, async (t) => {
      const data = copyTemplate(t);
      const db = path.join(data, 'db');
      const key = await damageStoredValue(db, 'ring.data', (k) => Array.isArray(k) && k.length === 3 && k[1] === 'scratch' && k[2] === 'k1', bytes);
      const answers: Record<string, { status: number; body: string }> = {};
      const run = await runNode(data, async (http) => {
        const call = async (what: string, method: string, p: string, body?: string): Promise<void> => {
          const res = await fetch(`http://${http}${p}`, { method, headers: { authorization: `Bearer ${tokenOf(data)}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body } : {}) });
          answers[what] = { status: res.status, body: await res.text() };
        };
        await call('get', 'GET', '/api/v1/db/scratch/k1');
        await call('put', 'PUT', '/api/v1/db/scratch/k1', '{"a":2}');
        await call('other', 'PUT', '/api/v1/db/scratch/k2', '{"b":1}');
        await call('list', 'GET', '/api/v1/db/scratch?values=true');
        await call('health', 'GET', '/api/v1/health');
      });
      t.equal(run.up, true, run.stderr);
      t.equal(run.code, 0, `the node stopped cleanly (stderr: ${run.stderr})`);
      t.equal(answers['health']?.status, 200, 'the node still serves');
      t.equal(answers['other']?.status, 200, 'other keys still work');
      t.equal(answers['get']?.status, 503, 'the damaged key is not answered as if it were fine (nor as absent)');
      t.match(answers['get']?.body, /damaged/, 'the error says the record is damaged');
      t.match(answers['get']?.body, getMessage, 'it names the record (and the storage, when the storage layer found it)');
      t.equal(answers['put']?.status, 503, 'a write does not replace the damaged record');
      t.match(answers['put']?.body, /record \[\d+,\\"scratch\\",\\"k1\\"\] of store ring\.data (in \S*db )?is damaged/);
      t.equal(answers['list']?.status, 200, 'a list skips it (it is logged) instead of timing out');
      t.match(JSON.parse(answers['list']?.body ?? '{}'), { items: [{ key: 'k2', value: { b: 1 } }] }, 'and goes on past it');
      t.same(storedBytes(db, 'ring.data', key), bytes, 'the damaged bytes are still there');
    });
  }
});
