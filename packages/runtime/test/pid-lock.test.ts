// The PID lock of a data directory (files.lockPid), with real processes racing for it: exactly
// one wins, whether the lock is free or left stale (a dead PID, empty, garbage) by a crash;
// the others are refused with one sentence; the winner's lock holds its PID from the first
// moment it exists.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { files } from '@shoal/runtime';

const runtimeIndex = fileURLToPath(new URL('../src/index.js', import.meta.url));

/** A process that takes the lock, says whether it did, keeps it `holdMs`, then releases it. */
function contender(lock: string, holdMs: number): Promise<string> {
  const script = `
    const { files } = await import(${JSON.stringify(runtimeIndex)});
    let release;
    try { release = files.lockPid(${JSON.stringify(lock)}); } catch (err) { process.stdout.write('refused: ' + err.message + '\\n'); process.exit(0); }
    process.stdout.write('won ' + require('node:fs').readFileSync(${JSON.stringify(lock)}, 'utf8').trim() + ' ' + process.pid + '\\n');
    setTimeout(() => { release(); process.exit(0); }, ${holdMs});
  `.replace('require(\'node:fs\')', '(await import("node:fs"))');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`contender exited ${code}: ${err}`));
      else resolve(out.trim());
    });
  });
}

const stale: [string, string | undefined][] = [
  ['no lock', undefined],
  ['a dead PID', '999999999\n'],
  ['an empty lock', ''],
  ['garbage', 'x\u0000y'],
];

t.test('processes racing for one lock: exactly one wins, the others are refused', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-pid-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [what, content] of stale) {
    for (let round = 0; round < 3; round++) {
      const lock = path.join(dir, `node-${what.replace(/ /g, '-')}-${round}.pid`);
      if (content !== undefined) writeFileSync(lock, content);
      const answers = await Promise.all(Array.from({ length: 4 }, () => contender(lock, 400)));
      const won = answers.filter((a) => a.startsWith('won'));
      t.equal(won.length, 1, `${what}, round ${round}: one winner (${answers.join(' | ')})`);
      const [, inFile, pid] = (won[0] ?? '').split(' ');
      t.equal(inFile, pid, `${what}, round ${round}: the lock holds the winner's PID`);
      for (const a of answers.filter((x) => !x.startsWith('won'))) t.match(a, /^refused: \S+ is in use by another process \(pid \d+\); stop it or use another data directory$/, `${what}: refused in one sentence`);
      t.notOk(existsSync(lock), `${what}, round ${round}: released after`);
    }
  }
  t.same(readdirSync(dir), [], 'no temporary file or takeover mutex is left behind');
});

t.test('a takeover mutex left by a crash is cleared once it is old', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-pid-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lock = path.join(dir, 'node.pid');
  writeFileSync(lock, '999999999\n');
  const { mkdirSync, utimesSync } = await import('node:fs');
  mkdirSync(`${lock}.takeover`);
  const old = new Date(Date.now() - 60_000);
  utimesSync(`${lock}.takeover`, old, old);
  const release = files.lockPid(lock);
  t.equal(readFileSync(lock, 'utf8').trim(), String(process.pid), 'the stale lock is taken over');
  release();
  t.same(readdirSync(dir), [], 'nothing left behind');
});

t.test('a fresh takeover mutex (another process inside it) makes the caller wait, not fail', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-pid-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lock = path.join(dir, 'node.pid');
  writeFileSync(lock, '999999999\n');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(`${lock}.takeover`);
  t.throws(() => files.lockPid(lock), { name: 'FileError', message: /other processes keep taking it over/ }, 'a mutex that stays held is reported, after a bounded wait');
  t.equal(readFileSync(lock, 'utf8'), '999999999\n', 'the lock is untouched while another process is taking it over');
});
