/**
 * Test harness: SWIM clusters in the deterministic simulator. Each member is a real SwimNode
 * on its simulated node's World (encryption on), so the simulation runs the production shell.
 */
import { seededRandom } from '@shoal/runtime';
import type { Sim, SimNode } from '@shoal/sim';
import { Keyring } from '@shoal/wire';
import { SwimNode, swimConfig, type MemberEvent, type MemberMeta, type MemberState, type SwimConfig } from '@shoal/swim';

export const gossipPort = 7946;
export const cluster = 'test-cluster';

/** The cluster key of a test run (fixed bytes: tests must not depend on the OS). */
export function testKeyring(seed = 1): Keyring {
  return new Keyring([seededRandom(seed).bytes(32)]);
}

export interface Member {
  readonly name: string;
  readonly sim: SimNode;
  swim: SwimNode;
  readonly events: MemberEvent[];
}

export interface ClusterOptions {
  config?: SwimConfig;
  keyring?: Keyring;
  /** Names are `${prefix}${i}`. */
  prefix?: string;
}

export function meta(host: string): MemberMeta {
  return { role: 'core', version: '0.1.0', addresses: { gossip: `${host}:${gossipPort}`, cluster: `${host}:${gossipPort + 1}` }, tags: {} };
}

/** Creates and starts a SwimNode on `node`'s current World. */
export async function startMember(sim: Sim, node: SimNode, opts: ClusterOptions = {}, events: MemberEvent[] = []): Promise<Member> {
  const swim = new SwimNode({
    world: node.world,
    config: opts.config ?? swimConfig('lan'),
    name: node.name,
    meta: meta(node.host),
    keyring: opts.keyring ?? testKeyring(),
    cluster,
  });
  await sim.settle(swim.start());
  swim.subscribe((e) => events.push(e));
  return { name: node.name, sim: node, swim, events };
}

/** `count` members started at once; every one joins the first in the background. */
export async function startCluster(sim: Sim, count: number, opts: ClusterOptions = {}): Promise<Member[]> {
  const prefix = opts.prefix ?? 'n';
  const members: Member[] = [];
  for (let i = 0; i < count; i++) members.push(await startMember(sim, sim.addNode(`${prefix}${i}`), opts));
  const seed = members[0]!.swim.address;
  for (const m of members.slice(1)) void m.swim.joinInBackground([seed]);
  return members;
}

/** The state `observer` holds for `name` (undefined if unknown). */
export function stateOf(observer: Member, name: string): MemberState | undefined {
  return observer.swim.member(name)?.state;
}

/** True when every member in `observers` that is running sees every name in `names` in `state`. */
export function allSee(observers: readonly Member[], names: readonly string[], state: MemberState): boolean {
  for (const o of observers) {
    if (!o.swim.running) continue;
    for (const n of names) if (n !== o.name && stateOf(o, n) !== state) return false;
  }
  return true;
}

/** Runs until every member sees every other alive (the cluster converged). */
export async function converge(sim: Sim, members: readonly Member[], timeoutMs = 60_000): Promise<void> {
  const n = members.length;
  // Counts first (cheap, checked after every event), then the exact check once.
  const done = (): boolean => members.every((m) => !m.swim.running || m.swim.counts().alive === n) && allSee(members, members.map((m) => m.name), 'alive');
  await sim.runUntil(done, { timeoutMs, what: 'every member seeing every other alive' });
}

/** Restarts a crashed simulated node with a fresh SwimNode on its new World. */
export async function restartMember(sim: Sim, m: Member, opts: ClusterOptions = {}): Promise<void> {
  m.sim.restart();
  const fresh = await startMember(sim, m.sim, opts, m.events);
  m.swim = fresh.swim;
}
