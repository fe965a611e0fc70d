/**
 * An agent: the composition root of `shoal agent start`. It owns the start and stop order.
 *
 * Start: data directory and its PID lock (`DATA/agent.pid`) → the cluster keyring (never
 * created here: an agent joins a cluster that exists) → LMDB at `DATA/db` with the agent's
 * identity (a data directory belongs to one agent) → the driver → the ledger, reconciled with
 * the zones the driver has → the actor system, its transport and the `['hypervisor', NAME]` actor
 * → the metrics server (with `--metrics-port`) → SWIM with role `agent`, last, because the
 * gossiped metadata carries the addresses others will use. Stop is the reverse, beginning with a
 * graceful SWIM leave. A failure while starting undoes what was done.
 *
 * Membership: the agent follows SWIM like a core node does — a member alive gives the transport
 * its cluster address; a member failed or left is forgotten and treated as down (queries to it
 * fail at once). Core nodes find the agent the same way, by the `cluster` address it gossips.
 */
import { ActorNet, start as startActors, systemOf, type ActorRef, type ActorSystem } from '@shoal/actors';
import { adminTokenAuthenticator, buildApi, listenApi, type ApiMetrics, type ApiRoutes } from '@shoal/api';
import { claimDataDir, files, formatAddress, type Logger, type Storage, type World } from '@shoal/runtime';
import { SwimNode, swimConfig, type MemberEvent, type MemberMeta } from '@shoal/swim';
import { parseKeyringFile, type HypervisorRecord, type Keyring } from '@shoal/wire';
import { spawnHypervisorActor } from './actor.js';
import { agentDefaults, type AgentConfig } from './config.js';
import { AgentStartError } from './errors.js';
import type { HostFacts, Hypervisor } from './hypervisor.js';
import { DurableLedger } from './ledger.js';
import { createAgentMetrics, registerAgentMetrics } from './metrics.js';
import { RecordPublisher, publishRecord } from './publisher.js';
import { buildRecord } from './record.js';
import { AgentService } from './service.js';
import { SimHypervisor, type SimFaults } from './sim-driver.js';
import { agentVersion } from './version.js';
import { VmadmHypervisor } from './vmadm-driver.js';
import { ZoneTable } from './zones.js';

export interface AgentStartOptions {
  /** A driver to use instead of the configured one (tests). */
  driver?: (storage: Storage) => Promise<Hypervisor>;
  /** Injected failures for the sim driver (tests). */
  simFaults?: SimFaults;
  /** How often the record publisher looks for a change (default limits.publishIntervalMs). */
  publishIntervalMs?: number;
}

export interface RunningAgent {
  readonly config: AgentConfig;
  readonly root: ActorRef<never>;
  readonly system: ActorSystem;
  readonly net: ActorNet;
  readonly swim: SwimNode;
  readonly ledger: DurableLedger;
  readonly driver: Hypervisor;
  readonly service: AgentService;
  /** Keeps the hypervisor record current in the ring's `hypervisors` bucket. */
  readonly publisher: RecordPublisher;
  readonly addresses: { gossip: string; cluster: string; metrics?: string };
  /** Settles with the reason if the agent must stop on its own (its ledger failed). */
  readonly failed: Promise<Error>;
  record(): HypervisorRecord;
  stop(): Promise<void>;
}


function loadKeyring(path: string): Keyring {
  if (!files.exists(path)) throw new AgentStartError(`no cluster key at ${path}: give the agent a copy of the cluster's key file with --key-file`);
  try {
    return parseKeyringFile(files.readText(path));
  } catch (err) {
    throw new AgentStartError(`cluster key file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function openDriver(config: AgentConfig, world: World, storage: Storage, log: Logger, opts: AgentStartOptions): Promise<Hypervisor> {
  if (opts.driver) return opts.driver(storage);
  if (config.driver === 'vmadm') {
    const host: Partial<HostFacts> = {};
    if (config.memoryMb !== undefined) host.memoryMb = config.memoryMb;
    if (config.cpus !== undefined) host.cpus = config.cpus;
    if (config.diskGb !== undefined) host.diskGb = config.diskGb;
    if (config.nicTags !== undefined) host.nicTags = [...config.nicTags];
    return VmadmHypervisor.open({ clock: world.clock, log, pollMs: config.vmadmPollMs, host });
  }
  const host: HostFacts = {
    memoryMb: config.memoryMb ?? agentDefaults.simMemoryMb,
    cpus: config.cpus ?? agentDefaults.simCpus,
    diskGb: config.diskGb ?? agentDefaults.simDiskGb,
    nicTags: [...(config.nicTags ?? agentDefaults.simNicTags)],
    virtualisation: ['zone', 'lx', 'bhyve'],
    platform: `shoal-sim ${agentVersion}`,
  };
  return SimHypervisor.open({ storage, clock: world.clock, log, host, timings: config.simTimings, ...(opts.simFaults ? { faults: opts.simFaults } : {}) });
}

/** Logs a membership event about another member (the actor transport follows it: `net.followMember`). */
function logMembership(event: MemberEvent, self: string, log: Logger): void {
  const m = event.member;
  if (m.name === self || event.kind === 'suspected' || event.kind === 'updated') return;
  log.info(`member ${event.kind}`, { member: m.name, ...(event.kind === 'failed' || event.kind === 'left' ? {} : { role: m.meta.role }) });
}

type Undo = (() => Promise<void> | void)[];

interface LocalState {
  keyring: Keyring;
  startedMs: number;
  driver: Hypervisor;
  host: HostFacts;
  ledger: DurableLedger;
  zones: ZoneTable;
}

/** Data directory, key, storage and identity, driver, ledger (reconciled with the driver's zones). */
async function openLocal(config: AgentConfig, world: World, log: Logger, opts: AgentStartOptions, undo: Undo, onFailure: (err: Error) => void): Promise<LocalState> {
  files.mkdirp(config.dataDir);
  undo.push(files.lockPid(files.resolve(config.dataDir, 'agent.pid')));
  const keyring = loadKeyring(files.resolve(config.keyFile));
  const storage = await world.openStorage(files.resolve(config.dataDir, 'db'));
  undo.push(() => storage.close());
  const startedMs = world.clock.wallMs();
  const notOurs = await claimDataDir(storage, 'agent', config, startedMs, { dataDir: config.dataDir, db: files.resolve(config.dataDir, 'db'), role: 'agent' });
  if (notOurs) throw new AgentStartError(notOurs);
  const driver = await openDriver(config, world, storage, log.child({ component: 'driver' }), opts);
  undo.push(() => driver.close());
  const host = await driver.info();
  const reservedForHostMb = config.reservedMb ?? Math.round(host.memoryMb * agentDefaults.reservedFraction);
  if (reservedForHostMb > host.memoryMb) throw new AgentStartError(`--reserved-mb ${reservedForHostMb} is more than the host's ${host.memoryMb} MB`);
  const ledger = await DurableLedger.open({ storage, clock: world.clock, capacity: { totalMb: host.memoryMb, reservedForHostMb }, log: log.child({ component: 'ledger' }), onFailure });
  undo.push(() => ledger.close());
  const zones = new ZoneTable(driver, world.clock, log, async (list) => {
    await ledger.reconcile(list);
  });
  const report = await ledger.reconcile(await zones.start());
  undo.push(() => zones.stop());
  const changed = report.adopted.length + report.updated.length + report.released.length;
  if (changed > 0) log.info('ledger reconciled with the driver', { adopted: report.adopted.length, updated: report.updated.length, released: report.released.length });
  return { keyring, startedMs, driver, host, ledger, zones };
}

/** The Prometheus server, when `--metrics-port` is given; returns its address. */
async function serveMetrics(config: AgentConfig, world: World, log: Logger, metrics: ApiMetrics, undo: Undo): Promise<string | undefined> {
  if (config.metricsPort === undefined) return undefined;
  const api = buildApi({ auth: adminTokenAuthenticator([]), metrics, logger: log.child({ component: 'metrics' }), clock: world.clock, routes: [healthRoutes(config.name)] });
  await listenApi(api, config.host, config.metricsPort);
  undo.push(() => api.close());
  const bound = api.server.address();
  return formatAddress(config.host, typeof bound === 'object' && bound ? bound.port : config.metricsPort);
}

/** SWIM with role `agent`, following membership, joining in the background. */
async function joinCluster(config: AgentConfig, world: World, log: Logger, keyring: Keyring, meta: MemberMeta, net: ActorNet, undo: Undo): Promise<SwimNode> {
  const node = new SwimNode({ world, config: swimConfig(config.swimPreset), name: config.name, meta, keyring, cluster: config.cluster });
  node.subscribe((e) => {
    net.followMember(e);
    logMembership(e, config.name, log);
  });
  await node.start();
  undo.push(async () => {
    await node.leave().catch(() => undefined);
    await node.stop();
  });
  void node.joinInBackground(config.join, { onRetry: (attempt, delayMs) => log.warn('cannot join yet; retrying', { seeds: config.join, attempt, retryInMs: Math.round(delayMs) }) });
  return node;
}

export async function startAgent(config: AgentConfig, world: World, opts: AgentStartOptions = {}): Promise<RunningAgent> {
  const undo: Undo = [];
  const unwind = async (): Promise<void> => {
    for (const step of undo.reverse()) await step();
    undo.length = 0;
  };
  const log = world.logger.child({ agent: config.name });
  let reportFailure: (err: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (reportFailure = resolve));
  try {
    const { keyring, startedMs, driver, host, ledger, zones } = await openLocal(config, world, log, opts, undo, (err) => reportFailure(err));
    const root = startActors({ name: config.name, clock: world.clock, random: world.random, logger: log.child({ component: 'actors' }) });
    const system = systemOf(root);
    undo.push(() => system.stop());
    const net = new ActorNet(system, { ...world, logger: log }, keyring, { cluster: config.cluster, listen: formatAddress(config.host, config.clusterPort) });
    const addresses: RunningAgent['addresses'] = { gossip: '', cluster: await net.start() };
    undo.push(() => net.stop());

    const revision = (): HypervisorRecord['revision'] => ({ boot: Math.floor(startedMs), seq: ledger.stats.changes + zones.version });
    const record = (): HypervisorRecord =>
      buildRecord({
        name: config.name,
        nowMs: world.clock.wallMs(),
        revision: revision(),
        agent: { ...addresses, version: agentVersion, driver: driver.kind, startedAt: new Date(startedMs).toISOString() },
        host,
        memory: ledger.figures(),
        reservations: ledger.counts(),
        zones,
        characteristics: config.characteristics,
        topology: config.topology,
      });
    const agentMetrics = createAgentMetrics(config.name);
    const service = new AgentService({ ledger, driver, zones, clock: world.clock, log, record, leaseMsDefault: config.leaseMsDefault, onDriverCall: agentMetrics.driverCall });
    spawnHypervisorActor(root, config.name, service, log);
    const membership: { swim?: SwimNode; publisher?: RecordPublisher } = {};
    registerAgentMetrics(agentMetrics.metrics, { ledger, zones, service, swim: () => membership.swim, net, publisher: () => membership.publisher });
    const metricsAddress = await serveMetrics(config, world, log, agentMetrics.metrics, undo);
    if (metricsAddress) addresses.metrics = metricsAddress;

    // Membership last: the gossiped metadata carries every address, so core nodes can reach us.
    const meta: MemberMeta = { role: 'agent', version: agentVersion, addresses: { gossip: formatAddress(config.host, config.gossipPort), cluster: addresses.cluster, ...(metricsAddress ? { http: metricsAddress } : {}) }, tags: { driver: driver.kind } };
    const swim = await joinCluster(config, world, log, keyring, meta, net, undo);
    membership.swim = swim;
    addresses.gossip = swim.address;
    const publisher = new RecordPublisher({
      clock: world.clock,
      log: log.child({ component: 'publisher' }),
      record,
      revision,
      cores: () =>
        swim
          .members()
          .filter((m) => m.meta.role === 'core' && m.state === 'alive')
          .map((m) => m.name)
          .sort(),
      send: (core, r) => publishRecord(system, core, r),
      ...(opts.publishIntervalMs !== undefined ? { intervalMs: opts.publishIntervalMs } : {}),
    });
    publisher.start();
    membership.publisher = publisher;
    undo.push(() => publisher.stop());
    log.info('agent started', { driver: driver.kind, ...addresses, memory: ledger.figures() });

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        log.info('agent stopping');
        await unwind();
        log.info('agent stopped');
      })());
    return { config, root, system, net, swim, ledger, driver, service, publisher, addresses, failed, record, stop };
  } catch (err) {
    await unwind();
    throw err;
  }
}

function healthRoutes(name: string): ApiRoutes {
  return (app) => {
    app.get('/api/v1/health', { config: { public: true } }, async () => ({ status: 'ok', agent: name, version: agentVersion }));
  };
}
