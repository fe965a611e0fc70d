/**
 * `npm run bench -- agent [--quick]`: the hypervisor agent's memory ledger, through the cluster.
 *
 * Setup: this process is the core side — an actor system with the WebSocket transport and a SWIM
 * member of role `core` — and starts one agent as a child process (hypervisor-agent's standalone
 * entry, `sim` driver, its ledger on LMDB in a temp directory with the runtime's settings: a write
 * resolves when its transaction commits). The agent joins by SWIM, and 64 concurrent callers here
 * `query` its actor `['hypervisor', NAME]`:
 *
 * - grants: each caller reserves new VM ids (1 MB, 1 s lease, so the ledger holds a steady ~1 s
 *   of grants and its expiry deletes share the commits) back to back for `grantSeconds`;
 *   reported: reservations granted per second, p50, p99 and mean latency of one reserve round trip.
 * - contention: each caller reserves 8–32 GB, and when granted, releases it again, for
 *   `churnSeconds`, on a host whose free memory is far less than the 64 callers ask for (many
 *   refusals). The over-commit checker keeps, from the answers alone, the grants that are
 *   certainly live (granted and not yet being released) and checks at every answer that their sum
 *   stays within the host's capacity; at the end it asks the agent for its ledger and checks its
 *   sum too. Reported: violations (must be 0), grants/s and refusals under contention.
 * Grant figures are medians of `runs` runs (3; 1 with --quick), each metric separately.
 * Baselines, same run: the same 64-caller grant loop against a `DurableLedger` in this process
 * on LMDB (no transport: the ceiling of the agent's path), and the pure ledger core with no
 * storage at all.
 *
 * Every process started is ended by its PID (SIGTERM, then SIGKILL after 5 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ActorNet, start, systemOf, type ActorSystem } from '@shoal/actors';
import { AgentRequestError, DurableLedger, LedgerCore, agentMainPath, agentReservations, agentReservationsAll, agentReserve, askAgent } from '@shoal/hypervisor-agent';
import { nodeClock, nodeWorld, openLmdbStorage, seededRandom } from '@shoal/runtime';
import { SwimNode, swimConfig } from '@shoal/swim';
import { Keyring, formatKeyringFile, generateKey } from '@shoal/wire';
import type { BenchOptions } from './main.js';
import { endChild } from './procs.js';
import { percentile, type Row } from './report.js';

const callers = 64;
const agentName = 'bench-hv';
const hostMb = 1_048_576; // 1 TiB: room for every 1 MB grant of the grant phase
const reservedMb = 0;
/** Lease of the grant phase's reservations: short, so the ledger stays far below reservationsMax. */
const grantLeaseMs = 1_000;

function uuid(n: number, phase: number): string {
  return `${phase.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

interface AgentProc {
  child: ChildProcess;
  cluster: string;
  stop(): Promise<void>;
}

async function startAgentProcess(dir: string, keyFile: string, join: string): Promise<AgentProc> {
  const args = [agentMainPath, '--name', agentName, '--join', join, '--key-file', keyFile, '--data', path.join(dir, 'agent'), '--swim-preset', 'local', '--gossip-port', '0', '--cluster-port', '0', '--memory-mb', String(hostMb), '--reserved-mb', String(reservedMb), '--log-level', 'error', '--ready-line', '--watch-stdin'];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the agent exited with ${code} before it was ready`)));
  });
  const ready = JSON.parse(line) as { cluster: string };
  return {
    child,
    cluster: ready.cluster,
    stop: () => endChild(child),
  };
}

interface GrantFigures {
  perSecond: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  granted: number;
}

/** `callers` loops reserving fresh 1 MB grants for `seconds`. */
async function grantLoop(seconds: number, phase: number, reserve: (vmId: string) => Promise<boolean>): Promise<GrantFigures> {
  const latencies: number[] = [];
  let granted = 0;
  let next = 0;
  const until = performance.now() + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const t0 = performance.now();
      const ok = await reserve(uuid(next++, phase));
      latencies.push(performance.now() - t0);
      if (ok) granted++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: callers }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const meanMs = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  return { perSecond: granted / elapsed, meanMs, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), granted };
}

interface ChurnFigures {
  grantsPerSecond: number;
  refusedShare: number;
  violations: number;
  ledgerSumOk: boolean;
}

/** Reserve big, release when granted, from every caller, checking the certainly-live sum at every answer. */
async function churn(system: ActorSystem, seconds: number, baseLiveMb: number): Promise<ChurnFigures> {
  const random = seededRandom(7);
  const live = new Map<string, number>();
  let liveMb = baseLiveMb;
  let violations = 0;
  let granted = 0;
  let refused = 0;
  let next = 0;
  const until = performance.now() + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const vmId = uuid(next++, 2);
      const ramMb = (8 + random.int(25)) * 1024;
      const r = await agentReserve(system, agentName, { vmId, ramMb, leaseMs: 600_000 }, 10_000);
      if (!r.granted) {
        refused++;
        continue;
      }
      granted++;
      live.set(vmId, ramMb);
      liveMb += ramMb;
      if (liveMb > hostMb - reservedMb) violations++;
      // No longer counted on from the moment the release is sent.
      live.delete(vmId);
      liveMb -= ramMb;
      await askAgent(system, agentName, { type: 'agent.release', vmId }, 10_000);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: callers }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  const ledger = await agentReservationsAll(system, agentName, 30_000, 1_000);
  const sum = ledger.reservations.reduce((a, r) => a + r.ramMb, 0);
  const ledgerSumOk = sum <= hostMb - reservedMb && sum === ledger.memory.pendingMb + ledger.memory.provisionedMb;
  return { grantsPerSecond: granted / elapsed, refusedShare: refused / Math.max(1, granted + refused), violations, ledgerSumOk };
}

function medianFigures(runs: GrantFigures[]): GrantFigures {
  const med = (f: (g: GrantFigures) => number): number => {
    const xs = runs.map(f).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)]!;
  };
  return { perSecond: med((g) => g.perSecond), meanMs: med((g) => g.meanMs), p50Ms: med((g) => g.p50Ms), p99Ms: med((g) => g.p99Ms), granted: med((g) => g.granted) };
}

interface Durations {
  grant: number;
  churn: number;
  runs: number;
}

async function throughCluster(dir: string, opts: BenchOptions, seconds: Durations): Promise<{ grants: GrantFigures; churn: ChurnFigures }> {
  const keyring = new Keyring([generateKey(seededRandom(42))]);
  const keyFile = path.join(dir, 'cluster.key');
  writeFileSync(keyFile, formatKeyringFile(keyring), { mode: 0o600 });
  const world = nodeWorld({ logLevel: 'error', logWrite: () => undefined });
  const root = start({ name: 'bench-core', clock: world.clock, random: world.random, logger: world.logger });
  const system = systemOf(root);
  const net = new ActorNet(system, world, keyring, { cluster: 'shoal', listen: '127.0.0.1:0' });
  const cluster = await net.start();
  const swim = new SwimNode({ world, config: swimConfig('local'), name: 'bench-core', keyring, cluster: 'shoal', meta: { role: 'core', version: '0.1.0', addresses: { gossip: '127.0.0.1:0', cluster }, tags: {} } });
  await swim.start();
  const agent = await startAgentProcess(dir, keyFile, swim.address);
  try {
    net.setPeerAddress(agentName, agent.cluster);
    opts.progress(`agent up (pid ${agent.child.pid}); warming up`);
    const reserve = async (vmId: string): Promise<boolean> => (await agentReserve(system, agentName, { vmId, ramMb: 1, leaseMs: grantLeaseMs }, 10_000)).granted;
    await grantLoop(0.5, 0xff, reserve);
    const runs: GrantFigures[] = [];
    for (let run = 0; run < seconds.runs; run++) {
      opts.progress(`grants, run ${run + 1}/${seconds.runs}: ${callers} callers for ${seconds.grant} s`);
      runs.push(await grantLoop(seconds.grant, 0x10 + run, reserve));
    }
    const grants = medianFigures(runs);
    opts.progress(`contention: ${callers} callers for ${seconds.churn} s`);
    const held = await agentReservations(system, agentName, { limit: 1 }, 30_000);
    const c = await churn(system, seconds.churn, held.memory.pendingMb + held.memory.provisionedMb);
    return { grants, churn: c };
  } catch (err) {
    if (err instanceof AgentRequestError) throw new Error(`agent request failed: ${err.code}: ${err.message}`);
    throw err;
  } finally {
    await agent.stop();
    await swim.stop();
    await net.stop();
    system.stop();
  }
}

async function inProcess(dir: string, seconds: Durations, progress: (msg: string) => void): Promise<GrantFigures> {
  const runs: GrantFigures[] = [];
  for (let run = 0; run < seconds.runs; run++) {
    progress(`baseline: in-process ledger on LMDB, run ${run + 1}/${seconds.runs}: ${callers} callers for ${seconds.grant} s`);
    const storage = await openLmdbStorage(path.join(dir, `ledger-${run}`));
    const ledger = await DurableLedger.open({ storage, clock: nodeClock(), capacity: { totalMb: hostMb, reservedForHostMb: reservedMb } });
    try {
      const reserve = async (vmId: string): Promise<boolean> => (await ledger.reserve(vmId, 1, grantLeaseMs)).kind === 'granted';
      await grantLoop(0.5, 0xff, reserve);
      runs.push(await grantLoop(seconds.grant, 0x10, reserve));
    } finally {
      await ledger.close();
      await storage.close();
    }
  }
  return medianFigures(runs);
}

function pureCore(n: number): number {
  const core = new LedgerCore({ totalMb: hostMb, reservedForHostMb: 0 }, { reservationsMax: n + 1 });
  const ids = Array.from({ length: n }, (_, i) => uuid(i, 3));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) core.reserve(ids[i]!, 1, 600_000, 1_000);
  return n / ((performance.now() - t0) / 1000);
}

export async function runAgentBench(opts: BenchOptions): Promise<Row[]> {
  const quick = opts.args.includes('--quick');
  const seconds: Durations = { grant: quick ? 2 : 5, churn: quick ? 2 : 4, runs: quick ? 1 : 3 };
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-bench-agent-'));
  try {
    const cluster = await throughCluster(dir, opts, seconds);
    const local = await inProcess(dir, seconds, opts.progress);
    opts.progress('baseline: pure core');
    const core = pureCore(quick ? 100_000 : 200_000);
    const g = cluster.grants;
    const note = `${callers} concurrent callers, 1 MB grants with 1 s leases, LMDB with the runtime's defaults`;
    return [
      { bench: 'agent', metric: 'reservations granted through the cluster', value: g.perSecond, unit: 'grants/s', baseline: 'in-process ledger on LMDB (ceiling of the path)', baseline_value: local.perSecond, target: '>= 5000', note },
      { bench: 'agent', metric: 'reserve round trip p50', value: g.p50Ms, unit: 'ms', baseline: 'in-process ledger p50', baseline_value: local.p50Ms, note },
      { bench: 'agent', metric: 'reserve round trip p99', value: g.p99Ms, unit: 'ms', baseline: 'in-process ledger p99', baseline_value: local.p99Ms, note },
      { bench: 'agent', metric: 'reserve round trip mean', value: g.meanMs, unit: 'ms', baseline: 'in-process ledger mean', baseline_value: local.meanMs, note: "Little's law: callers / rate" },
      { bench: 'agent', metric: 'in-process ledger on LMDB', value: local.perSecond, unit: 'grants/s', baseline: 'pure core, no storage', baseline_value: core, note: 'what durability costs' },
      { bench: 'agent', metric: 'contention: grants (each released again)', value: cluster.churn.grantsPerSecond, unit: 'grants/s', baseline: '-', baseline_value: null, note: `8-32 GB asks, ${(cluster.churn.refusedShare * 100).toFixed(0)}% refused` },
      { bench: 'agent', metric: 'over-commit violations (checker)', value: cluster.churn.violations + (cluster.churn.ledgerSumOk ? 0 : 1), unit: 'count', baseline: '-', baseline_value: null, target: '0', note: `certainly-live grants within capacity at every answer; final ledger sum ${cluster.churn.ledgerSumOk ? 'ok' : 'WRONG'}` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
