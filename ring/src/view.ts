/**
 * The node's view of the ring: the committed ring and its transfer state as the ring manager
 * last published them, plus liveness. The manager is the only writer (`publish`); coordinators,
 * the vnode host and the service read it synchronously on every request, so routing costs no
 * message.
 *
 * Liveness is injected (SWIM in a node, an oracle in the simulator): `isUp(node)` and
 * optionally a stream of up/down changes (hinted handoff starts sooner when an owner comes
 * back; without it the periodic tick finds out). This node is always up to itself.
 *
 * Routes are computed once per partition and bucket size and kept until the ring, the transfer
 * state or anybody's liveness changes — only when the liveness source reports its changes
 * (`subscribe`); without it every request computes its route (a preference list walks the
 * continuum and allocates, which was a measurable share of a quorum request's cost).
 */
import type { Ring } from './ring.js';
import { route, type Route } from './routing.js';
import { indexTransfers, type TransferIndex, type TransferState } from './transfers.js';

export interface Liveness {
  isUp(node: string): boolean;
  /** Calls `fn` when a node's liveness changes; returns an unsubscribe function. */
  subscribe?(fn: (node: string, up: boolean) => void): () => void;
}

export type ViewListener = (ring: Ring, transfers: TransferState) => void;

export class RingView {
  private current: Ring | undefined;
  private state: TransferState | undefined;
  private index: TransferIndex | undefined;
  private readonly listeners = new Set<ViewListener>();
  /** Routes by `p * 16 + n` (n ≤ replicationMax < 16); undefined when liveness has no change feed. */
  private readonly routes: Map<number, Route> | undefined;
  private readonly unsubscribe: (() => void) | undefined;
  readonly isUp: (node: string) => boolean;

  constructor(
    readonly self: string,
    readonly liveness: Liveness,
  ) {
    this.isUp = (node) => node === self || liveness.isUp(node);
    if (liveness.subscribe) {
      const routes = new Map<number, Route>();
      this.routes = routes;
      this.unsubscribe = liveness.subscribe(() => routes.clear());
    }
  }

  /** Stops following liveness changes (the service stops). */
  close(): void {
    this.unsubscribe?.();
    this.routes?.clear();
  }

  get ring(): Ring | undefined {
    return this.current;
  }

  get transfers(): TransferState | undefined {
    return this.state;
  }

  get transferIndex(): TransferIndex | undefined {
    return this.index;
  }

  publish(ring: Ring, transfers: TransferState): void {
    if (ring === this.current && transfers === this.state) return;
    this.routes?.clear();
    this.current = ring;
    if (transfers !== this.state) {
      this.state = transfers;
      this.index = indexTransfers(transfers);
    }
    for (const fn of this.listeners) fn(ring, transfers);
  }

  subscribe(fn: ViewListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The route of partition `p` for a bucket of `n` replicas; undefined before any ring. */
  route(p: number, n?: number): Route | undefined {
    const ring = this.current;
    if (!ring) return undefined;
    if (!this.routes || !Number.isInteger(p) || p < 0 || p >= ring.partitionCount) return route(ring, this.index, p, this.isUp, n);
    const size = Math.max(1, Math.min(n ?? ring.replication, ring.replication));
    const key = p * 16 + size;
    let r = this.routes.get(key);
    if (r === undefined) this.routes.set(key, (r = route(ring, this.index, p, this.isUp, size)));
    return r;
  }

  /** Whether this node owns `p` in the current ring. */
  owns(p: number): boolean {
    return this.current?.owners[p]?.includes(this.self) ?? false;
  }
}
