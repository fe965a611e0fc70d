/**
 * `npm run bench -- store [--quick] [--floor-only] [--cpu-prof-dir=DIR]`: the replicated store of
 * issue 4 on a 3-node loopback cluster, beside its floor (the same writes and reads done by three
 * bare processes: store-floor.ts) and raw LMDB, and the CRDT merge rate beside Automerge, in one
 * run. `--floor-only` runs the floor alone.
 *
 * Setup (store-cluster.ts): node n1 runs in this process (`startNode`, the composition
 * `shoal node start` runs), n2 and n3 are `shoal node start` child processes; n1 stages both
 * joins and commits (P = 64, N = 3: every node holds every partition). The load is driven
 * through n1's `RingService` (no HTTP) on a generic JSON bucket (`putJson`: the record type
 * every node knows without registration) with a ~190-byte JSON value shaped like a VM record,
 * at the bucket defaults N = 3, R = 2, W = 2. A write is coordinated by the first up primary of
 * its key's partition (n1's own vnode for a third of the keys, forwarded over the cluster
 * transport for the rest), persisted there, then merged on the two other replicas, and
 * acknowledged after two copies.
 *
 * - quorum writes: 64 concurrent clients each write distinct new keys back to back for
 *   `writeSeconds`: writes/s, p50 and p99 latency of one `putJson` (and apart for the keys n1
 *   coordinates and those it forwards), the CPU time all three node processes spent per write
 *   (n1's includes the 64 client loops), and how busy the whole machine was meanwhile (/proc/stat:
 *   a saturated machine means CPU per write is the limit; other jobs show as the difference);
 * - fill: more writes (not timed) until `entitiesMin` keys exist, for the memory figure;
 * - resident memory per stored entity: n2's `RssAnon` (process-private memory; LMDB's map is
 *   file-backed and shows in `RssFile`, reported beside it) sampled while n2 is idle before the
 *   first write and after the fill (each the minimum of several samples after a pause), over the
 *   entities n2 holds (all of them: N = 3 on 3 nodes). It includes whatever V8 heap and malloc
 *   growth the load left behind in n2, so it bounds the steady cost from above; n1's live V8
 *   heap per entity after a full GC (in-process, so a GC can be forced) is printed beside it;
 * - quorum reads: 64 clients `getJson` random written keys for `readSeconds`: reads/s, p50, p99,
 *   CPU per read;
 * - handoff: a fourth node (child n4) is started and its join committed on n1; from the commit
 *   until every node is on the new ring with `transfers` complete. MB/s = the bytes every
 *   sender's targets acknowledged (ring host counter `handoffBytesSent`) / that time.
 * Baselines run after the cluster stopped: the floor (store-floor.ts: writes with n1 coordinating
 * all, then routed through one coordinator per key, and reads, with the stored record's size),
 * then (store-baselines.ts) raw LMDB with values of that size, CRDT merges, Automerge changes.
 *
 * `--cpu-prof-dir=DIR` makes the child nodes write V8 CPU profiles there when they stop.
 * Every child process is ended by its PID (SIGTERM, then SIGKILL after 5 s) and the temp
 * directory removed, also on failure or Ctrl-C.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RunningNode } from '@shoal/cluster';
import { keyPartition } from '@shoal/ring';
import { seededRandom } from '@shoal/runtime';
import { Keyring, formatKeyringFile, generateKey } from '@shoal/wire';
import type { BenchOptions } from './main.js';
import { percentile, type Row } from './report.js';
import { automergeChanges, crdtMerges, rawLmdb, type LmdbFigures } from './store-baselines.js';
import { startFloor, type Floor, type FloorMode } from './store-floor.js';
import { machineCpu, procUsage, sleep } from './procs.js';
import { inProcessNode, settled, startChildNode, startLocalNode, stopAll, until, type BenchNode, type ChildNode, type HostCounters, type NodeState } from './store-cluster.js';

const clients = 64;
const bucket = 'bench';

interface Settings {
  writeSeconds: number;
  readSeconds: number;
  entitiesMin: number;
  lmdbCount: number;
  crdtCount: number;
  automergeCount: number;
}

const full: Settings = { writeSeconds: 10, readSeconds: 10, entitiesMin: 150_000, lmdbCount: 200_000, crdtCount: 200_000, automergeCount: 5_000 };
const quick: Settings = { writeSeconds: 3, readSeconds: 3, entitiesMin: 30_000, lmdbCount: 50_000, crdtCount: 50_000, automergeCount: 2_000 };

/** The stored record's size when `--floor-only` skips the cluster (a full run measures it: ~200 B). */
const floorOnlyValueBytes = 200;

const keyOf = (i: number): string => `${i.toString(16).padStart(8, '0')}-7c2e-4b1a-9f3d-0242ac120002`;

/** ~190 bytes of JSON shaped like a VM record. */
function valueOf(i: number): Record<string, unknown> {
  return { alias: `web-${i}`, state: 'running', ram: 2048, cpuCap: 200, hypervisor: '5f0b7c1e-7c2e-4b1a-9f3d-0242ac120002', package: '0e1d2c3b-7c2e-4b1a-9f3d-0242ac120002', tags: ['production', 'web'] };
}

interface LoadFigures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: Map<string, number>;
  /** CPU seconds per operation of each node process (n1 first), and the load average after. */
  cpuPerOp: number[];
  /** Cores the whole machine was busy during the window, and how many of them the three nodes used. */
  machineCores: number;
  nodesCores: number;
  cores: number;
  /** Writes only: latencies of the keys n1 coordinates and of those it forwards. */
  splitNote?: string;
}

/** CPU seconds used so far by each node: n1 (this process) first, then the children. */
function nodesCpu(children: readonly { readonly pid: number }[]): number[] {
  const own = process.cpuUsage();
  return [(own.user + own.system) / 1e6, ...children.map((c) => procUsage(c.pid).cpuSec)];
}

/** `clients` loops calling `op` until `stop()` says so; latency of each call, CPU of each node. */
async function load(op: () => Promise<void>, stop: () => boolean, children: readonly { readonly pid: number }[] = []): Promise<LoadFigures> {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const loop = async (): Promise<void> => {
    while (!stop()) {
      const t0 = performance.now();
      try {
        await op();
        latencies.push(performance.now() - t0);
      } catch (err) {
        const name = err instanceof Error ? err.name : 'Error';
        failures.set(name, (failures.get(name) ?? 0) + 1);
      }
    }
  };
  const cpu0 = nodesCpu(children);
  const m0 = machineCpu();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  const m1 = machineCpu();
  const cpuPerOp = nodesCpu(children).map((c, i) => (c - cpu0[i]!) / Math.max(1, latencies.length));
  latencies.sort((a, b) => a - b);
  const machineCores = ((m1.busySec - m0.busySec) / (m1.allSec - m0.allSec)) * m1.cores;
  const nodesCores = (cpuPerOp.reduce((a, b) => a + b, 0) * latencies.length) / elapsed;
  return { perSecond: latencies.length / elapsed, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), failures, cpuPerOp, machineCores, nodesCores, cores: m1.cores };
}

const forSeconds = (seconds: number): (() => boolean) => {
  const end = performance.now() + seconds * 1000;
  return () => performance.now() > end;
};

function failureNote(f: LoadFigures): string {
  return f.failures.size === 0 ? 'no failures' : `failures: ${[...f.failures].map(([k, v]) => `${v} ${k}`).join(', ')}`;
}

/** How busy the machine was in the window, and how much of it the three processes were (the rest: other jobs, the kernel's network work). */
function busyNote(f: LoadFigures): string {
  return `machine busy ${f.machineCores.toFixed(2)} of ${f.cores} cores, the 3 processes ${f.nodesCores.toFixed(2)}`;
}

/** CPU per operation of each node, µs, as `a + b + c`. */
function cpuMicros(f: LoadFigures): string {
  return f.cpuPerOp.map((c) => Math.round(c * 1e6)).join(' + ');
}

function describe(f: LoadFigures, unit: string): string {
  return `${Math.round(f.perSecond)} ${unit}/s, p50 ${f.p50Ms.toFixed(2)} ms, p99 ${f.p99Ms.toFixed(2)} ms; CPU µs per op n1 + n2 + n3 = ${cpuMicros(f)}; ${busyNote(f)}; ${failureNote(f)}`;
}

/** A child's resident memory, KiB: process-private (RssAnon) and file-backed (RssFile, LMDB's map). */
function residentKiB(pid: number): { anon: number; file: number } {
  const u = procUsage(pid);
  return { anon: u.anonKiB, file: u.fileKiB };
}

/** The minimum of `samples` readings of a child's memory, after `pauseMs` of quiet. */
async function idleResident(pid: number, pauseMs: number, samples = 6): Promise<{ anon: number; file: number }> {
  await sleep(pauseMs);
  let best = residentKiB(pid);
  for (let i = 1; i < samples; i++) {
    await sleep(500);
    const r = residentKiB(pid);
    if (r.anon < best.anon) best = r;
  }
  return best;
}

/** This process's live V8 heap after a full GC, bytes (the benchmark forces the GC). */
function liveHeapBytes(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function sumCounters(states: readonly NodeState[]): HostCounters {
  return {
    handoffRecordsSent: states.reduce((a, st) => a + st.counters.handoffRecordsSent, 0),
    handoffBytesSent: states.reduce((a, st) => a + st.counters.handoffBytesSent, 0),
  };
}

const statesOf = (nodes: readonly BenchNode[]): Promise<NodeState[]> => Promise.all(nodes.map((n) => n.state()));

/**
 * Stages joins of `names` on n1, commits, and waits until every node settled on the new ring.
 * Returns the seconds from the commit, and from the commit until the first handoff batch was
 * acknowledged (sessions start on the host's handoff tick).
 */
async function joinAndSettle(n1: RunningNode, names: readonly string[], nodes: readonly BenchNode[]): Promise<{ seconds: number; firstBatchSeconds: number }> {
  await until(`${names.join(', ')} alive in n1's membership`, () => names.every((n) => n1.swim.member(n)?.state === 'alive'), 30_000);
  for (const node of names) await n1.ring.stage({ kind: 'join', node });
  const sentBefore = sumCounters(await statesOf(nodes)).handoffRecordsSent;
  const t0 = performance.now();
  const plan = await n1.ring.commit();
  let firstBatchSeconds = NaN;
  const done = async (): Promise<boolean> => {
    const states = await statesOf(nodes);
    if (Number.isNaN(firstBatchSeconds) && sumCounters(states).handoffRecordsSent > sentBefore) firstBatchSeconds = (performance.now() - t0) / 1000;
    return settled(nodes, states, plan.nextRing.version);
  };
  await until(`ring version ${plan.nextRing.version} settled with transfers complete`, done, 600_000);
  return { seconds: (performance.now() - t0) / 1000, firstBatchSeconds };
}

interface Memory {
  entities: number;
  storedBytes: number;
  before: { anon: number; file: number };
  after: { anon: number; file: number };
  heapPerEntity: number;
}

interface ClusterFigures {
  writes: LoadFigures;
  reads: LoadFigures;
  readMisses: number;
  memory: Memory;
  handoff: { seconds: number; firstBatchSeconds: number; bytes: number; records: number };
}

/** Writes for `writeSeconds` (after a warm-up), then fills up to `entitiesMin` keys; memory before and after. */
async function writePhase(n1: RunningNode, children: readonly ChildNode[], s: Settings, progress: (msg: string) => void): Promise<{ writes: LoadFigures; memory: Memory }> {
  const n2 = children[0]!;
  const heapBefore = liveHeapBytes();
  const before = await idleResident(n2.pid, 3_000);
  let next = 0;
  // Latencies apart for the keys n1 coordinates (its vnode is the first primary) and the keys it forwards.
  const ring = n1.ring.view.ring!;
  // (Classified after the window: hashing each key during it would add to n1's CPU per write.)
  const split = { own: [] as number[], forwarded: [] as number[], timed: [] as [number, number][], on: false };
  const write = async (): Promise<void> => {
    const i = next++;
    const t0 = performance.now();
    await n1.ring.putJson(bucket, keyOf(i), valueOf(i) as never);
    if (split.on) split.timed.push([i, performance.now() - t0]);
  };
  progress('warm-up: 1 s of writes');
  await load(write, forSeconds(1));
  progress(`quorum writes: ${clients} clients for ${s.writeSeconds} s`);
  split.on = true;
  const writes = await load(write, forSeconds(s.writeSeconds), children);
  split.on = false;
  for (const [i, ms] of split.timed) (ring.owners[keyPartition(ring, bucket, keyOf(i))]![0] === 'n1' ? split.own : split.forwarded).push(ms);
  for (const xs of [split.own, split.forwarded]) xs.sort((a, b) => a - b);
  writes.splitNote = `p50 / p99: ${percentile(split.own, 0.5).toFixed(2)} / ${percentile(split.own, 0.99).toFixed(2)} ms for the ${split.own.length} keys n1 coordinates, ${percentile(split.forwarded, 0.5).toFixed(2)} / ${percentile(split.forwarded, 0.99).toFixed(2)} ms for the ${split.forwarded.length} it forwards`;
  progress(`  ${describe(writes, 'writes')}; ${writes.splitNote}`);
  if (next < s.entitiesMin) {
    progress(`fill: writing until ${s.entitiesMin} keys exist (now ${next})`);
    await load(write, () => next >= s.entitiesMin);
  }
  const entities = next;
  const sample = keyOf(1);
  const stored = n1.storage.store<unknown>('ring.data').get([keyPartition(n1.ring.view.ring!, bucket, sample), bucket, sample]);
  progress(`${entities} keys written; sampling n2's memory while idle`);
  const after = await idleResident(n2.pid, 5_000);
  const heapPerEntity = (liveHeapBytes() - heapBefore) / entities;
  return { writes, memory: { entities, storedBytes: stored instanceof Uint8Array ? stored.byteLength : 0, before, after, heapPerEntity } };
}

async function readPhase(n1: RunningNode, children: readonly ChildNode[], entities: number, s: Settings, progress: (msg: string) => void): Promise<{ reads: LoadFigures; misses: number }> {
  progress(`quorum reads: ${clients} clients for ${s.readSeconds} s`);
  const random = seededRandom(7);
  let misses = 0;
  const read = async (): Promise<void> => {
    if ((await n1.ring.getJson(bucket, keyOf(random.int(entities)))) === undefined) misses++;
  };
  await load(read, forSeconds(1));
  const reads = await load(read, forSeconds(s.readSeconds), children);
  progress(`  ${describe(reads, 'reads')}; ${misses} not found`);
  return { reads, misses };
}

async function throughCluster(dir: string, s: Settings, nodeArgs: readonly string[], progress: (msg: string) => void): Promise<ClusterFigures> {
  const keyFile = path.join(dir, 'cluster.key');
  writeFileSync(keyFile, formatKeyringFile(new Keyring([generateKey(seededRandom(42))])), { mode: 0o600 });
  const n1 = await startLocalNode(dir, keyFile);
  const children: ChildNode[] = [];
  try {
    const join = n1.gossipAddress;
    children.push(await startChildNode('n2', dir, keyFile, join, nodeArgs), await startChildNode('n3', dir, keyFile, join, nodeArgs));
    const trio = [inProcessNode(n1), ...children];
    await joinAndSettle(n1, ['n2', 'n3'], trio);
    progress(`cluster up: n1 in-process, n2 (pid ${children[0]!.pid}), n3 (pid ${children[1]!.pid}); ring v2, P=64, N=3`);
    const { writes, memory } = await writePhase(n1, children, s, progress);
    const { reads, misses } = await readPhase(n1, children, memory.entities, s, progress);

    progress('handoff: a fourth node joins');
    children.push(await startChildNode('n4', dir, keyFile, join, nodeArgs));
    const four = [...trio, children[2]!];
    const before = sumCounters(await statesOf(four));
    const { seconds, firstBatchSeconds } = await joinAndSettle(n1, ['n4'], four);
    const after = sumCounters(await statesOf(four));
    const handoff = { seconds, firstBatchSeconds, bytes: after.handoffBytesSent - before.handoffBytesSent, records: after.handoffRecordsSent - before.handoffRecordsSent };
    progress(`  ${(handoff.bytes / 1e6).toFixed(1)} MB, ${handoff.records} records in ${seconds.toFixed(1)} s (first batch acknowledged after ${firstBatchSeconds.toFixed(1)} s)`);
    return { writes, reads, readMisses: misses, memory, handoff };
  } finally {
    for (const c of children.reverse()) await c.stop();
    await n1.stop();
  }
}

interface FloorFigures {
  writes: LoadFigures;
  /** Writes routed through one coordinator per key (store-floor.ts `forward`). */
  forwarded: LoadFigures;
  reads: LoadFigures;
  readMisses: number;
}

/** Runs `fn` on a fresh floor in `dir`, and ends the floor (its replicas by PID) however `fn` ends. */
async function withFloor<T>(dir: string, mode: FloorMode, value: Uint8Array, fn: (floor: Floor) => Promise<T>): Promise<T> {
  const floor = await startFloor(dir, mode, keyOf, value);
  try {
    return await fn(floor);
  } finally {
    await floor.stop();
  }
}

/** `clients` loops of floor writes for `writeSeconds` after 1 s of warm-up; and how many keys were written. */
async function floorWrites(floor: Floor, label: string, s: Settings, progress: (msg: string) => void): Promise<{ writes: LoadFigures; written: number }> {
  let next = 0;
  const write = (): Promise<void> => floor.write(next++);
  progress(`floor (${label}): ${clients} clients writing for ${s.writeSeconds} s (after 1 s of warm-up)`);
  await load(write, forSeconds(1));
  const writes = await load(write, forSeconds(s.writeSeconds), floor.pids.map((pid) => ({ pid })));
  progress(`  ${describe(writes, 'writes')}`);
  return { writes, written: next };
}

/**
 * The floor (store-floor.ts): the same clients, windows and stored bytes as the cluster phase,
 * over three processes that do only what any durable W = 2 write and R = 2 read must — first
 * with n1 coordinating every write (then reads of those keys), then with writes routed through
 * one coordinator per key.
 */
async function throughFloor(dir: string, s: Settings, valueBytes: number, progress: (msg: string) => void): Promise<FloorFigures> {
  const value = new Uint8Array(valueBytes).fill(0x61);
  const direct = await withFloor(path.join(dir, 'direct'), 'direct', value, async (floor) => {
    const { writes, written } = await floorWrites(floor, `direct, ${valueBytes} B values`, s, progress);
    const random = seededRandom(7);
    let misses = 0;
    const read = async (): Promise<void> => {
      if (!(await floor.read(random.int(written)))) misses++;
    };
    await load(read, forSeconds(1));
    const reads = await load(read, forSeconds(s.readSeconds), floor.pids.map((pid) => ({ pid })));
    progress(`  ${describe(reads, 'reads')}; ${misses} not found`);
    return { writes, reads, readMisses: misses };
  });
  const forwarded = await withFloor(path.join(dir, 'forward'), 'forward', value, async (floor) => (await floorWrites(floor, 'forward', s, progress)).writes);
  return { ...direct, forwarded };
}

function floorRows(f: FloorFigures, c: ClusterFigures | undefined): Row[] {
  const b = 'store';
  const what = `${clients} clients; 3 processes: ws + AES-256-GCM + msgpackr frames per turn, LMDB; no CRDT, hash tree or routing (store-floor.ts)`;
  const cpu = (l: LoadFigures): string => `n1 + n2 + n3 = ${cpuMicros(l)} µs; ${busyNote(l)}`;
  return [
    { bench: b, metric: 'floor: durable writes, n1 coordinates all', value: f.writes.perSecond, unit: 'writes/s', baseline: 'Shoal quorum writes, same run', baseline_value: c?.writes.perSecond ?? null, note: `2 of 3 copies; ${what}; p50 ${f.writes.p50Ms.toFixed(2)}, p99 ${f.writes.p99Ms.toFixed(2)} ms; ${failureNote(f.writes)}` },
    { bench: b, metric: 'floor: CPU per write, n1 coordinates all', value: sum(f.writes.cpuPerOp) * 1e6, unit: 'µs', baseline: 'Shoal CPU per quorum write', baseline_value: c ? sum(c.writes.cpuPerOp) * 1e6 : null, note: cpu(f.writes) },
    { bench: b, metric: 'floor: durable writes, one coordinator per key', value: f.forwarded.perSecond, unit: 'writes/s', baseline: 'Shoal quorum writes, same run', baseline_value: c?.writes.perSecond ?? null, note: `two thirds forwarded; the coordinator sends n1 its copy at once; p50 ${f.forwarded.p50Ms.toFixed(2)}, p99 ${f.forwarded.p99Ms.toFixed(2)} ms; ${failureNote(f.forwarded)}` },
    { bench: b, metric: 'floor: CPU per write, one coordinator per key', value: sum(f.forwarded.cpuPerOp) * 1e6, unit: 'µs', baseline: 'Shoal CPU per quorum write', baseline_value: c ? sum(c.writes.cpuPerOp) * 1e6 : null, note: cpu(f.forwarded) },
    { bench: b, metric: 'floor: reads, 2 of 3 copies', value: f.reads.perSecond, unit: 'reads/s', baseline: 'Shoal quorum reads, same run', baseline_value: c?.reads.perSecond ?? null, note: `${failureNote(f.reads)}; ${f.readMisses} not found; p50 ${f.reads.p50Ms.toFixed(2)} ms, p99 ${f.reads.p99Ms.toFixed(2)} ms` },
    { bench: b, metric: 'floor: CPU per read', value: sum(f.reads.cpuPerOp) * 1e6, unit: 'µs', baseline: 'Shoal CPU per quorum read', baseline_value: c ? sum(c.reads.cpuPerOp) * 1e6 : null, note: cpu(f.reads) },
  ];
}

const mark = (ok: boolean): string => (ok ? '✔' : '✘');
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

function memoryRows(m: Memory): Row[] {
  const b = 'store';
  const perEntityAnon = ((m.after.anon - m.before.anon) * 1024) / m.entities;
  const perEntityFile = ((m.after.file - m.before.file) * 1024) / m.entities;
  return [
    { bench: b, metric: 'resident per stored entity (n2 RssAnon)', value: perEntityAnon, unit: 'bytes', baseline: 'live V8 heap per entity, n1 after full GC', baseline_value: m.heapPerEntity, target: `< 2048 ${mark(perEntityAnon < 2048)}`, note: `${m.entities} entities; n2 RssAnon ${(m.before.anon / 1024).toFixed(0)} -> ${(m.after.anon / 1024).toFixed(0)} MiB, idle` },
    { bench: b, metric: 'file-backed resident per entity (n2 RssFile)', value: perEntityFile, unit: 'bytes', baseline: '-', baseline_value: null, note: `LMDB map pages (page cache, evictable); RssFile ${(m.before.file / 1024).toFixed(0)} -> ${(m.after.file / 1024).toFixed(0)} MiB` },
  ];
}

function rows(c: ClusterFigures, lmdb: LmdbFigures, crdt: { perSecond: number; recordBytes: number }, automerge: number): Row[] {
  const b = 'store';
  const mbps = c.handoff.bytes / 1e6 / c.handoff.seconds;
  const quorum = `${clients} clients, N=3 R=2 W=2, ~190 B JSON values (${c.memory.storedBytes} B stored record)`;
  const cpuNote = (f: LoadFigures): string => `n1 + n2 + n3 = ${cpuMicros(f)} µs (n1 includes the clients); ${busyNote(f)}`;
  return [
    { bench: b, metric: 'quorum writes (putJson) on 3 nodes', value: c.writes.perSecond, unit: 'writes/s', baseline: 'raw LMDB async put, pipelined, 1 process', baseline_value: lmdb.putsPipelined, target: `>= 20000 ${mark(c.writes.perSecond >= 20_000)}`, note: `${quorum}; ${failureNote(c.writes)}` },
    { bench: b, metric: 'quorum write p50', value: c.writes.p50Ms, unit: 'ms', baseline: `raw LMDB put p50, ${clients} callers awaiting`, baseline_value: lmdb.putP50Ms, note: c.writes.splitNote ?? '' },
    { bench: b, metric: 'quorum write p99', value: c.writes.p99Ms, unit: 'ms', baseline: `raw LMDB put p99, ${clients} callers awaiting`, baseline_value: lmdb.putP99Ms, target: `<= 20 ${mark(c.writes.p99Ms <= 20)}` },
    { bench: b, metric: 'CPU per quorum write, all 3 nodes', value: sum(c.writes.cpuPerOp) * 1e6, unit: 'µs', baseline: 'raw LMDB CPU per put, 64 callers', baseline_value: lmdb.putCpuMicros, note: cpuNote(c.writes) },
    { bench: b, metric: `raw LMDB put, ${clients} callers each awaiting`, value: lmdb.putsAwaited, unit: 'puts/s', baseline: 'raw LMDB async put, pipelined', baseline_value: lmdb.putsPipelined, note: 'one commit per round of callers' },
    { bench: b, metric: 'quorum reads (getJson) on 3 nodes', value: c.reads.perSecond, unit: 'reads/s', baseline: 'raw LMDB get, 1 process', baseline_value: lmdb.gets, target: `>= 40000 ${mark(c.reads.perSecond >= 40_000)}`, note: `${quorum}; ${failureNote(c.reads)}; ${c.readMisses} not found` },
    { bench: b, metric: 'quorum read p50', value: c.reads.p50Ms, unit: 'ms', baseline: '-', baseline_value: null },
    { bench: b, metric: 'quorum read p99', value: c.reads.p99Ms, unit: 'ms', baseline: '-', baseline_value: null, target: `<= 20 ${mark(c.reads.p99Ms <= 20)}` },
    { bench: b, metric: 'CPU per quorum read, all 3 nodes', value: sum(c.reads.cpuPerOp) * 1e6, unit: 'µs', baseline: '-', baseline_value: null, note: cpuNote(c.reads) },
    { bench: b, metric: 'handoff, a 4th node joins', value: mbps, unit: 'MB/s', baseline: '-', baseline_value: null, note: `${(c.handoff.bytes / 1e6).toFixed(1)} MB (${c.handoff.records} records) acknowledged in ${c.handoff.seconds.toFixed(1)} s, commit to transfers complete on all 4; first batch acknowledged ${c.handoff.firstBatchSeconds.toFixed(1)} s after the commit` },
    { bench: b, metric: 'CRDT merge, VM record ⊔ delta, 1 core', value: crdt.perSecond, unit: 'merges/s', baseline: 'Automerge A.change, one field, small doc', baseline_value: automerge, target: `>= 100000 ${mark(crdt.perSecond >= 100_000)}`, note: `record ${crdt.recordBytes} B encoded` },
    ...memoryRows(c.memory),
  ];
}

export async function runStoreBench(opts: BenchOptions): Promise<Row[]> {
  const s = opts.args.includes('--quick') ? quick : full;
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-bench-store-'));
  const interrupted = (): void => {
    void stopAll().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupted);
  try {
    if (opts.args.includes('--floor-only')) return floorRows(await throughFloor(path.join(dir, 'floor'), s, floorOnlyValueBytes, opts.progress), undefined);
    const profDir = opts.args.find((a) => a.startsWith('--cpu-prof-dir='))?.slice('--cpu-prof-dir='.length);
    const cluster = await throughCluster(dir, s, profDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profDir)] : [], opts.progress);
    const floor = await throughFloor(path.join(dir, 'floor'), s, cluster.memory.storedBytes, opts.progress);
    opts.progress(`baseline: raw LMDB, ${s.lmdbCount} puts and gets of ${cluster.memory.storedBytes} B values`);
    const lmdb = await rawLmdb(path.join(dir, 'lmdb'), s.lmdbCount, clients, cluster.memory.storedBytes);
    opts.progress('baseline: CRDT merges and Automerge changes');
    const crdt = crdtMerges(s.crdtCount);
    const automerge = automergeChanges(s.automergeCount);
    return [...rows(cluster, lmdb, crdt, automerge), ...floorRows(floor, cluster)];
  } finally {
    process.removeListener('SIGINT', interrupted);
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
