/**
 * The loopback cluster of the store benchmark: node `n1` runs in this process (`startNode` from
 * @shoal/cluster, so the load is driven through its `RingService` without HTTP), the others are
 * `shoal node start` child processes joined through n1's gossip address. Children are asked over
 * their HTTP API with their admin token (`DATA/admin.token`).
 *
 * Every child is ended by its PID (procs.ts `endChild`: SIGTERM, then SIGKILL after 5 s), also when the benchmark
 * fails or is interrupted (`stopAll`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNode, validateNodeConfig, type RunningNode } from '@shoal/cluster';
import { nodeWorld } from '@shoal/runtime';
import { endChild, sleep } from './procs.js';

/** The CLI's entry point (packages/cli/bin/shoal.js), from bench/dist/src. */
const shoalBin = fileURLToPath(new URL('../../../packages/cli/bin/shoal.js', import.meta.url));

/** A node's handoff counters (ring/src/host.ts `HostStatus.stats`), as the API serves them. */
export interface HostCounters {
  readonly handoffRecordsSent: number;
  readonly handoffBytesSent: number;
}

/** What the benchmark polls of a node: its ring version and handoff counters (one status request). */
export interface NodeState {
  readonly version: number;
  readonly counters: HostCounters;
}

interface ClusterStatusBody {
  readonly ring: { readonly version: number } | null;
  readonly vnodes: { readonly stats: HostCounters };
}

/** What the benchmark needs of any node, in-process or child. */
export interface BenchNode {
  state(): Promise<NodeState>;
  transfersComplete(): Promise<boolean>;
}

export function inProcessNode(node: RunningNode): BenchNode {
  return {
    state: async () => ({ version: node.ring.view.ring?.version ?? 0, counters: node.ring.host.status().stats }),
    transfersComplete: async () => node.ring.transfers()?.complete ?? false,
  };
}

/** Starts n1 in this process, bootstrapping a new cluster, its log discarded below `error`. */
export async function startLocalNode(dir: string, keyFile: string): Promise<RunningNode> {
  const config = validateNodeConfig({ name: 'n1', dataDir: path.join(dir, 'n1'), keyFile, httpPort: 0, gossipPort: 0, clusterPort: 0, swimPreset: 'local' }, hostname());
  return startNode(config, nodeWorld({ logLevel: 'error', logWrite: (s) => process.stderr.write(`[n1] ${s}`) }));
}

export interface ChildNode extends BenchNode {
  readonly pid: number;
  stop(): Promise<void>;
}

/** Children started and not yet stopped, so an interrupted run can end them. */
const running = new Set<ChildProcess>();

/** Registers a child the benchmark started, so that `stopAll` ends it if the run is interrupted. */
export function trackChild(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** Ends every child still running (SIGTERM, then SIGKILL), each by its PID. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => endChild(c)));
  running.clear();
}

/** Starts `shoal node start` as a child joining through `join`; resolves once it says it is up. */
export async function startChildNode(name: string, dir: string, keyFile: string, join: string, extraNodeArgs: readonly string[] = []): Promise<ChildNode> {
  const data = path.join(dir, name);
  const args = [shoalBin, 'node', 'start', '--name', name, '--data', data, '--key-file', keyFile, '--join', join, '--swim-preset', 'local', '--log-level', 'error', '--http-port', '0', '--gossip-port', '0', '--cluster-port', '0', '--sim-agents', '0'];
  const child = spawn(process.execPath, [...extraNodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  // Error-level log lines (stdout) are passed on; the rest is drained.
  child.stdout!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d.toString()}`));
  const http = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 30 s; stderr: ${stderr}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /API http:\/\/(\S+),/.exec(stderr);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was up; stderr: ${stderr}`));
    });
  });
  const token = readFileSync(path.join(data, 'admin.token'), 'utf8').trim();
  const api = async (method: string, route: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`http://${http}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${name}: ${method} ${route}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    pid: child.pid!,
    state: async () => {
      const body = (await api('GET', '/api/v1/cluster/status')) as ClusterStatusBody;
      return { version: body.ring?.version ?? 0, counters: body.vnodes.stats };
    },
    transfersComplete: async () => ((await api('GET', '/api/v1/cluster/transfers')) as { complete: boolean }).complete,
    stop: () => endChild(child),
  };
}

/** Polls `check` every `everyMs` until it holds; throws after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}

/** Every node on ring `version` (`states`: one status of each, already fetched) with nothing left to transfer. */
export async function settled(nodes: readonly BenchNode[], states: readonly NodeState[], version: number): Promise<boolean> {
  if (!states.every((st) => st.version === version)) return false;
  return (await Promise.all(nodes.map((n) => n.transfersComplete()))).every(Boolean);
}
