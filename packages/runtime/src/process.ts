/**
 * Processes: the only module in Shoal that starts child processes (`node:child_process`).
 *
 * Two shapes, because callers need two different things:
 * - `runCommand(cmd, args, opts)` runs a short command to completion and answers
 *   `{ code, signal, stdout, stderr, durationMs }`. A non-zero exit is *not* an error here: the
 *   caller knows what the command's exit codes mean (vmadm's, imgadm's). Errors are only what
 *   the caller cannot interpret: the command could not be started (`CommandStartError`), ran
 *   past its deadline (`CommandTimeoutError`), was aborted (`CommandAbortedError`), or wrote
 *   more than it is allowed to (`CommandOutputError`). In the last three cases the child is
 *   killed (SIGTERM, then SIGKILL after `killGraceMs`) and the promise settles once it exited,
 *   so no command outlives its call.
 * - `spawnProcess(cmd, args, opts)` starts a long-running child and hands back its PID, an
 *   `exited` promise and `kill(signal)`: for processes that live beside their parent
 *   (`shoal node start --sim-agents K`, benchmark peers), which the parent ends by PID.
 *
 * Limits (STYLE habit 6): output is capped per stream (`stdoutBytesMax` 4 MiB, `stderrBytesMax`
 * 1 MiB by default), every command has a deadline (`timeoutMs`, default 60 s), and lines handed
 * to `onLine` are cut at `lineBytesMax` (64 KiB). The environment is the parent's, overlaid with
 * `env` (a key set to `undefined` is removed), so PATH is inherited unless a caller replaces it.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export class CommandStartError extends Error {
  override name = 'CommandStartError';
  constructor(
    message: string,
    /** The system error code (`ENOENT`, `EACCES`, …) when there is one. */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export class CommandTimeoutError extends Error {
  override name = 'CommandTimeoutError';
}

export class CommandAbortedError extends Error {
  override name = 'CommandAbortedError';
}

export class CommandOutputError extends Error {
  override name = 'CommandOutputError';
}

export interface CommandOptions {
  /** Written to the child's stdin, which is then closed. Without it stdin is empty. */
  stdin?: string | Uint8Array;
  /** Overlaid on the parent's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Deadline for the whole command, ms. Default 60 000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bytes of stdout kept before the command is killed. Default 4 MiB. */
  stdoutBytesMax?: number;
  /** Bytes of stderr kept before the command is killed. Default 1 MiB. */
  stderrBytesMax?: number;
  /** Between SIGTERM and SIGKILL when the command must be stopped, ms. Default 2 000. */
  killGraceMs?: number;
}

export interface CommandResult {
  /** Exit status, or null when the child was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export const commandDefaults = {
  timeoutMs: 60_000,
  stdoutBytesMax: 4 * 1024 * 1024,
  stderrBytesMax: 1024 * 1024,
  killGraceMs: 2_000,
  lineBytesMax: 64 * 1024,
} as const;

function childEnv(overlay: Record<string, string | undefined> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(overlay ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function describeStartError(cmd: string, err: NodeJS.ErrnoException): CommandStartError {
  const why = err.code === 'ENOENT' ? 'not found (is it installed and on PATH?)' : err.code === 'EACCES' ? 'not executable (permission denied)' : err.message;
  return new CommandStartError(`cannot run ${cmd}: ${why}`, err.code);
}

/** Collects one output stream up to a byte limit; calls `over` once when the limit is passed. */
class Collector {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  overflowed = false;

  constructor(
    private readonly bytesMax: number,
    private readonly over: () => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.overflowed) return;
    this.bytes += chunk.length;
    if (this.bytes > this.bytesMax) {
      this.overflowed = true;
      this.over();
      return;
    }
    this.chunks.push(chunk);
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** SIGTERM now, SIGKILL after `graceMs` if the child is still there. */
function terminate(child: ChildProcess, graceMs: number): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, graceMs);
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
}

/** Runs `cmd args…` to completion; see the module header for what is and is not an error. */
export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? commandDefaults.timeoutMs;
  const graceMs = opts.killGraceMs ?? commandDefaults.killGraceMs;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new CommandAbortedError(`${cmd} was not started: aborted`));
      return;
    }
    let failure: Error | undefined;
    let child: ChildProcess;
    const stop = (err: Error): void => {
      failure ??= err;
      terminate(child, graceMs);
    };
    try {
      child = spawn(cmd, [...args], { env: childEnv(opts.env), cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      reject(describeStartError(cmd, err as NodeJS.ErrnoException));
      return;
    }
    const out = new Collector(opts.stdoutBytesMax ?? commandDefaults.stdoutBytesMax, () => stop(new CommandOutputError(`${cmd} wrote more than ${opts.stdoutBytesMax ?? commandDefaults.stdoutBytesMax} bytes on stdout; stopped`)));
    const errs = new Collector(opts.stderrBytesMax ?? commandDefaults.stderrBytesMax, () => stop(new CommandOutputError(`${cmd} wrote more than ${opts.stderrBytesMax ?? commandDefaults.stderrBytesMax} bytes on stderr; stopped`)));
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => errs.push(c));
    // A child that exits without reading its stdin makes our write fail with EPIPE: not an error.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.stdin === undefined ? undefined : Buffer.from(opts.stdin));
    const timer = setTimeout(() => stop(new CommandTimeoutError(`${cmd} did not finish within ${timeoutMs} ms; stopped`)), timeoutMs);
    const onAbort = (): void => stop(new CommandAbortedError(`${cmd} was aborted`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err: NodeJS.ErrnoException) => {
      // Only a failure to start settles here; later errors (a failed kill) end in 'close'.
      if (child.pid !== undefined) return;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(describeStartError(cmd, err));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      resolve({ code, signal, stdout: out.text(), stderr: errs.text(), durationMs: performance.now() - started });
    });
  });
}

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /**
   * `inherit`: the child writes to our stdout/stderr; `ignore`: its output is dropped; `lines`:
   * each output line goes to `onLine` (cut at 64 KiB). Default `inherit`.
   */
  output?: 'inherit' | 'ignore' | 'lines';
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Keep a pipe on the child's stdin open for its lifetime. A child can watch it: the pipe
   * closes when this process dies, even by SIGKILL, so the child can stop with its parent.
   */
  stdinPipe?: boolean;
}

export interface ChildHandle {
  readonly pid: number;
  /** Settles once the child exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the child exited. */
  running(): boolean;
  /** Sends `signal` to the child's PID; false if it is already gone. */
  kill(signal?: NodeJS.Signals): boolean;
  /** Closes our end of the stdin pipe (`stdinPipe`): a child watching it stops. */
  closeStdin(): void;
}

function lineSplitter(emit: (line: string) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    if (pending.length > commandDefaults.lineBytesMax) {
      parts.push(pending.slice(0, commandDefaults.lineBytesMax));
      pending = '';
    }
    for (const line of parts) emit(line.length > commandDefaults.lineBytesMax ? line.slice(0, commandDefaults.lineBytesMax) : line);
  };
}

/**
 * Starts a long-running child. Resolves once it has a PID; rejects with CommandStartError if
 * it cannot be started.
 */
export function spawnProcess(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Promise<ChildHandle> {
  const output = opts.output ?? 'inherit';
  const stdio = ['ignore', 'ignore', 'ignore'] as ('ignore' | 'inherit' | 'pipe')[];
  stdio[0] = opts.stdinPipe ? 'pipe' : 'ignore';
  stdio[1] = stdio[2] = output === 'lines' ? 'pipe' : output;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { env: childEnv(opts.env), cwd: opts.cwd, stdio });
    let done = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
      child.once('exit', (code, signal) => {
        done = true;
        res({ code, signal });
      });
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) reject(describeStartError(cmd, err));
    });
    if (output === 'lines') {
      const onLine = opts.onLine ?? (() => undefined);
      child.stdout!.on('data', lineSplitter((l) => onLine(l, 'stdout')));
      child.stderr!.on('data', lineSplitter((l) => onLine(l, 'stderr')));
    }
    child.stdin?.on('error', () => undefined);
    child.once('spawn', () => {
      const pid = child.pid as number;
      resolve({
        pid,
        exited,
        running: () => !done,
        kill: (signal = 'SIGTERM') => (done ? false : killPid(pid, signal)),
        closeStdin: () => child.stdin?.end(),
      });
    });
  });
}

/** Sends `signal` to a process by PID; false when there is no such process. */
export function killPid(pid: number, signal: NodeJS.Signals | 0 = 'SIGTERM'): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** True while a process with this PID exists (ours or, with EPERM, someone else's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Calls `fn` once when this process's stdin closes (the parent that holds the pipe died or closed it). */
export function onStdinClosed(fn: () => void): void {
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    fn();
  };
  process.stdin.on('end', once);
  process.stdin.on('close', once);
  process.stdin.on('error', once);
  process.stdin.resume();
}
