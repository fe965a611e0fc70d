/**
 * Hypervisor records in the ring's `hypervisors` bucket.
 *
 * Pure: a record splits into the bucket's fields (zones in chunks, each under the CRDT register
 * limits even at 4,096 zones) and joins back to the same record; a publish sets only what changed;
 * a stored value that does not check is reported, not served.
 *
 * In process, on loopback: a core node (ring of one) and an agent. The agent's record reaches the
 * store and `GET /api/v1/hypervisors` serves it; a reservation and a zone show up there; an older
 * revision never replaces a newer one; a stopped agent is listed down with its stored figures; a
 * hypervisor that is up cannot be removed, one that is down can, and it registers again when its
 * agent comes back; a malformed publish is refused.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { query, refFromJSON, systemOf } from '@shoal/actors';
import { crdtLimits, valueProblem, type Plain } from '@shoal/crdt';
import { agentReserve, askAgent, recordZoneBytesMax, startAgent, summaryBytes, validateAgentConfig } from '@shoal/hypervisor-agent';
import { QuorumTimeoutError, type RingService } from '@shoal/ring';
import { nodeWorld, type Clock } from '@shoal/runtime';
import type { HypervisorRecord, ZoneSummary } from '@shoal/wire';
import { HypervisorStore, StoreBusyError, publishesMax, joinRecord, recordOps, splitRecord, startNode, validateNodeConfig, zoneChunk } from '../src/index.js';

function uuid(n: number): string {
  return `6a1c0c5e-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function record(zones: number, seq = 1, extra: Partial<HypervisorRecord> = {}): HypervisorRecord {
  const list: ZoneSummary[] = Array.from({ length: zones }, (_, i) => ({ uuid: uuid(i), alias: 'a'.repeat(256), brand: 'joyent', state: 'running', ramMb: 8 }));
  return {
    v: 1,
    name: 'hv1',
    revision: { boot: 1_700_000_000_000, seq },
    updatedAt: '2026-11-22T12:00:00.000Z',
    agent: { cluster: '127.0.0.1:1', gossip: '127.0.0.1:2', version: '0.1.0', driver: 'sim', startedAt: '2026-11-22T11:00:00.000Z' },
    platform: 'sim',
    virtualisation: ['zone', 'lx', 'bhyve', 'kvm'],
    cpus: 16,
    memory: { totalMb: 65_536, reservedForHostMb: 2_048, provisionedMb: zones * 8, pendingMb: 0, freeMb: 65_536 - 2_048 - zones * 8, overcommittedMb: 0 },
    disk: { totalGb: 1000, provisionedGb: 0, freeGb: 1000 },
    nicTags: Array.from({ length: 64 }, (_, i) => `tag${i}`),
    characteristics: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`c${i}`, 'x'.repeat(256)])),
    topology: 'dc1.rack3',
    reservations: { pending: 0, provisioned: zones },
    zoneCounts: { total: zones, running: zones },
    zones: list,
    zonesTruncated: false,
    ...extra,
  };
}

/** As the store would hold it: every op applied to nothing. */
function storedOf(r: HypervisorRecord): Record<string, Plain> {
  const ops = recordOps(undefined, r) as Record<string, { set?: Plain; update?: Record<string, { set: Plain }> }>;
  const zones = Object.fromEntries(Object.entries(ops['zones']?.update ?? {}).map(([k, v]) => [k, v.set]));
  return { ...Object.fromEntries(Object.entries(ops).filter(([k]) => k !== 'zones').map(([k, v]) => [k, v.set as Plain])), zones };
}

t.test('split and join: every field fits a register, and the record comes back whole', async (t) => {
  for (const n of [0, 1, zoneChunk, zoneChunk + 1, 4096]) {
    const r = record(n);
    const split = splitRecord(r);
    t.equal(split.zones.length, Math.ceil(n / zoneChunk), `${n} zones: ${split.zones.length} chunks`);
    for (const [field, value] of Object.entries(split)) {
      if (field === 'zones') for (const chunk of value as Plain[]) t.equal(valueProblem(chunk, 'plain'), undefined);
      else t.equal(valueProblem(value as Plain, 'plain'), undefined, `${field} passes the register limits (${crdtLimits.valueElementsMax} values)`);
    }
    t.ok(split.zones.length <= crdtLimits.mapKeysMax, 'chunks within the OR-map key limit');
    const joined = joinRecord(storedOf(r));
    t.ok(joined.ok);
    if (joined.ok) t.same(joined.record, r, `${n} zones: joined back to the same record`);
  }
});

t.test('a publish sets only what changed', async (t) => {
  const before = record(100, 1);
  const stored = storedOf(before) as never;
  const memoryOnly = record(100, 2, { memory: { ...before.memory, pendingMb: 512, freeMb: before.memory.freeMb - 512 }, updatedAt: '2026-11-22T12:00:01.000Z' });
  t.same(Object.keys(recordOps(stored, memoryOnly)).sort(), ['identity', 'resources', 'revision'], 'memory: resources (and the revision and time)');
  const oneZone = record(100, 3, { zones: before.zones.map((z, i) => (i === 40 ? { ...z, state: 'stopped' } : z)) });
  t.same(recordOps(stored, oneZone)['zones'], { update: { '1': { set: oneZone.zones.slice(32, 64) } } }, 'one zone changed: one chunk');
  const fewer = record(10, 4);
  t.same((recordOps(stored, fewer)['zones'] as { remove: string[] }).remove, ['1', '2', '3'], 'chunks past the end are removed');
});

t.test('a stored value that does not check is reported', async (t) => {
  t.notOk(joinRecord(undefined).ok);
  t.notOk(joinRecord({ identity: 1 }).ok);
  const good = storedOf(record(3));
  const r = joinRecord({ ...good, resources: { ...(good['resources'] as object), memory: { totalMb: -1 } } });
  t.notOk(r.ok);
  if (!r.ok) t.match(r.reason, /memory/);
  t.notOk(joinRecord({ ...good, zones: { '0': 'not a list' } }).ok);
});

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-hvstore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface View {
  name: string;
  state: string;
  swimState: string;
  stale: boolean;
  seenAt: string | null;
  error?: string;
  memory: Record<string, number> | null;
  zones: Record<string, number> | null;
  record: HypervisorRecord | null;
}

t.test('a failed write is answered only once it can no longer land (deadline plus the allowed skew)', async (t) => {
  // The agent fails over 250 ms after an error answer: an earlier write landing after its next
  // publish through another node could move the record back (hypervisor-store.ts header).
  let nowMs = 0;
  const timers: { atMs: number; fn: () => void }[] = [];
  const clock: Clock = { monoMs: () => nowMs, wallMs: () => nowMs, setTimer: (ms, fn) => (timers.push({ atMs: nowMs + ms, fn }), { cancel: () => undefined }), defer: (fn) => fn() };
  const failing = {
    config: { clockSkewMaxMs: 1_000 },
    get: async () => ({ found: false }),
    update: async () => {
      nowMs += 400;
      throw new QuorumTimeoutError('timeout: the write was not acknowledged in time');
    },
  } as unknown as RingService;
  const store = new HypervisorStore(() => failing, clock);
  let answered = false;
  const outcome = store.publish(record(1)).then(
    () => new Error('the publish should have failed'),
    (err: unknown) => ((answered = true), err),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  t.notOk(answered, 'no answer while the write could still land');
  t.same(timers.map((x) => x.atMs), [3_000 + 1_000], 'held until the publish budget plus the skew, from the start of the publish');
  nowMs = 4_000;
  timers[0]!.fn();
  t.type(await outcome, QuorumTimeoutError, 'then the error, as it was');
});

t.test(`at most ${publishesMax} hypervisors' publishes in hand on a node; the next is refused as busy`, async (t) => {
  // A ring whose reads never answer: every publish stays in hand.
  const stuck = { config: { clockSkewMaxMs: 1_000 }, get: () => new Promise(() => undefined) } as unknown as RingService;
  const store = new HypervisorStore(() => stuck, nodeWorld({ logLevel: 'error', logWrite: () => undefined }).clock);
  for (let i = 0; i < publishesMax; i++) void store.publish(record(0, 1, { name: `hv-${i}` }));
  await t.rejects(store.publish(record(0, 1, { name: 'one-more' })), StoreBusyError);
  const again = store.publish(record(0, 2, { name: 'hv-0' })).then(() => 'settled', () => 'refused');
  const state = await Promise.race([again, new Promise((resolve) => setImmediate(() => resolve('pending')))]);
  t.equal(state, 'pending', 'a host already in hand is not refused: it queues behind its own publish');
});

t.test('agents keep their record in the store; the API reads it', async (t) => {
  const dir = tempDir(t);
  const quiet = () => nodeWorld({ logLevel: 'error', logWrite: () => undefined });
  const node = await startNode(validateNodeConfig({ name: 'n1', dataDir: path.join(dir, 'n1'), httpPort: 0, gossipPort: 0, clusterPort: 0, swimPreset: 'local', host: '127.0.0.1' }, 'test'), quiet());
  t.teardown(() => node.stop());
  const token = readFileSync(node.adminTokenPath, 'utf8').trim();
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`http://${node.httpAddress}${p}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const keyFile = node.created.keyFile ?? path.join(dir, 'n1', 'cluster.key');
  const agentConfig = validateAgentConfig({ name: 'hv1', join: [node.gossipAddress], keyFile, dataDir: path.join(dir, 'hv1'), gossipPort: 0, clusterPort: 0, swimPreset: 'local', memoryMb: 16_384, reservedMb: 1_024, simTimings: { provisionMs: 20, bootMs: 5, shutdownMs: 5 } });
  const agent = await startAgent(agentConfig, quiet(), { publishIntervalMs: 50 });
  let agentStopped = false;
  t.teardown(() => (agentStopped ? undefined : agent.stop()));

  const listed = async (pred: (v: View) => boolean): Promise<View | undefined> => {
    const r = await api('GET', '/api/v1/hypervisors');
    const v = (r.body['hypervisors'] as View[] | undefined)?.find((h) => h.name === 'hv1');
    return v && pred(v) ? v : undefined;
  };
  const first = await eventually('hv1 stored and listed', () => listed((v) => v.state === 'up' && !v.stale));
  t.equal((await api('GET', '/api/v1/hypervisors')).body['truncated'], false, 'the listing says it is complete');
  t.match(first.memory, { totalMb: 16_384, reservedForHostMb: 1_024, freeMb: 15_360 }, 'memory figures from the stored record');
  t.equal(first.seenAt, first.record?.updatedAt);
  const stored = await node.ring.get('hypervisors', 'hv1');
  t.ok(stored.found, 'the record is in the hypervisors bucket');
  t.same(Object.keys(stored.value ?? {}).sort(), ['characteristics', 'identity', 'nicTags', 'resources', 'revision', 'zones']);

  // A reservation and a zone reach the store through the agent's publisher.
  const system = systemOf(node.root);
  const vm = uuid(7);
  await agentReserve(system, 'hv1', { vmId: vm, ramMb: 2_048 });
  const reserved = await eventually('the reservation in the listing', () => listed((v) => v.memory?.['pendingMb'] === 2_048));
  t.equal(reserved.memory?.['freeMb'], 15_360 - 2_048);
  await askAgent(system, 'hv1', { type: 'agent.zone-create', spec: { uuid: vm, alias: 'web-1', brand: 'joyent', ramMb: 2_048, cpuCap: 100, quotaGb: 10, imageUuid: uuid(99), nics: [], resolvers: [], customerMetadata: {} } }, 10_000);
  const withZone = await eventually('the zone in the stored record', async () => {
    const r = await api('GET', '/api/v1/hypervisors/hv1');
    const v = r.body as unknown as View;
    return v.record?.zones.some((z) => z.uuid === vm && z.state === 'running') ? v : undefined;
  });
  t.match(withZone.zones, { total: 1, running: 1 });
  const inList = await listed(() => true);
  t.same(inList?.record?.zones, [], 'a listing leaves the zone list out (GET of one has it)');
  t.match(inList?.zones, { total: 1 }, 'but counts the zones');
  t.match(withZone.memory, { provisionedMb: 2_048, pendingMb: 0 });

  // The store never goes back to an older revision, whoever sends it.
  const store = new HypervisorStore(() => node.ring, quiet().clock);
  const current = withZone.record!;
  const older = { ...current, revision: { ...current.revision, seq: 0 }, memory: { ...current.memory, freeMb: 1 } };
  t.same(await store.publish(older), { written: false, revision: current.revision }, 'an older revision is not written');
  const got = await store.get('hv1');
  t.same(got && 'record' in got ? got.record.memory : undefined, current.memory, 'the stored record is unchanged');

  t.equal((await api('DELETE', '/api/v1/hypervisors/hv1')).status, 409, 'a hypervisor that is up cannot be removed');

  // The largest record an agent builds (zones cut at recordZoneBytesMax, as record.ts does) stores and reads back whole.
  const big = record(4096, 1, { name: 'hv-big' });
  let bytes = 0;
  const fit = big.zones.filter((z) => (bytes += summaryBytes(z)) <= recordZoneBytesMax);
  const bigRecord = { ...big, zones: fit, zonesTruncated: true };
  t.same(await store.publish(bigRecord), { written: true, revision: bigRecord.revision }, `a record of ${fit.length} zones with 256-byte aliases is written`);
  const bigBack = await store.get('hv-big');
  t.same(bigBack && 'record' in bigBack ? bigBack.record : bigBack, bigRecord, 'and reads back whole');
  t.ok(await store.remove('hv-big', Date.now()));
  t.equal(await store.get('hv-big'), undefined, 'a removed record is not read');
  const listedNames = ((await api('GET', '/api/v1/hypervisors')).body['hypervisors'] as View[]).map((h) => h.name);
  t.ok(listedNames.includes('hv1') && !listedNames.includes('hv-big'), 'nor listed (its key, holding the removal mark, is still stored)');
  t.same(await store.publish(bigRecord), { written: true, revision: bigRecord.revision }, 'the same revision, published again after a removal (its agent was only cut off), is written');
  const bigAgain = await store.get('hv-big');
  t.same(bigAgain && 'record' in bigAgain ? bigAgain.record.revision : bigAgain, bigRecord.revision, 'and read again');

  // Publishes of one hypervisor on one node run one at a time; a newer queued one replaces an older.
  const small = (seq: number) => record(2, seq, { name: 'hv-q' });
  const [r1, r2, r3] = await Promise.all([store.publish(small(1)), store.publish(small(2)), store.publish(small(3))]);
  t.same(r1, { written: true, revision: small(1).revision }, 'the first runs');
  t.same(r2, { written: false, revision: small(2).revision }, 'the second, queued, is replaced by the third: its revision is covered');
  t.same(r3, { written: true, revision: small(3).revision }, 'the third is written');
  const q = await store.get('hv-q');
  t.same(q && 'record' in q ? q.record.revision : q, small(3).revision);
  t.ok(await store.remove('hv-q', Date.now()));

  // A malformed publish is refused and changes nothing.
  const bad = await query(refFromJSON(system, { node: 'n1', path: ['hypervisors'] }), { type: 'agent.record-publish', record: { name: 'hv1', memory: 'lots' } }, 5_000);
  t.match(bad, { type: 'agent.reply-error', code: 'invalid' });
  const forged = await query(refFromJSON(system, { node: 'n1', path: ['hypervisors'] }), { type: 'agent.record-publish', record: { ...current, revision: { boot: current.revision.boot + 1, seq: 0 } } }, 5_000);
  t.match(forged, { type: 'agent.reply-error', code: 'invalid', message: /may not publish the record of hv1/ }, 'a node publishes only its own record');
  const still = await store.get('hv1');
  t.same(still && 'record' in still ? still.record.revision : undefined, current.revision, 'the stored revision is unchanged');

  // Down: listed with the stored figures, stale; then it can be removed.
  await agent.stop();
  agentStopped = true;
  const down = await eventually('hv1 down', () => listed((v) => v.state === 'down'));
  t.match(down, { stale: true, memory: { provisionedMb: 2_048 } }, 'a down hypervisor keeps its stored figures');
  t.match(down.error, /left|dead|no longer known/);
  const removed = await api('DELETE', '/api/v1/hypervisors/hv1');
  t.same(removed, { status: 200, body: { name: 'hv1', removed: true } });
  const after = await listed(() => true);
  t.equal(after?.record ?? null, null, 'no record after removal');
  t.equal((await api('DELETE', '/api/v1/hypervisors/hv1')).status, 404, 'removing twice: not found');
  t.equal((await api('DELETE', '/api/v1/hypervisors/no-such')).status, 404);
  const mark = await node.ring.get('hypervisors', 'hv1');
  t.match(mark.value, { removed: { revision: current.revision }, zones: {} }, 'removal is a mark (a delete would block the name until its tombstone is reaped); the zone list is dropped');

  // The host comes back under the same name (a new run: a newer revision): registered again at once.
  const again = await startAgent(agentConfig, quiet(), { publishIntervalMs: 50 });
  t.teardown(() => again.stop());
  const back = await eventually('hv1 registered again', () => listed((v) => v.state === 'up' && v.record !== null));
  t.ok(back.record!.revision.boot > current.revision.boot, 'with its new run');
  t.match(back.memory, { provisionedMb: 2_048 }, 'and its ledger, zone and figures');
  t.match(back.zones, { total: 1 });
  const unmarked = await node.ring.get('hypervisors', 'hv1');
  t.equal((unmarked.value as { removed?: unknown }).removed, null, 'the mark is cleared');
});
