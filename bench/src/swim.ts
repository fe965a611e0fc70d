/**
 * `npm run bench -- swim [--quick] [--sizes 5,10,20,50] [--reps 3] [--kills 3] [--node-flags "F …"] [--no-serf]`:
 * Shoal's SWIM processes
 * beside HashiCorp Serf agents (Debian package `serf`, installed with apt-get if missing) on
 * 127.0.0.1, the same timings on both sides (Serf's `-profile=lan` is memberlist's LAN config,
 * which is Shoal's `lan` preset) and both encrypting with AES-256-GCM.
 *
 * Per cluster size N, for each system in turn (never both at once), `reps` repetitions of:
 * - cold start, spawned: the seed agent is up; N − 1 agents are spawned at once, each joining the
 *   seed; time from the spawn until every agent lists N alive (includes process start-up);
 * - cold start, joined: N agents already up and alone; each is told to join the seed at once
 *   (Shoal: `join` on stdin; Serf: RPC `join`); time until every agent lists N alive;
 * - kill -9 of one member, after 5 s of quiet; time until every other lists it failed (Shoal: dead);
 *   `kills` times per repetition (3; 1 with --quick), each 3 s after the previous victim was
 *   seen failed, so the median has reps × kills samples;
 * - graceful leave of one member; time until every other lists it left;
 * - one new member, already up, told to join; time until every agent lists it alive;
 * - the start-up floor (Shoal's side only): N − 1 bare Node processes with the members' flags,
 *   spawned at once, each binding a UDP socket; time until all are ready. What any Node.js member
 *   pays on these cores before its first packet, beside Serf's whole cold start;
 * - idle, in the first repetition: CPU per member over `idleMs` after 5 s of quiet (from
 *   /proc/PID/stat) and resident memory (VmRSS), medians over the members.
 * States are polled every `pollMs` (50 ms; 100 ms at N = 50) from every agent: Shoal's
 * `members` command, Serf's RPC `members` (what `serf members -format json` prints), so a figure
 * is late by up to one poll on both sides alike. Reported: medians over the repetitions; a
 * condition not reached within 60 s counts as infinite (noted in the row).
 *
 * CPU placement: no pinning; every process (agents and this one) shares the machine's CPUs
 * (`nproc` is printed). Every process started is ended by its PID; the run checks none is left.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Keyring, formatKeyringFile } from '@shoal/wire';
import { sleep } from './procs.js';
import type { Row } from './report.js';
import { bareNodeReadyMs, serfAvailable, serfSystem, shoalSystem, type Agent, type AgentSystem, type State } from './swim-agents.js';

interface Figures {
  coldSpawnMs: number[];
  /** Shoal only: N − 1 bare Node processes spawned at once, until all are ready (the start-up floor). */
  bareSpawnMs: number[];
  coldJoinMs: number[];
  killMs: number[];
  leaveMs: number[];
  joinOneMs: number[];
  idleCpuPct: number[];
  idleRssMiB: number[];
}

const waitMaxMs = 60_000;
/** Quiet time after a cold start before the kill -9, so start-up work is not measured as detection. */
const settleMs = 5000;
/** Quiet time between two kills of one repetition (the previous victim is already seen failed by all). */
const killSettleMs = 3000;
/**
 * V8 flags of the Shoal members: `--lite-mode` (no optimizing compiler, smaller heap
 * reservations). A membership daemon handles tens of packets a second; it needs memory more than
 * peak speed. Measured here on idle 5-member clusters: RSS ≈ 50 MiB and 0.2 % CPU with it,
 * ≈ 59 MiB and 0.3 % with default flags, start-up about the same (0.14 vs 0.15 s of CPU).
 */
const defaultNodeFlags = ['--lite-mode'];

function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Polls every agent until `done(views)` holds; returns the ms since `t0`, or Infinity if it did
 * not hold within waitMaxMs (a member left behind: Serf does that at N = 50, see ANCHORS.md).
 */
async function until(agents: readonly Agent[], t0: number, pollMs: number, done: (views: (Map<string, State> | undefined)[]) => boolean): Promise<number> {
  for (;;) {
    const views = await Promise.all(agents.map((a) => a.members().catch(() => undefined)));
    const now = performance.now();
    if (done(views)) return now - t0;
    if (now - t0 > waitMaxMs) return Infinity;
    await sleep(pollMs);
  }
}

const allAlive = (names: readonly string[]) => (views: (Map<string, State> | undefined)[]) =>
  views.every((v) => v !== undefined && names.every((n) => v.get(n) === 'alive'));
const allSee = (name: string, state: State) => (views: (Map<string, State> | undefined)[]) => views.every((v) => v !== undefined && v.get(name) === state);

class Run {
  readonly agents: Agent[] = [];
  constructor(
    private readonly system: AgentSystem,
    private readonly basePort: number,
  ) {}

  name(i: number): string {
    return `${this.system.name}${i}`;
  }

  async start(i: number, seed?: string): Promise<Agent> {
    const a = await this.system.start(this.name(i), this.basePort + i, seed);
    this.agents.push(a);
    return a;
  }

  seedAddress(): string {
    return `127.0.0.1:${this.basePort}`;
  }

  async endAll(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.end()));
  }
}

async function idle(agents: readonly Agent[], idleMs: number): Promise<{ cpuPct: number; rssMiB: number }> {
  await sleep(5000);
  const before = agents.map((a) => a.usage());
  const t0 = performance.now();
  await sleep(idleMs);
  const dt = (performance.now() - t0) / 1000;
  const after = agents.map((a) => a.usage());
  const cpu = after.map((u, i) => ((u.cpuSec - (before[i] as { cpuSec: number }).cpuSec) / dt) * 100);
  return { cpuPct: median(cpu), rssMiB: median(after.map((u) => u.rssBytes / 1048576)) };
}

async function coldJoined(system: AgentSystem, n: number, basePort: number, pollMs: number): Promise<number> {
  const run = new Run(system, basePort);
  try {
    await Promise.all(Array.from({ length: n }, (_, i) => run.start(i)));
    const names = run.agents.map((a) => a.name);
    const t0 = performance.now();
    await Promise.all(run.agents.filter((a) => a.name !== run.name(0)).map((a) => a.join(run.seedAddress())));
    return await until(run.agents, t0, pollMs, allAlive(names));
  } finally {
    await run.endAll();
  }
}

async function lifecycle(system: AgentSystem, n: number, basePort: number, pollMs: number, f: Figures, idleMs: number, kills: number): Promise<void> {
  const run = new Run(system, basePort);
  try {
    await run.start(0);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n - 1 }, (_, i) => run.start(i + 1, run.seedAddress())));
    const names = Array.from({ length: n }, (_, i) => run.name(i));
    f.coldSpawnMs.push(await until(run.agents, t0, pollMs, allAlive(names)));
    if (idleMs > 0) {
      const u = await idle(run.agents, idleMs);
      f.idleCpuPct.push(u.cpuPct);
      f.idleRssMiB.push(u.rssMiB);
    } else {
      await sleep(settleMs); // failure detection is measured on a settled cluster, on both sides
    }
    // Several kills per repetition, each on the settled rest: the time to a victim's first failed
    // probe is luck of the probe order (SWIM's round robin, on both sides), so one sample per
    // repetition gives a noisy median.
    let live = [...run.agents];
    for (let k = 0; k < kills && live.length > 3; k++) {
      if (k > 0) await sleep(killSettleMs);
      const victim = live[live.length - 1] as Agent;
      live = live.filter((a) => a !== victim);
      const tKill = performance.now();
      victim.kill();
      f.killMs.push(await until(live, tKill, pollMs, allSee(victim.name, 'failed')));
    }
    const leaver = live[live.length - 1] as Agent;
    live = live.filter((a) => a !== leaver);
    const tLeave = performance.now();
    const leaving = leaver.leave();
    f.leaveMs.push(await until(live, tLeave, pollMs, allSee(leaver.name, 'left')));
    await leaving;
    const fresh = await run.start(n);
    const tJoin = performance.now();
    await fresh.join(run.seedAddress());
    f.joinOneMs.push(await until([...live, fresh], tJoin, pollMs, allSee(fresh.name, 'alive')));
  } finally {
    await run.endAll();
  }
}

function ensureSerf(progress: (msg: string) => void): string | undefined {
  const have = serfAvailable();
  if (have) return have;
  progress('serf not found: apt-get update && apt-get install -y serf');
  try {
    execFileSync('apt-get', ['update'], { stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', 'serf'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (err) {
    progress(`could not install serf: ${err instanceof Error ? err.message : String(err)}`);
  }
  return serfAvailable();
}

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `nodeFlags`: for Shoal, the members' Node flags, so each repetition also measures the start-up floor. */
async function measure(system: AgentSystem, n: number, reps: number, kills: number, idleMs: number, portBase: number, progress: (m: string) => void, nodeFlags?: readonly string[]): Promise<Figures> {
  const f: Figures = { coldSpawnMs: [], bareSpawnMs: [], coldJoinMs: [], killMs: [], leaveMs: [], joinOneMs: [], idleCpuPct: [], idleRssMiB: [] };
  const pollMs = n >= 50 ? 100 : 50;
  for (let r = 0; r < reps; r++) {
    const base = portBase + (r % 4) * 120;
    const killsBefore = f.killMs.length;
    await lifecycle(system, n, base, pollMs, f, r === 0 ? idleMs : 0, kills);
    f.coldJoinMs.push(await coldJoined(system, n, base + 60, pollMs));
    if (nodeFlags) f.bareSpawnMs.push(await bareNodeReadyMs(n - 1, base + 60, nodeFlags));
    progress(`${system.name} N=${n} rep ${r + 1}/${reps}: spawn ${f.coldSpawnMs.at(-1)?.toFixed(0)} join ${f.coldJoinMs.at(-1)?.toFixed(0)} kill ${f.killMs.slice(killsBefore).map((x) => x.toFixed(0)).join('/')} leave ${f.leaveMs.at(-1)?.toFixed(0)} join-one ${f.joinOneMs.at(-1)?.toFixed(0)}${nodeFlags ? ` bare-node spawn ${f.bareSpawnMs.at(-1)?.toFixed(0)}` : ''} ms`);
  }
  return f;
}

export async function runSwim(opts: { args: string[]; progress(msg: string): void }): Promise<Row[]> {
  const { args, progress } = opts;
  const quick = args.includes('--quick');
  const sizes = (option(args, '--sizes') ?? (quick ? '5,10' : '5,10,20,50')).split(',').map(Number);
  const reps = Number(option(args, '--reps') ?? (quick ? 1 : 3));
  const kills = Number(option(args, '--kills') ?? (quick ? 1 : 3));
  const idleMs = quick ? 5000 : 15_000;
  // --node-flags "" runs the members with Node's defaults; --no-serf measures Shoal alone (experiments).
  const flagsArg = option(args, '--node-flags');
  const shoalNodeFlags = flagsArg === undefined ? defaultNodeFlags : flagsArg.split(' ').filter((f) => f !== '');
  const serfVersion = args.includes('--no-serf') ? undefined : ensureSerf(progress);
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-bench-swim-'));
  const key = randomBytes(32);
  const keyFile = path.join(dir, 'cluster.key');
  writeFileSync(keyFile, formatKeyringFile(new Keyring([key])));
  progress(`${cpus().length} CPUs, no pinning; ${serfVersion ?? 'serf unavailable'}; node ${process.version} ${shoalNodeFlags.join(' ')}`);
  const rows: Row[] = [];
  try {
    for (const n of sizes) {
      const shoal = await measure(shoalSystem(keyFile, shoalNodeFlags), n, reps, kills, idleMs, 24_000, progress, shoalNodeFlags);
      const serf = serfVersion ? await measure(serfSystem(key.toString('base64')), n, reps, kills, idleMs, 30_000, progress) : undefined;
      rows.push(...rowsFor(n, shoal, serf, serfVersion ?? 'serf (unavailable)'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function rowsFor(n: number, shoal: Figures, serf: Figures | undefined, serfName: string): Row[] {
  const base = serfName.replace(/^Serf /, 'serf ');
  const s = (xs: number[] | undefined): number | null => (xs && xs.length > 0 ? median(xs) / 1000 : null);
  const row = (metric: string, value: number, baselineValue: number | null, unit: string, target: string, note = ''): Row => ({
    bench: 'swim',
    metric: `N=${n} ${metric}`,
    value,
    unit,
    baseline: base,
    baseline_value: baselineValue,
    target,
    note,
  });
  const range = (xs: number[]): string => `${(Math.min(...xs) / 1000).toFixed(2)}–${Number.isFinite(Math.max(...xs)) ? (Math.max(...xs) / 1000).toFixed(2) : '>60'} s`;
  const stuck = (xs: number[] | undefined): number => (xs ?? []).filter((x) => !Number.isFinite(x)).length;
  const noteOf = (xs: number[], other?: number[]): string => {
    const parts = xs.length > 1 ? [`shoal ${range(xs)}`] : [];
    if (other && other.length > 1) parts.push(`serf ${range(other)}`);
    const left = [stuck(xs) > 0 ? `shoal ${stuck(xs)}/${xs.length}` : '', stuck(other) > 0 ? `serf ${stuck(other)}/${other?.length}` : ''].filter((x) => x !== '');
    if (left.length > 0) parts.push(`not converged in 60 s: ${left.join(', ')}`);
    return parts.join('; ');
  };
  return [
    row('cold start (spawn), all see all', median(shoal.coldSpawnMs) / 1000, s(serf?.coldSpawnMs), 's', '<= serf', noteOf(shoal.coldSpawnMs, serf?.coldSpawnMs)),
    row('start-up floor: N-1 bare Node processes spawned, all ready', median(shoal.bareSpawnMs) / 1000, s(serf?.coldSpawnMs), 's', '-', `baseline: serf's whole spawned cold start; the floor is ${((median(shoal.bareSpawnMs) / median(shoal.coldSpawnMs)) * 100).toFixed(0)} % of shoal's${shoal.bareSpawnMs.length > 1 ? `; floor ${range(shoal.bareSpawnMs)}` : ''}`),
    row('cold start (join cmd), all see all', median(shoal.coldJoinMs) / 1000, s(serf?.coldJoinMs), 's', '<= serf', noteOf(shoal.coldJoinMs, serf?.coldJoinMs)),
    row('kill -9, all see failed', median(shoal.killMs) / 1000, s(serf?.killMs), 's', '<= serf', noteOf(shoal.killMs, serf?.killMs)),
    row('graceful leave, all see left', median(shoal.leaveMs) / 1000, s(serf?.leaveMs), 's', '<= serf', noteOf(shoal.leaveMs, serf?.leaveMs)),
    row('join one, all see it', median(shoal.joinOneMs) / 1000, s(serf?.joinOneMs), 's', '<= serf', noteOf(shoal.joinOneMs, serf?.joinOneMs)),
    row('idle CPU per member', median(shoal.idleCpuPct), serf ? median(serf.idleCpuPct) : null, '%', '<= 1'),
    row('idle RSS per member', median(shoal.idleRssMiB), serf ? median(serf.idleRssMiB) : null, 'MiB', '<= 60'),
  ];
}
