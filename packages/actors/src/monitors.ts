/**
 * Monitors (Erlang's `erlang:monitor/2`): a watcher asks to be told when a target stops.
 *
 * `monitor(watcher, target)` returns an id; when the target stops the watcher receives
 * `{ type: 'shoal.down', ref: target, reason, monitorId }` exactly once, where reason is
 * `stopped` (stopped normally, idle timeout included), `crashed` (stopped by supervision after a
 * crash), `noproc` (the target did not exist when the monitor was set: sent at once), or
 * `node-down` (the target's node went down or became unreachable).
 *
 * Bookkeeping, all O(1) per monitor:
 * - `held`: monitors whose watcher is on this node, by id (for `demonitor`, `nodeDown`);
 * - the target cell's `watches`: monitors on a local target, by `${watcher node}#${id}`;
 * - `inbound`: monitors that remote watchers set on local targets (dropped when their node
 *   goes down).
 * A stopping watcher's monitors are removed; a down message is sent through the ordinary send
 * path, so a remote watcher gets it through the router.
 *
 * Ids are unique in the process (one counter), so `demonitor(id)` needs no system argument;
 * a remote node keys its records by watcher node and id, which is unique across the cluster.
 */
import type { Cell } from './cell.js';
import { NotLocalError } from './errors.js';
import type { ActorRef } from './ref.js';
import type { ActorSystem } from './system.js';

export type DownReason = 'stopped' | 'crashed' | 'node-down' | 'noproc';

export interface DownMessage {
  readonly type: 'shoal.down';
  readonly ref: ActorRef<unknown>;
  readonly reason: DownReason;
  readonly monitorId: number;
}

const downReasons: ReadonlySet<unknown> = new Set<DownReason>(['stopped', 'crashed', 'node-down', 'noproc']);

/** Type guard for the system message a monitor delivers. */
export function isDownMessage(msg: unknown): msg is DownMessage {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Partial<DownMessage>;
  return m.type === 'shoal.down' && typeof m.monitorId === 'number' && downReasons.has(m.reason) && typeof m.ref === 'object';
}

type AnyRef = ActorRef<unknown>;

interface Held {
  readonly watcher: AnyRef;
  readonly target: AnyRef;
  readonly watcherCell: Cell | undefined;
  /** The local target's cell; undefined for a remote target. */
  readonly targetCell: Cell | undefined;
}

let nextMonitorId = 1;
/** Which system holds each live monitor id (for the one-argument `demonitor`). */
const owners = new Map<number, MonitorTable>();

export function monitorOwner(id: number): MonitorTable | undefined {
  return owners.get(id);
}

function watchKey(node: string, id: number): string {
  return `${node}#${id}`;
}

export class MonitorTable {
  private readonly held = new Map<number, Held>();
  private readonly inbound = new Map<string, { node: string; cell: Cell }>();

  constructor(private readonly system: ActorSystem) {}

  get size(): number {
    return this.held.size + this.inbound.size;
  }

  monitor(watcher: AnyRef, target: AnyRef): number {
    const system = this.system;
    if (watcher.node !== system.name) throw new NotLocalError(`the watcher ${watcher.toString()} is not on node ${system.name}`);
    const id = nextMonitorId++;
    const watcherCell = system.resolveLocal(watcher);
    if (target.node !== system.name) {
      const router = system.remoteRouter;
      if (router === undefined) {
        system.sendDown(watcher, target, 'node-down', id);
        return id;
      }
      this.hold(id, { watcher, target, watcherCell, targetCell: undefined });
      try {
        router.monitor(watcher, target, id);
      } catch (err) {
        this.release(id);
        throw err;
      }
      return id;
    }
    const targetCell = system.resolveLocal(target);
    if (targetCell === undefined) {
      system.sendDown(watcher, target, 'noproc', id);
      return id;
    }
    (targetCell.watches ??= new Map()).set(watchKey(watcher.node, id), { watcher, id });
    this.hold(id, { watcher, target, watcherCell, targetCell });
    return id;
  }

  /** Removes a monitor; false if it had already fired or been removed. */
  demonitor(id: number): boolean {
    const h = this.release(id);
    if (h === undefined) return false;
    if (h.targetCell !== undefined) {
      h.targetCell.watches?.delete(watchKey(h.watcher.node, id));
      return true;
    }
    try {
      this.system.remoteRouter?.demonitor(h.watcher, h.target, id);
    } catch (err) {
      this.system.log.warn('router failed to forward a demonitor', { err, monitorId: id });
    }
    return true;
  }

  /** A local target stopped: every watcher gets its down message. */
  targetStopped(cell: Cell, reason: DownReason): void {
    const watches = cell.watches;
    if (watches === undefined) return;
    cell.watches = undefined;
    for (const [key, w] of watches) {
      if (w.watcher.node === this.system.name) this.release(w.id);
      else this.inbound.delete(key);
      this.system.sendDown(w.watcher, cell.ref, reason, w.id);
    }
  }

  /** A local watcher stopped: its monitors go away with it. */
  watcherStopped(cell: Cell): void {
    if (cell.held === undefined) return;
    for (const id of [...cell.held]) this.demonitor(id);
    cell.held = undefined;
  }

  /** Router inbound: a remote watcher monitors a local target. */
  remoteMonitor(watcher: AnyRef, target: AnyRef, id: number): void {
    const cell = this.system.resolveLocal(target);
    if (cell === undefined) {
      this.system.sendDown(watcher, target, 'noproc', id);
      return;
    }
    const key = watchKey(watcher.node, id);
    (cell.watches ??= new Map()).set(key, { watcher, id });
    this.inbound.set(key, { node: watcher.node, cell });
  }

  /** Router inbound: a remote watcher removed its monitor. */
  remoteDemonitor(watcher: AnyRef, id: number): void {
    const key = watchKey(watcher.node, id);
    const entry = this.inbound.get(key);
    if (entry === undefined) return;
    this.inbound.delete(key);
    entry.cell.watches?.delete(key);
  }

  /** Router inbound: a down message for a remote target arrived; the monitor is spent. */
  remoteDown(id: number, targetNode: string): void {
    const h = this.held.get(id);
    if (h !== undefined && h.targetCell === undefined && h.target.node === targetNode) this.release(id);
  }

  /** `node` is gone: its targets are down for our watchers; its watchers' monitors are void. */
  nodeDown(node: string): void {
    for (const [id, h] of [...this.held]) {
      if (h.target.node !== node) continue;
      this.release(id);
      this.system.sendDown(h.watcher, h.target, 'node-down', id);
    }
    for (const [key, entry] of [...this.inbound]) {
      if (entry.node !== node) continue;
      this.inbound.delete(key);
      entry.cell.watches?.delete(key);
    }
  }

  private hold(id: number, h: Held): void {
    this.held.set(id, h);
    owners.set(id, this);
    if (h.watcherCell !== undefined) (h.watcherCell.held ??= new Set()).add(id);
  }

  private release(id: number): Held | undefined {
    const h = this.held.get(id);
    if (h === undefined) return undefined;
    this.held.delete(id);
    owners.delete(id);
    h.watcherCell?.held?.delete(id);
    return h;
  }
}
