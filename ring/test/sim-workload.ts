// The ring's main simulation: a 5-node cluster under random writes, deletes and reads through
// random nodes, with crashes and restarts, a partition (one node isolated, or a 2 | 3 split), a join
// and a leave committed mid-run; then everything heals and the checker demands that
//
//   (1) no acknowledged write is lost — after healing, a quorum read (R = 2, through a random
//       node) of every key satisfies, per CRDT kind ("visible"):
//       - LWW register `reg` (every write sets a unique value): if any write was acknowledged,
//         the value is one that was written, and it is not from a write F that finished (was
//         acknowledged or refused) more than 1 ms before an acknowledged write X was invoked —
//         X's stamp is then provably greater (HLC, same wall clocks), so F cannot win;
//       - ORSWOT `tags` (every add adds a unique element): every acknowledged add of an
//         element nobody tried to remove is present, and every present element was added;
//       - PN-counter `hits` (increments only): acknowledged sum ≤ value ≤ invoked sum;
//       - delete: an acknowledged delete leaves the key not found; a key not found was deleted
//         (some delete invoked) or never had an acknowledged write;
//   (2) replicas converge — every owner of a key's partition holds byte-identical encoded
//       records (or none), no node holds data of a partition it does not own (hinted and
//       ownership handoff finished), all nodes agree on the ring and no transfer is pending;
//   (3) a list of the bucket (coverage query, paged) returns exactly the keys found.
import type { Sim } from '@shoal/sim';
import { keyPartition, RingError, QuorumTimeoutError, type RingService } from '@shoal/ring';
import { SimCluster } from './sim-harness.js';

export type OpKind = 'reg' | 'add' | 'remove' | 'inc' | 'delete';

export interface Op {
  readonly id: number;
  readonly key: string;
  readonly kind: OpKind;
  readonly value: number | string;
  readonly node: string;
  readonly invokedMs: number;
  doneMs: number;
  outcome: 'pending' | 'ok' | 'fail' | 'timeout';
}

export interface RunStats {
  ops: number;
  acked: number;
  failed: number;
  timedOut: number;
  reads: number;
  events: number;
  simMs: number;
  convergedAtMs: number;
  handoffs: number;
  exchanges: number;
  repairs: number;
  reaped: number;
  resumed: number;
  lostCommits: number;
  failures: Record<string, number>;
}

const names = ['n1', 'n2', 'n3', 'n4', 'n5'];
const plainKeys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'];
const deletableKeys = ['d0', 'd1', 'd2'];
/** Written once before the faults begin, then only moved around by handoff and repaired. */
const preloadKeys = Array.from({ length: 48 }, (_, i) => `p${i}`);
const allKeys = [...plainKeys, ...deletableKeys, ...preloadKeys];

export interface ScenarioOptions {
  /** Simulated ms of workload. */
  readonly workMs?: number;
  /** Mean ms between client operations. */
  readonly opEveryMs?: number;
}

function pick<T>(sim: Sim, xs: readonly T[]): T {
  return xs[sim.random.int(xs.length)]!;
}

/** Issues one random client operation through a random running node. */
function issue(sim: Sim, c: SimCluster, history: Op[], stats: RunStats, bugs: string[]): void {
  const running = c.running();
  const joined = running.filter((n) => c.service(n).view.ring !== undefined);
  if (running.length === 0) return;
  // Mostly through nodes that are in the cluster; sometimes through one that is not (yet).
  const node = joined.length > 0 && sim.random.chance(0.9) ? pick(sim, joined) : pick(sim, running);
  const svc = c.service(node);
  const deletable = sim.random.chance(0.3);
  const key = deletable ? pick(sim, deletableKeys) : pick(sim, plainKeys);
  const roll = sim.random.float();
  if (roll < 0.15) {
    stats.reads++;
    svc.get('sim', key).catch((err: unknown) => {
      if (!(err instanceof RingError)) bugs.push(`read of ${key} via ${node} failed unexpectedly: ${String(err)}`);
    });
    return;
  }
  const id = history.length;
  const acked = history.filter((o) => o.key === key && o.kind === 'add' && o.outcome === 'ok');
  let kind: OpKind;
  if (deletable && roll < 0.2) kind = 'delete';
  else if (roll < 0.45) kind = 'reg';
  else if (roll < 0.7) kind = 'add';
  else if (roll < 0.78 && acked.length > 0) kind = 'remove';
  else kind = 'inc';
  const value = kind === 'reg' ? id : kind === 'add' ? `t${id}` : kind === 'remove' ? String(pick(sim, acked).value) : kind === 'inc' ? 1 + sim.random.int(3) : 0;
  const op: Op = { id, key, kind, value, node, invokedMs: sim.nowMs, doneMs: Infinity, outcome: 'pending' };
  history.push(op);
  stats.ops++;
  const call =
    kind === 'delete'
      ? svc.delete('sim', key)
      : svc.update('sim', key, kind === 'reg' ? { reg: { set: value as number } } : kind === 'add' ? { tags: { add: [value as string] } } : kind === 'remove' ? { tags: { remove: [value as string] } } : { hits: { inc: value as number } });
  call.then(
    () => {
      op.outcome = 'ok';
      op.doneMs = sim.nowMs;
      stats.acked++;
    },
    (err: unknown) => {
      if (err instanceof QuorumTimeoutError) {
        op.outcome = 'timeout';
        stats.timedOut++;
        return;
      }
      op.outcome = 'fail';
      op.doneMs = sim.nowMs;
      stats.failed++;
      const name = err instanceof Error ? err.name : 'unknown';
      stats.failures[name] = (stats.failures[name] ?? 0) + 1;
      if (!(err instanceof RingError)) bugs.push(`op ${id} (${kind} ${key} via ${node}) failed unexpectedly: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    },
  );
}

/** Stages and commits one change on a random running member, retrying a few times. */
async function change(sim: Sim, c: SimCluster, make: (svc: RingService) => Parameters<RingService['stage']>[0] | undefined, what: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const members = c.running().filter((n) => c.service(n).view.ring?.members.some((m) => m.name === n));
    if (members.length > 0) {
      const svc = c.service(pick(sim, members));
      const req = make(svc);
      if (req === undefined) return;
      try {
        await svc.clear();
        await svc.stage(req);
        await svc.commit();
        sim.note(`committed ${what} on ${svc.node}`);
        return;
      } catch (err) {
        sim.note(`${what} on ${svc.node} failed: ${String(err)}`);
      }
    }
    await new Promise<void>((resolve) => sim.after(400, resolve));
  }
  sim.note(`gave up on ${what}`); // the run goes on: the checker does not depend on it
}

function scheduleFaults(sim: Sim, c: SimCluster, workMs: number): void {
  const crashAt = 1_500 + sim.random.int(1_500);
  const victim = pick(sim, ['n1', 'n2', 'n3', 'n4']);
  sim.at(crashAt, () => c.crash(victim), `crash ${victim}`);
  sim.at(crashAt + 1_000 + sim.random.int(3_000), () => c.restart(victim), `restart ${victim}`);
  const cutAt = 4_000 + sim.random.int(2_000);
  // Half the seeds isolate one node, the other half split the cluster 2 | 3.
  const side = sim.random.chance(0.5) ? [pick(sim, names)] : sim.random.shuffle([...names]).slice(0, 2);
  sim.at(cutAt, () => c.partition(side), `cut ${side.join(',')} off`);
  sim.at(cutAt + 1_000 + sim.random.int(2_000), () => c.heal(), 'heal');
  sim.at(3_000 + sim.random.int(3_000), () => void change(sim, c, () => ({ kind: 'join', node: 'n5' }), 'join n5'), 'join n5');
  const leaveAt = 7_000 + sim.random.int(2_000);
  sim.at(leaveAt, () => {
    void change(sim, c, (svc) => {
      const members = svc.view.ring!.members.map((m) => m.name).filter((n) => c.isUpNow(n));
      return members.length > 3 ? { kind: 'leave', node: pick(sim, members) } : undefined;
    }, 'leave');
  }, 'leave');
  // The second crash: in half the seeds a node in the middle of a handoff session soon after
  // the leave (so that sessions resume from their persisted progress), else anyone, later.
  const early = sim.random.chance(0.5);
  const secondAt = early ? leaveAt + 5 : Math.min(workMs - 2_500, 9_000 + sim.random.int(1_000));
  const fallbackVictim = pick(sim, names);
  const crashNow = (victim: string): void => {
    const h = c.isUpNow(victim) ? c.service(victim).host.status() : undefined;
    sim.note(`second crash: ${victim}${h ? ` (${h.sessions.length} sessions, ${h.stats.batchesSent} batches sent)` : ''}`);
    c.crash(victim);
    sim.after(500 + sim.random.int(1_500), () => {
      if (c.node(victim).sim.status === 'down') c.restart(victim);
    }, `restart ${victim}`);
  };
  // Early: poll for a node with a session that has sent a batch, for up to 1.5 s.
  const poll = (until: number): void => {
    const sending = c.running().filter((n) => c.service(n).host.status().stats.batchesSent > 0 || c.service(n).host.status().sessions.length > 0);
    const mid = c.running().filter((n) => c.service(n).host.status().sessions.length > 0);
    if (mid.length > 0 && sending.length > 0) crashNow(pick(sim, mid));
    else if (sim.nowMs < until) sim.after(5 + sim.random.int(20), () => poll(until), 'poll');
    else crashNow(fallbackVictim);
  };
  sim.at(secondAt, () => (early ? poll(sim.nowMs + 1_500) : crashNow(fallbackVictim)), 'second crash');
}

/** Builds the cluster: n1 bootstraps, n2–n4 are joined, n5 runs but is not a member yet. */
export async function buildCluster(sim: Sim): Promise<SimCluster> {
  sim.setLinks({ latencyMinMs: 0.5, latencyMaxMs: 3 });
  // Tiny handoff batches, so that sessions stream several batches and crashes interrupt them.
  const c = new SimCluster(sim, names, { partitionCount: 16, config: { handoffBatchItems: 2 } });
  const s1 = await sim.settle(c.startNode('n1', true));
  for (const n of names.slice(1)) await sim.settle(c.startNode(n));
  for (const n of ['n2', 'n3', 'n4']) await sim.settle(s1.stage({ kind: 'join', node: n }));
  await sim.settle(s1.commit());
  await sim.runUntil(() => names.slice(0, 4).every((n) => c.service(n).view.ring?.version === 2 && c.service(n).transfers()?.complete), { timeoutMs: 10_000, what: 'the initial ring everywhere' });
  return c;
}

/** Converged: one ring everywhere, no transfer pending, no foreign data, equal replicas. */
export function convergenceProblem(c: SimCluster, keys: readonly string[] = allKeys): string | undefined {
  const running = c.running();
  if (running.length !== c.nodes.size) return 'not every node runs';
  const ring = c.service(running.find((n) => c.service(n).view.ring !== undefined)!).view.ring!;
  for (const n of running) {
    const s = c.service(n);
    // A node never joined (its join lost to a concurrent commit) has no ring, and must not.
    if (s.view.ring === undefined && ring.members.some((m) => m.name === n)) return `${n} is a member of ring v${ring.version} but holds no ring`;
    if (s.view.ring !== undefined && s.view.ring.hash !== ring.hash) return `${n} holds ring v${s.view.ring.version}, not v${ring.version}`;
    if (s.view.ring === undefined) {
      if (c.partitionsWithData(n, ring.partitionCount).length > 0) return `${n} holds data but no ring`;
      continue;
    }
    if (!s.transfers()?.complete) return `${n}: ${s.transfers()?.pending} transfers pending`;

    const foreign = c.partitionsWithData(n, ring.partitionCount).filter((p) => !ring.owners[p]!.includes(n));
    if (foreign.length > 0) return `${n} holds data of partitions ${foreign.join(',')} it does not own`;
  }
  for (const key of keys) {
    const p = keyPartition(ring, 'sim', key);
    const copies = ring.owners[p]!.map((o) => c.stored(o, p, 'sim', key));
    const first = copies[0];
    for (const x of copies) {
      if ((x === undefined) !== (first === undefined) || (x && first && Buffer.compare(x, first) !== 0)) return `replicas of ${key} (partition ${p}) differ`;
    }
  }
  return undefined;
}

/** The checker's verdict on one key's final read; undefined when it satisfies the rules. */
export function keyProblem(key: string, history: readonly Op[], found: boolean, value: { reg?: number; tags?: string[]; hits?: number } | undefined): string | undefined {
  const ops = history.filter((o) => o.key === key);
  const acked = ops.filter((o) => o.outcome === 'ok');
  const deletes = ops.filter((o) => o.kind === 'delete');
  const v = value ?? {};
  if (deletes.length > 0) return deletedKeyProblem(key, ops, found, v);
  if (!found) return acked.length > 0 ? `${key}: not found, but ${acked.length} writes were acknowledged and no delete was invoked` : undefined;
  const regs = ops.filter((o) => o.kind === 'reg');
  const ackedRegs = regs.filter((o) => o.outcome === 'ok');
  if (ackedRegs.length > 0) {
    const f = regs.find((o) => o.value === v.reg);
    if (!f) return `${key}: reg is ${String(v.reg)}, which no write set (acknowledged: ${ackedRegs.map((o) => o.value).join(',')})`;
    const later = ackedRegs.find((x) => x.invokedMs > f.doneMs + 1);
    if (later) return `${key}: reg is ${String(v.reg)} (write ${f.id} done at ${f.doneMs.toFixed(1)}), but write ${later.id} (${String(later.value)}) invoked at ${later.invokedMs.toFixed(1)} was acknowledged`;
  }
  const tags = new Set(v.tags ?? []);
  const removed = new Set(ops.filter((o) => o.kind === 'remove').map((o) => o.value));
  for (const o of acked) if (o.kind === 'add' && !removed.has(o.value) && !tags.has(o.value as string)) return `${key}: acknowledged add of ${String(o.value)} is missing`;
  const incs = ops.filter((o) => o.kind === 'inc');
  const low = incs.filter((o) => o.outcome === 'ok').reduce((a, o) => a + (o.value as number), 0);
  if ((v.hits ?? 0) < low) return `${key}: hits is ${v.hits ?? 0}, below the ${low} acknowledged`;
  return onlyWrittenValues(key, ops, v);
}

/** Every value read was written: reg set by some write, tags added, hits ≤ the invoked sum. */
function onlyWrittenValues(key: string, ops: readonly Op[], v: { reg?: number; tags?: string[]; hits?: number }): string | undefined {
  if (v.reg !== undefined && !ops.some((o) => o.kind === 'reg' && o.value === v.reg)) return `${key}: reg is ${v.reg}, which no write set`;
  const added = new Set(ops.filter((o) => o.kind === 'add').map((o) => o.value));
  for (const t of v.tags ?? []) if (!added.has(t)) return `${key}: tag ${t} was never added`;
  const high = ops.filter((o) => o.kind === 'inc').reduce((a, o) => a + (o.value as number), 0);
  if ((v.hits ?? 0) > high) return `${key}: hits is ${v.hits ?? 0}, more than the ${high} ever invoked`;
  return undefined;
}

/**
 * Keys with deletes. A delete is final (it wins over every write it meets) until its tombstone
 * is reaped; after that a write creates the key afresh. So: an acknowledged delete with no
 * update acknowledged after it leaves the key not found; a found key must hold only written
 * values. (An update acknowledged after a delete by a coordinator that had not yet received
 * the tombstone is absorbed when it does: delete wins, by design.)
 */
function deletedKeyProblem(key: string, ops: readonly Op[], found: boolean, v: { reg?: number; tags?: string[]; hits?: number }): string | undefined {
  const ackedDeletes = ops.filter((o) => o.kind === 'delete' && o.outcome === 'ok');
  const lastDelete = Math.max(-Infinity, ...ackedDeletes.map((o) => o.doneMs));
  const updatesAfter = ops.filter((o) => o.kind !== 'delete' && o.outcome === 'ok' && o.invokedMs > lastDelete);
  if (ackedDeletes.length > 0 && updatesAfter.length === 0 && found) return `${key}: an acknowledged delete and no update acknowledged after it, but the key is found`;
  return found ? onlyWrittenValues(key, ops, v) : undefined;
}

/** Running nodes that hold a ring (a node whose join was lost to a concurrent commit has none). */
function withRing(c: SimCluster): string[] {
  return c.running().filter((n) => c.service(n).view.ring !== undefined);
}

/**
 * Runs a request to completion, retrying while the cluster is still reconnecting: after a
 * restart, a peer's dial to the dead incarnation can hold the new one's links off for up to the
 * transport's connect timeout (5 s), so a request may time out although every node runs.
 */
async function settled<T>(sim: Sim, request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sim.settle(request());
    } catch (err) {
      if (!(err instanceof RingError) || (err.code !== 'timeout' && err.code !== 'no-quorum') || attempt >= 10) throw err;
      await sim.runFor(1_000);
    }
  }
}

export async function runScenario(sim: Sim, opts: ScenarioOptions = {}): Promise<RunStats> {
  const workMs = opts.workMs ?? 12_000;
  const every = opts.opEveryMs ?? 60;
  const c = await buildCluster(sim);
  const history: Op[] = [];
  const bugs: string[] = [];
  const stats: RunStats = { ops: 0, acked: 0, failed: 0, timedOut: 0, reads: 0, events: 0, simMs: 0, convergedAtMs: 0, handoffs: 0, exchanges: 0, repairs: 0, reaped: 0, resumed: 0, lostCommits: 0, failures: {} };
  for (const key of preloadKeys) {
    const op: Op = { id: history.length, key, kind: 'reg', value: history.length, node: 'n1', invokedMs: sim.nowMs, doneMs: Infinity, outcome: 'pending' };
    history.push(op);
    await sim.settle(c.service('n1').update('sim', key, { reg: { set: op.value as number } }));
    op.outcome = 'ok';
    op.doneMs = sim.nowMs;
  }
  const t0 = sim.nowMs;
  for (let at = 0; at < workMs; at += 1 + sim.random.int(2 * every)) sim.at(t0 + at, () => issue(sim, c, history, stats, bugs), 'op');
  scheduleFaults(sim, c, workMs);
  await sim.run({ untilMs: t0 + workMs });
  if (bugs.length > 0) throw new Error(bugs[0]);
  // Heal: every cut removed, every node running.
  c.heal();
  for (const n of names) if (c.node(n).sim.status === 'down') c.restart(n);
  await sim.runFor(c.detectMs + 1);
  let problem: string | undefined = 'not checked';
  for (let waited = 0; waited < 60_000 && problem !== undefined; waited += 500) {
    await sim.runFor(500);
    problem = convergenceProblem(c);
  }
  if (problem !== undefined) throw new Error(`no convergence after healing: ${problem}`);
  stats.convergedAtMs = sim.nowMs - t0 - workMs;
  for (const key of allKeys) {
    const r = await settled(sim, () => c.service(pick(sim, withRing(c))).get('sim', key, { r: 2 }));
    const bad = keyProblem(key, history, r.found, r.value as never);
    if (bad) {
      const ops = history.filter((o) => o.key === key).map((o) => `#${o.id} ${o.kind} ${String(o.value)} via ${o.node} at ${o.invokedMs.toFixed(0)}→${o.outcome}@${o.doneMs.toFixed(0)}`);
      throw new Error(`lost write: ${bad}; read ${JSON.stringify(r.value)}; history: ${ops.join('; ')}`);
    }
  }
  const listed: string[] = [];
  let token: string | undefined;
  do {
    const after = token;
    const page = await settled(sim, () => c.service(pick(sim, withRing(c))).list('sim', { limit: 3, ...(after ? { continuation: after } : {}) }));
    listed.push(...page.items.map((i) => i.key));
    token = page.continuation;
  } while (token !== undefined);
  const found: string[] = [];
  for (const key of allKeys) if ((await settled(sim, () => c.service(withRing(c)[0]!).get('sim', key))).found) found.push(key);
  if (JSON.stringify(listed) !== JSON.stringify(found.sort())) throw new Error(`list returned [${listed.join(',')}], expected [${found.join(',')}]`);
  for (const n of c.running()) {
    const s = c.service(n).host.status().stats;
    stats.handoffs += s.sessionsDone;
    stats.exchanges += s.exchanges;
    stats.repairs += s.aaeRepairs;
    stats.reaped += s.reaped;
    stats.resumed += s.sessionsResumed;
    if (c.service(n).status().lostCommit) stats.lostCommits++;
  }
  stats.events = sim.stats.eventsRun;
  stats.simMs = sim.nowMs;
  return stats;
}
