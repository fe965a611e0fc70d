/**
 * The ledger under the deterministic simulator (packages/sim): many concurrent callers issue
 * random reserves, retries, confirms and releases with random leases against one agent's
 * durable ledger while the agent crashes and restarts at random moments. A crash drops every
 * write that was not yet committed (the simulator's LMDB model) and the promises of the calls in
 * flight never settle; callers then retry what they did not hear back about.
 *
 * Checked after every simulated event (a failure stops the run and prints `seed=<n>`; `SEED=<n>`
 * replays it):
 * - in memory: the core's sums are right and provisioned + pending ≤ capacity;
 * - on disk: the committed reservations never exceed capacity (any crash point is safe);
 * - from the callers' side: the grants they were told about, minus the ones they released or
 *   whose lease ran out, never exceed capacity;
 * and after every restart, every acknowledged grant that is still live (confirmed, or its lease
 * not over) is in the reloaded ledger with its size (and confirmed ones are provisioned). A retried
 * reserve of a live grant answers that very grant (same size, same lease). At the end, some commits
 * carried several operations: concurrent callers shared commits.
 */
import t from 'tap';
import { simTest, type Sim, type SimNode } from '@shoal/sim';
import type { Storage, World } from '@shoal/runtime';
import { DurableLedger } from '../src/ledger.js';

const capacity = { totalMb: 64_000, reservedForHostMb: 4_000 };
const usableMb = capacity.totalMb - capacity.reservedForHostMb;
const callers = 32;
const runMs = 2_000;
const sizes = [512, 1_024, 2_048, 4_096, 8_192];
const seeds = Array.from({ length: 12 }, (_, i) => i + 1);

interface Known {
  ramMb: number;
  /** An answer said granted; with its lease deadline (undefined once provisioned). */
  acked: boolean;
  expiresAtMs: number | undefined;
  confirmAcked: boolean;
  releaseSent: boolean;
}

const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

class Harness {
  ledger: DurableLedger | undefined;
  storage: Storage | undefined;
  readonly known = new Map<string, Known>();
  /** Acknowledged and not released: the only grants that can be live (kept small for the per-event check). */
  readonly held = new Set<string>();
  readonly violations: string[] = [];
  readonly counts = { reserve: 0, granted: 0, refused: 0, retries: 0, retriesSame: 0, confirm: 0, release: 0, crashes: 0, restored: 0 };
  private next = 1;

  constructor(
    readonly sim: Sim,
    readonly node: SimNode,
  ) {}

  now(): number {
    return this.node.world.clock.wallMs();
  }

  async open(world: World): Promise<DurableLedger> {
    const storage = await world.openStorage('/agent/db');
    const ledger = await DurableLedger.open({ storage, clock: world.clock, capacity });
    this.storage = storage;
    return ledger;
  }

  live(k: Known, now: number): boolean {
    return k.acked && !k.releaseSent && (k.confirmAcked || (k.expiresAtMs !== undefined && now < k.expiresAtMs));
  }

  checkAll(): void {
    if (this.violations.length > 0) throw new Error(this.violations[0]);
    const now = this.now();
    let promised = 0;
    for (const vmId of this.held) {
      const k = this.known.get(vmId)!;
      if (this.live(k, now)) promised += k.ramMb;
      else this.held.delete(vmId); // its lease ran out: it can only come back through a new answer
    }
    if (promised > usableMb) throw new Error(`callers hold ${promised} MB of acknowledged live grants, capacity ${usableMb} MB`);
    if (this.ledger) {
      this.ledger.checkInvariants();
      const f = this.ledger.figures();
      if (f.provisionedMb + f.pendingMb > usableMb) throw new Error(`ledger holds ${f.provisionedMb + f.pendingMb} MB > ${usableMb} MB`);
    }
    if (this.storage && this.node.status === 'up') {
      let durable = 0;
      for (const { value } of this.storage.store<{ ramMb: number }>('ledger').range()) durable += value.ramMb;
      if (durable > usableMb) throw new Error(`committed reservations hold ${durable} MB > ${usableMb} MB`);
    }
  }

  /** After a restart: every acknowledged live grant is there, at its size; confirmed ones provisioned. */
  checkRestored(ledger: DurableLedger): void {
    const now = this.now();
    for (const vmId of this.held) {
      const k = this.known.get(vmId)!;
      if (!this.live(k, now)) continue;
      const e = ledger.get(vmId);
      if (!e || e.ramMb !== k.ramMb) this.violations.push(`acknowledged grant ${vmId} (${k.ramMb} MB) lost across a restart`);
      else if (k.confirmAcked && e.state !== 'provisioned') this.violations.push(`confirmed ${vmId} came back ${e.state}`);
    }
    this.counts.restored++;
  }

  reserve(vmId: string, ramMb: number, leaseMs: number): void {
    const ledger = this.ledger;
    if (!ledger) return;
    const prior = this.known.get(vmId);
    const retry = prior !== undefined;
    if (!prior) this.known.set(vmId, { ramMb, acked: false, expiresAtMs: undefined, confirmAcked: false, releaseSent: false });
    this.counts.reserve++;
    if (retry) this.counts.retries++;
    void ledger.reserve(vmId, ramMb, leaseMs).then((o) => {
      const k = this.known.get(vmId)!;
      if (o.kind === 'granted') {
        if (k.acked && this.live(k, this.now())) {
          const same = o.entry.ramMb === k.ramMb && (o.entry.state === 'provisioned' || o.entry.expiresAtMs === k.expiresAtMs);
          if (!same) this.violations.push(`retry of live grant ${vmId} answered ${JSON.stringify(o.entry)}`);
          if (k.confirmAcked && o.entry.state !== 'provisioned') this.violations.push(`retry of confirmed ${vmId} answered pending`);
          this.counts.retriesSame++;
        }
        if (!k.releaseSent) {
          k.acked = true;
          k.expiresAtMs = o.entry.expiresAtMs;
          this.held.add(vmId);
        }
        this.counts.granted++;
      } else if (o.kind === 'refused') {
        this.counts.refused++;
        if (k.acked && this.live(k, this.now())) this.violations.push(`retry of live grant ${vmId} was refused`);
      }
    });
  }

  confirm(vmId: string): void {
    const ledger = this.ledger;
    const k = this.known.get(vmId);
    if (!ledger || !k || k.releaseSent) return;
    this.counts.confirm++;
    void ledger.confirm(vmId).then((o) => {
      if (o.kind === 'confirmed' && o.entry.ramMb === k.ramMb && !k.releaseSent) {
        k.acked = true;
        k.confirmAcked = true;
        this.held.add(vmId);
      } else if (o.kind === 'not-found' && k.acked && k.confirmAcked) this.violations.push(`confirmed ${vmId} not found on a later confirm`);
    });
  }

  release(vmId: string): void {
    const ledger = this.ledger;
    const k = this.known.get(vmId);
    if (!ledger || !k) return;
    k.releaseSent = true; // from now on the caller no longer counts on it
    this.held.delete(vmId);
    this.counts.release++;
    void ledger.release(vmId);
  }

  /** One random action of one caller. */
  act(mine: string[]): void {
    if (!this.ledger) return; // the agent is down: callers wait
    const r = this.sim.random;
    const p = r.float();
    const held = mine.filter((v) => !this.known.get(v)?.releaseSent);
    const pick = (): string => held[r.int(held.length)]!;
    if (held.length >= 3 && p < 0.5) {
      this.release(held[0]!); // callers hand memory back, oldest first, so the host keeps turning over
    } else if (p < 0.55 || held.length === 0) {
      const vmId = uuid(this.next++);
      mine.push(vmId);
      this.reserve(vmId, sizes[r.int(sizes.length)]!, 20 + r.int(400));
    } else if (p < 0.75) {
      const vmId = pick();
      this.reserve(vmId, this.known.get(vmId)!.ramMb, 20 + r.int(400));
    } else if (p < 0.9) {
      this.confirm(pick());
    } else {
      this.release(pick());
    }
    if (mine.length > 16) mine.splice(0, mine.length - 16);
  }
}

function scheduleCrashes(h: Harness): void {
  const { sim, node } = h;
  const crashes = 2 + sim.random.int(4);
  for (let i = 0; i < crashes; i++) {
    const at = 200 + sim.random.float() * (runMs - 600);
    const down = 1 + sim.random.float() * 50;
    sim.at(at, () => {
      if (node.status === 'down') return;
      sim.crash(node);
      h.ledger = undefined;
      h.storage = undefined;
      h.counts.crashes++;
      sim.after(down, () => {
        const world = node.restart();
        void h.open(world).then((ledger) => {
          h.checkRestored(ledger);
          h.ledger = ledger;
        });
      }, 'restart');
    }, 'crash');
  }
}

function startCallers(h: Harness): void {
  const { sim } = h;
  for (let c = 0; c < callers; c++) {
    const mine: string[] = [];
    const loop = (): void => {
      if (sim.nowMs > runMs) return;
      h.act(mine);
      sim.after(sim.random.float() * 8, loop, 'call');
    };
    sim.after(sim.random.float() * 5, loop, 'call');
  }
}

t.test('ledger: concurrent callers, leases, crashes and restarts never over-commit or lose a grant', async (t) => {
  const totals = { reserve: 0, granted: 0, refused: 0, retriesSame: 0, crashes: 0, restored: 0, sharedCommits: 0, commits: 0 };
  await simTest(t, 'random interleavings', { seeds }, async (sim) => {
    const node = sim.addNode('agent');
    const h = new Harness(sim, node);
    h.ledger = await sim.settle(h.open(node.world));
    sim.invariant('no over-commit, no lost grant', () => h.checkAll());
    scheduleCrashes(h);
    startCallers(h);
    await sim.run({ untilMs: runMs + 1_000 });
    if (!h.ledger) throw new Error('the agent did not come back');
    h.checkAll();
    for (const line of sim.trace.lines) {
      const m = / commit agent \S+ (\d+) ops$/.exec(line);
      if (!m) continue;
      totals.commits++;
      if (Number(m[1]) > 1) totals.sharedCommits++;
    }
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) if (k in h.counts) totals[k] += h.counts[k as keyof typeof h.counts];
  });
  t.ok(totals.granted > 1_000 && totals.refused > 100, `both grants and refusals happened (${totals.granted} granted, ${totals.refused} refused of ${totals.reserve} reserves)`);
  t.ok(totals.retriesSame > 100, `retries of live grants answered the same grant (${totals.retriesSame})`);
  t.ok(totals.crashes >= seeds.length * 2 && totals.restored === totals.crashes, `every crash was followed by a checked restart (${totals.crashes})`);
  t.ok(totals.sharedCommits > 0, `concurrent operations shared commits (${totals.sharedCommits} of ${totals.commits} commits carried several writes)`);
});
