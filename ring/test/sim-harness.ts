// A simulated Shoal cluster for the ring's tests: each node is a sim node running an actor
// system with ActorNet over the sim transport, its storage on the sim disk (it survives crashes
// the way LMDB's committed writes do), and the ring service. Liveness is an oracle with a
// detection delay: each observer learns of a crash, restart, cut or heal `detectMs` later (as
// SWIM would, only without false suspicions), and hears about it through `subscribe`.
import { ActorNet, start, systemOf, type ActorRef } from '@shoal/actors';
import { defineRecord, kind } from '@shoal/crdt';
import { BucketRegistry, startRingService, type Liveness, type RingService } from '@shoal/ring';
import { seededRandom, type Storage } from '@shoal/runtime';
import type { Sim, SimNode } from '@shoal/sim';
import { Keyring } from '@shoal/wire';

export const clusterName = 'sim';
export const port = 7000;

/** The record every simulation writes: one of each CRDT kind the checker knows. */
export const SimRecord = defineRecord('sim', { reg: kind.lww('integer'), tags: kind.orswot(), hits: kind.pncounter() });

export function simBuckets(): BucketRegistry {
  const b = new BucketRegistry({ generic: true });
  b.define('sim', SimRecord);
  return b;
}

export interface NodeHandle {
  readonly name: string;
  readonly sim: SimNode;
  service: RingService | undefined;
  storage: Storage | undefined;
  root: ActorRef<never> | undefined;
  /** Process incarnation the service belongs to. */
  incarnation: number;
}

export interface ClusterOptions {
  readonly partitionCount?: number;
  readonly detectMs?: number;
  readonly config?: Parameters<typeof startRingService>[0]['config'];
}

export class SimCluster {
  readonly nodes = new Map<string, NodeHandle>();
  private readonly keyring: Keyring;
  /** observer → nodes it believes down. */
  private readonly views = new Map<string, Set<string>>();
  private readonly listeners = new Map<string, Set<(node: string, up: boolean) => void>>();
  readonly detectMs: number;

  constructor(
    readonly sim: Sim,
    names: readonly string[],
    readonly opts: ClusterOptions = {},
  ) {
    this.keyring = new Keyring([seededRandom(sim.seed).bytes(32)]);
    this.detectMs = opts.detectMs ?? 300;
    for (const name of names) {
      this.nodes.set(name, { name, sim: sim.addNode(name), service: undefined, storage: undefined, root: undefined, incarnation: 0 });
      this.views.set(name, new Set());
      this.listeners.set(name, new Set());
    }
  }

  node(name: string): NodeHandle {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  service(name: string): RingService {
    const s = this.node(name).service;
    if (!s) throw new Error(`node ${name} runs no service`);
    return s;
  }

  /** Truth: whether `node`'s process is up and reachable from `observer` both ways. */
  reachable(observer: string, node: string): boolean {
    if (observer === node) return true;
    const n = this.node(node).sim;
    const cuts = this.sim.network.cuts;
    return n.status === 'up' && !cuts.isCut(observer, node) && !cuts.isCut(node, observer);
  }

  isUpNow(name: string): boolean {
    return this.node(name).sim.status === 'up' && this.node(name).service !== undefined && this.node(name).incarnation === this.node(name).sim.incarnation;
  }

  private liveness(observer: string): Liveness {
    return {
      isUp: (node) => this.nodes.has(node) && !this.views.get(observer)!.has(node),
      subscribe: (fn) => {
        const set = this.listeners.get(observer)!;
        set.add(fn);
        return () => set.delete(fn);
      },
    };
  }

  /** Updates every observer's view to the truth, now, and tells the subscribers. */
  refreshViews(): void {
    for (const observer of this.nodes.keys()) {
      const down = this.views.get(observer)!;
      for (const node of this.nodes.keys()) {
        const up = this.reachable(observer, node);
        if (up === !down.has(node)) continue;
        if (up) down.delete(node);
        else down.add(node);
        if (this.node(observer).sim.status === 'up') for (const fn of this.listeners.get(observer)!) fn(node, up);
      }
    }
  }

  /** Schedules a view refresh `detectMs` from now (call after every fault). */
  detectLater(): void {
    this.sim.after(this.detectMs, () => this.refreshViews(), 'detect');
  }

  /** Starts (or restarts after a crash) the node's process: storage, actors, transport, ring service. */
  async startNode(name: string, bootstrap = false): Promise<RingService> {
    const h = this.node(name);
    const world = h.sim.world;
    const incarnation = h.sim.incarnation;
    this.listeners.get(name)!.clear();
    const storage = await world.openStorage('/data');
    const root = start({ name, clock: world.clock, random: world.random, logger: world.logger });
    const net = new ActorNet(systemOf(root), world, this.keyring, { cluster: clusterName, listen: h.sim.address(port) });
    await net.start();
    for (const other of this.nodes.values()) if (other.name !== name) net.setPeerAddress(other.name, other.sim.address(port));
    const service = await startRingService({
      root,
      clock: world.clock,
      random: world.random,
      logger: world.logger,
      storage,
      clusterName,
      liveness: this.liveness(name),
      bootstrap: bootstrap ? { partitionCount: this.opts.partitionCount ?? 16 } : false,
      buckets: simBuckets(),
      preset: 'test',
      ...(this.opts.config ? { config: this.opts.config } : {}),
    });
    if (h.sim.incarnation === incarnation) Object.assign(h, { service, storage, root, incarnation });
    return service;
  }

  crash(name: string): void {
    const h = this.node(name);
    h.sim.crash();
    h.service = undefined;
    this.detectLater();
  }

  /** Restarts a crashed node; its service comes up asynchronously as the simulation runs. */
  restart(name: string): void {
    this.node(name).sim.restart();
    void this.startNode(name);
    this.detectLater();
  }

  partition(a: readonly string[], b?: readonly string[]): void {
    this.sim.partition(a, b);
    this.detectLater();
  }

  heal(): void {
    this.sim.heal();
    this.detectLater();
  }

  /** Names of nodes whose service is running now. */
  running(): string[] {
    return [...this.nodes.keys()].filter((n) => this.isUpNow(n));
  }

  /** The raw encoded record of (bucket, key) in `node`'s storage, if any. */
  stored(node: string, p: number, bucket: string, key: string): Uint8Array | undefined {
    const storage = this.node(node).storage;
    const v = storage?.store<unknown>('ring.data').get([p, bucket, key]);
    return v instanceof Uint8Array ? v : undefined;
  }

  /** Partitions `node` holds records of (in storage). */
  partitionsWithData(node: string, partitionCount: number): number[] {
    const data = this.node(node).storage?.store<unknown>('ring.data');
    const out: number[] = [];
    if (!data) return out;
    for (let p = 0; p < partitionCount; p++) {
      for (const e of data.range({ start: [p, ''], end: [p + 1], limit: 1 })) if (e) out.push(p);
    }
    return out;
  }
}
