/**
 * What every benchmark that starts processes needs, in one place: waiting, ending a child by its
 * PID (a graceful signal, then SIGKILL after a grace period), and a process's CPU time and
 * memory from /proc (Linux).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Ends `child` by its PID: `graceful`, then SIGKILL after `graceMs`; resolves once it exited. */
export async function endChild(child: ChildProcess, graceful: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
  if (exited(child) || child.pid === undefined) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(child.pid!, s);
    } catch {
      // Already gone (ESRCH): its 'exit' event settles `done`.
    }
  };
  signal(graceful);
  await Promise.race([done, sleep(graceMs)]);
  if (!exited(child)) {
    signal('SIGKILL');
    await done;
  }
}

const clockTicks = 100; // USER_HZ (getconf CLK_TCK) on Linux

export interface ProcUsage {
  /** CPU time used so far, seconds (user + system, all threads). */
  readonly cpuSec: number;
  /** Resident memory, bytes (VmRSS). */
  readonly rssBytes: number;
  /** Process-private resident memory, KiB (RssAnon). */
  readonly anonKiB: number;
  /** File-backed resident memory, KiB (RssFile: e.g. LMDB's map). */
  readonly fileKiB: number;
}

/** A process's usage from /proc/PID/{stat,status}; NaN fields once it is gone. */
export function procUsage(pid: number): ProcUsage {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): utime, stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { cpuSec: (Number(fields[11]) + Number(fields[12])) / clockTicks, rssBytes: kib('VmRSS') * 1024, anonKiB: kib('RssAnon'), fileKiB: kib('RssFile') };
  } catch {
    return { cpuSec: NaN, rssBytes: NaN, anonKiB: NaN, fileKiB: NaN };
  }
}

/** The whole machine's CPU time so far, seconds: busy (everything but idle and iowait) and in all; and its core count. */
export function machineCpu(): { busySec: number; allSec: number; cores: number } {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const all = lines[0]!.split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
  const total = all.reduce((a, b) => a + b, 0);
  return { busySec: (total - all[3]! - all[4]!) / clockTicks, allSec: total / clockTicks, cores: lines.filter((l) => /^cpu\d/.test(l)).length };
}
