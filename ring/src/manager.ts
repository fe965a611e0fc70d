/**
 * The ring manager: one actor per core node (`ring-manager`), the only writer of the node's
 * cluster state (ring, transfer state, staged changes; manager-core.ts), which it persists in
 * storage and publishes to the node's RingView.
 *
 * Gossip (riak_core's ring gossip): after a commit, and after a transfer finishes, the manager
 * pushes its state to every gossip target (ring members and parties to pending transfers);
 * every `gossipIntervalMs` it sends a digest (version, hash, done marks) to one random up
 * target, who pushes its state back if it is newer or pulls ours if ours is; a push of an older
 * ring is answered with ours. At start, and whenever liveness says a node came back, it sends
 * a digest to every target (to that node), so what was missed while away is caught up at once. Rings of another cluster, origin, P or N are refused and counted.
 *
 * Operators (through the service): stage (a join needs the node to be an up core member —
 * liveness and `isCoreNode` are injected, SWIM in a node), plan, commit, clear. A commit is
 * persisted before it is acknowledged; an adopted ring is persisted in the background (a crash
 * before it lands only makes the node re-learn it by gossip).
 */
import { dispatch, refFromJSON, type ActorContext, type ActorRef } from '@shoal/actors';
import type { Logger, Random, Store } from '@shoal/runtime';
import { clear, stage, plan as planChanges, type Staged } from './plan.js';
import { failure, managerPath, type ManagerMessage } from './messages.js';
import { commitStaged, compareDigest, digestOf, gossipTargets, receiveRing, ringFromPeer, transfersFromPeer, type ClusterState } from './manager-core.js';
import { ringToData, type Ring } from './ring.js';
import { markTransfersDone, noTransfers, transfersBelongTo, transfersToData } from './transfers.js';
import type { RingView } from './view.js';

export interface ManagerDeps {
  readonly self: string;
  readonly clusterName: string;
  readonly store: Store<unknown>;
  readonly view: RingView;
  /** Whether a node is a core node (SWIM role `core`); joins of anything else are refused. */
  readonly isCoreNode: (node: string) => boolean;
  readonly random: Random;
  readonly log: Logger;
}

/** Replies of the operator messages. */
export type ManagerReply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly stage: { readonly code: string; readonly message: string } }
  | { readonly ok: false; readonly code: string; readonly message: string };

export class RingManager {
  private ref: ActorRef<ManagerMessage> | undefined;
  readonly stats = { adopted: 0, refused: 0, pushes: 0, digests: 0, lastRefusal: '' };

  constructor(
    private readonly deps: ManagerDeps,
    public state: ClusterState,
  ) {}

  private managerRef(node: string): ActorRef<ManagerMessage> {
    return refFromJSON<ManagerMessage>(this.ref!, { node, path: [...managerPath] });
  }

  private publish(): void {
    const { ring, transfers } = this.state;
    if (ring) this.deps.view.publish(ring, transfers ?? noTransfers(ring));
  }

  private persistRing(): Promise<void> {
    const { ring, transfers } = this.state;
    if (!ring) return Promise.resolve();
    return this.deps.store.put(['ring'], { ring: ringToData(ring), transfers: transfers ?? noTransfers(ring) });
  }

  private persistStaged(): Promise<void> {
    return this.deps.store.put(['staged'], this.state.staged);
  }

  private send(node: string, msg: ManagerMessage): void {
    try {
      dispatch(this.managerRef(node), msg, this.ref);
    } catch (err) {
      this.deps.log.debug('gossip not sent', { to: node, err: String(err) });
    }
  }

  private push(node: string): void {
    const { ring, transfers } = this.state;
    if (!ring) return;
    this.stats.pushes++;
    this.send(node, { t: 'gossip', from: this.deps.self, ring: ringToData(ring), transfers: transfersToData(transfers ?? noTransfers(ring)) });
  }

  private pushAll(extra: readonly string[] = []): void {
    for (const node of gossipTargets(this.state, this.deps.self, extra)) this.push(node);
  }

  receive(msg: ManagerMessage, ctx: ActorContext<ManagerMessage>): void | Promise<void> {
    this.ref ??= ctx.self;
    const reply = (r: ManagerReply): void => dispatch(ctx.sender, r, ctx.self);
    switch (msg.t) {
      case 'gossip':
        return this.gossip(msg.from, msg.ring, msg.transfers);
      case 'digest': {
        this.stats.digests++;
        const { push, pull } = compareDigest(this.state, this.deps.clusterName, { cluster: msg.cluster, version: msg.version, hash: msg.hash, done: msg.done, doneSum: msg.doneSum });
        if (push) this.push(msg.from);
        if (pull) this.send(msg.from, { t: 'pull', from: this.deps.self });
        return;
      }
      case 'pull':
        return this.push(msg.from);
      case 'tick':
        return this.tick();
      case 'hello':
        return this.hello(msg.node);
      case 'transfers-done':
        return this.transfersDone(msg.version, msg.hash, msg.transfers);
      case 'stage':
        return this.stage(msg.change, reply);
      case 'plan':
        return this.plan(reply);
      case 'commit':
        return this.commit(reply);
      case 'clear':
        this.state = { ...this.state, staged: clear() };
        return this.persistStaged().then(() => reply({ ok: true, value: this.state.staged }));
    }
  }

  private gossip(from: string, data: unknown, transfersData: unknown): void {
    const made = ringFromPeer(data);
    if ('reason' in made) return this.refuse(from, made.reason);
    const incoming = made.ring;
    // A ring with a malformed transfer state is dropped whole (counted, logged): adopting the
    // ring without its state would route as if nothing were moving (manager-core.ts).
    const t = transfersFromPeer(transfersData, incoming);
    if ('reason' in t) return this.refuse(from, `malformed transfer state: ${t.reason}`);
    const r = receiveRing(this.state, this.deps.self, this.deps.clusterName, incoming, t.transfers);
    switch (r.outcome) {
      case 'refused':
        return this.refuse(from, r.reason ?? 'refused');
      case 'older':
        return this.push(from);
      case 'same':
        return;
      case 'adopted':
      case 'merged': {
        const before = this.state.ring;
        this.state = r.state;
        if (r.outcome === 'adopted') {
          this.stats.adopted++;
          this.deps.log.info('adopted ring', { version: incoming.version, committedBy: incoming.committedBy, from, previous: before?.version ?? null });
          if (r.state.lostCommit && r.state.lostCommit !== this.stateLost) this.deps.log.warn('our commit lost to a concurrent commit; stage the changes again', { version: r.state.lostCommit.version, winner: r.state.lostCommit.winner });
        }
        this.stateLost = r.state.lostCommit;
        void this.persistRing();
        this.publish();
        return;
      }
    }
  }

  private stateLost: ClusterState['lostCommit'];

  private refuse(from: string, reason: string): void {
    this.stats.refused++;
    this.stats.lastRefusal = `${from}: ${reason}`;
    this.deps.log.warn('refused a ring from another cluster or a malformed one', { from, reason });
  }

  private tick(): void {
    const digest = digestOf(this.state, this.deps.clusterName);
    if (!digest) return;
    const up = gossipTargets(this.state, this.deps.self).filter((n) => this.deps.view.isUp(n));
    if (up.length === 0) return;
    const target = up[this.deps.random.int(up.length)]!;
    this.send(target, { t: 'digest', from: this.deps.self, ...digest });
  }

  /** A digest to `node`, or to every target: catches up on what was missed while away. */
  private hello(node: string | undefined): void {
    const digest = digestOf(this.state, this.deps.clusterName);
    if (!digest) return;
    for (const target of node === undefined ? gossipTargets(this.state, this.deps.self) : [node]) this.send(target, { t: 'digest', from: this.deps.self, ...digest });
  }

  private transfersDone(version: number, hash: string, finished: readonly { partition: number; from: string; to: string }[]): void {
    const { ring, transfers } = this.state;
    if (!ring || !transfers || !transfersBelongTo(transfers, { version, hash })) return;
    const next = markTransfersDone(transfers, finished);
    if (next === transfers) return;
    this.state = { ...this.state, transfers: next };
    void this.persistRing();
    this.publish();
    this.pushAll();
  }

  private stage(change: Parameters<typeof stage>[2], reply: (r: ManagerReply) => void): Promise<void> | void {
    const ring = this.state.ring;
    if (!ring) return reply({ ...failure('no-ring', `node ${this.deps.self} has no ring yet`) });
    const arriving = change.kind === 'join' ? change.node : change.kind === 'replace' ? change.replacement : undefined;
    if (arriving !== undefined && !(this.deps.view.isUp(arriving) && this.deps.isCoreNode(arriving))) {
      return reply({ ...failure('not-up', `${arriving} is not an up core member: start it with the cluster's key and let it join the gossip first`) });
    }
    const r = stage(ring, this.state.staged, change);
    if (!r.ok) return reply({ ok: false, stage: { code: r.error.code, message: r.error.message } });
    this.state = { ...this.state, staged: r.value };
    return this.persistStaged().then(() => reply({ ok: true, value: r.value }));
  }

  private plan(reply: (r: ManagerReply) => void): void {
    const ring = this.state.ring;
    if (!ring) return reply({ ...failure('no-ring', `node ${this.deps.self} has no ring yet`) });
    const r = planChanges(ring, this.state.staged, this.deps.self);
    reply(r.ok ? { ok: true, value: r.value } : { ok: false, stage: { code: r.error.code, message: r.error.message } });
  }

  private async commit(reply: (r: ManagerReply) => void): Promise<void> {
    const previous: Ring | undefined = this.state.ring;
    if (!previous) return reply({ ...failure('no-ring', `node ${this.deps.self} has no ring yet`) });
    const r = commitStaged(this.state, this.deps.self);
    if (!r.ok) return reply({ ok: false, stage: { code: r.error.code, message: r.error.message } });
    this.state = r.state;
    await Promise.all([this.persistRing(), this.persistStaged()]);
    this.publish();
    // Everyone of the old ring and the new one (a leaving node must learn it left).
    this.pushAll(previous.members.map((m) => m.name));
    this.deps.log.info('committed ring', { version: r.state.ring!.version, moves: r.plan.movedPartitions, transfers: r.state.transfers!.transfers.length });
    reply({ ok: true, value: r.plan });
  }

  /** The staged changes (for status). */
  get staged(): Staged {
    return this.state.staged;
  }
}

/** The manager's actor behaviour. */
export function managerActor(m: RingManager, msg: ManagerMessage, ctx: ActorContext<ManagerMessage>): RingManager | Promise<RingManager> {
  const r = m.receive(msg, ctx);
  return r instanceof Promise ? r.then(() => m) : m;
}
