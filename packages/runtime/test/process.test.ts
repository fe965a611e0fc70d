/**
 * The process runner: exit codes are results, not errors; stdin, env and cwd reach the child;
 * deadlines, aborts and output limits stop the child and settle with a named error; a command
 * that does not exist is a CommandStartError; long-running children are ended by PID.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CommandAbortedError,
  CommandOutputError,
  CommandStartError,
  CommandTimeoutError,
  killPid,
  pidAlive,
  runCommand,
  spawnProcess,
} from '@shoal/runtime';

const node = process.execPath;

t.test('exit code, stdout and stderr come back; a non-zero exit is a result', async (t) => {
  const r = await runCommand(node, ['-e', 'process.stdout.write("out"); process.stderr.write("err"); process.exit(3)']);
  t.equal(r.code, 3);
  t.equal(r.signal, null);
  t.equal(r.stdout, 'out');
  t.equal(r.stderr, 'err');
  t.ok(r.durationMs >= 0);
});

t.test('stdin is written and closed; env is overlaid; cwd is used', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-proc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify({s,x:process.env.SHOAL_X,home:process.env.HOME===undefined,cwd:process.cwd()})))';
  const r = await runCommand(node, ['-e', script], { stdin: '{"a":1}', env: { SHOAL_X: 'y', HOME: undefined }, cwd: dir });
  const got = JSON.parse(r.stdout) as { s: string; x: string; home: boolean; cwd: string };
  t.same(got, { s: '{"a":1}', x: 'y', home: true, cwd: dir });
  t.equal(r.code, 0);
});

t.test('a child that ignores its stdin does not make the call fail', async (t) => {
  const r = await runCommand(node, ['-e', 'process.exit(0)'], { stdin: 'x'.repeat(1024 * 1024) });
  t.equal(r.code, 0);
});

t.test('a command that does not exist is a CommandStartError with its code', async (t) => {
  const err = await runCommand('/nonexistent/shoal-no-such-command', []).catch((e: unknown) => e);
  t.type(err, CommandStartError);
  t.equal((err as CommandStartError).code, 'ENOENT');
  t.match((err as Error).message, /not found/);
});

t.test('a command that is not executable is a CommandStartError', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-proc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'plain');
  writeFileSync(file, 'echo hi\n');
  chmodSync(file, 0o600);
  const err = await runCommand(file, []).catch((e: unknown) => e);
  t.type(err, CommandStartError);
  t.equal((err as CommandStartError).code, 'EACCES');
});

t.test('past its deadline a command is stopped: CommandTimeoutError, child gone', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-proc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = path.join(dir, 'pid');
  const err = await runCommand(node, ['-e', `require("node:fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`], { timeoutMs: 300 }).catch((e: unknown) => e);
  t.type(err, CommandTimeoutError);
  t.notOk(pidAlive(Number(readFileSync(pidFile, 'utf8'))), 'the child is gone when the call settles');
});

t.test('a child that ignores SIGTERM is killed after the grace period', async (t) => {
  const err = await runCommand(node, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], { timeoutMs: 300, killGraceMs: 200 }).catch((e: unknown) => e);
  t.type(err, CommandTimeoutError);
});

t.test('abort stops the command; an already aborted signal starts nothing', async (t) => {
  const ac = new AbortController();
  const p = runCommand(node, ['-e', 'setInterval(() => {}, 1000)'], { signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  t.type(await p.catch((e: unknown) => e), CommandAbortedError);
  t.type(await runCommand(node, ['-e', '1'], { signal: ac.signal }).catch((e: unknown) => e), CommandAbortedError);
});

t.test('output over its limit stops the command: CommandOutputError', async (t) => {
  const err = await runCommand(node, ['-e', 'const b = "x".repeat(65536); for (;;) process.stdout.write(b)'], { stdoutBytesMax: 100_000 }).catch((e: unknown) => e);
  t.type(err, CommandOutputError);
  const errs = await runCommand(node, ['-e', 'process.stderr.write("y".repeat(5000))'], { stderrBytesMax: 1000 }).catch((e: unknown) => e);
  t.type(errs, CommandOutputError);
});

t.test('spawnProcess: a long-running child with a PID, output by lines, ended by PID', async (t) => {
  const lines: string[] = [];
  const child = await spawnProcess(node, ['-e', 'console.log("ready"); console.error("warn"); setInterval(() => {}, 1000)'], {
    output: 'lines',
    onLine: (line, stream) => lines.push(`${stream}:${line}`),
  });
  t.ok(child.pid > 0);
  t.ok(child.running());
  t.ok(pidAlive(child.pid));
  for (let i = 0; i < 100 && lines.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  t.same(lines.sort(), ['stderr:warn', 'stdout:ready']);
  t.ok(child.kill('SIGKILL'));
  const exit = await child.exited;
  t.equal(exit.signal, 'SIGKILL');
  t.notOk(child.running());
  t.notOk(child.kill(), 'killing a child that is gone answers false');
  t.notOk(killPid(child.pid, 0), 'no such PID any more');
});

t.test('spawnProcess: a child holding the stdin pipe sees it close when we close it', async (t) => {
  const child = await spawnProcess(node, ['-e', 'process.stdin.on("end", () => process.exit(7)); process.stdin.resume()'], { stdinPipe: true, output: 'ignore' });
  t.ok(child.running());
  child.closeStdin();
  const exit = await child.exited;
  t.equal(exit.code, 7, 'the child saw its stdin close and exited');
});

t.test('spawnProcess of a missing command rejects with CommandStartError', async (t) => {
  t.type(await spawnProcess('/nonexistent/shoal-no-such-command', []).catch((e: unknown) => e), CommandStartError);
});
