/**
 * A core node: the composition root that wires the runtime, the secrets, storage, the actor
 * system with its transport, the HTTP API, membership and the ring. Later subsystems (domain)
 * plug in here.
 *
 * Start order: data directory and its lock → secrets → storage (with the node's identity) →
 * actor system and transport → HTTP → SWIM → ring service → hypervisor record store →
 * `--sim-agents`. Stop order is the reverse. A failure at any step undoes the steps before it
 * and surfaces as one error.
 */
import { ActorNet, start as startActors, systemOf, type ActorRef } from '@shoal/actors';
import { adminTokenAuthenticator, buildApi, listenApi, createMetrics, nodeRoutes, type NodeStatus } from '@shoal/api';
import { claimDataDir, files, formatAddress, type Storage, type World } from '@shoal/runtime';
import type { RingService } from '@shoal/ring';
import type { SwimNode } from '@shoal/swim';
import type { NodeConfig } from './config.js';
import { registerActorMetrics } from './metrics.js';
import { clusterRoutes, registerSwimMetrics, startMembership } from './membership.js';
import { HypervisorDirectory, hypervisorRoutes } from './hypervisors.js';
import { spawnHypervisorRegistry } from './hypervisor-store.js';
import { registerRingMetrics, ringRoutes, startRing } from './ring.js';
import { startSimAgents } from './sim-agents.js';
import { loadAdminToken, loadKeyring } from './secrets.js';
import { shoalVersion } from './version.js';

export class NodeStartError extends Error {
  override name = 'NodeStartError';
}

export interface RunningNode {
  readonly config: NodeConfig;
  readonly root: ActorRef<never>;
  readonly net: ActorNet;
  readonly storage: Storage;
  readonly swim: SwimNode;
  readonly ring: RingService;
  readonly httpAddress: string;
  readonly clusterAddress: string;
  readonly gossipAddress: string;
  /** Secrets this start created (their paths are printed once). */
  readonly created: { keyFile?: string; adminToken?: string };
  readonly adminTokenPath: string;
  status(): NodeStatus;
  stop(): Promise<void>;
}

export async function startNode(config: NodeConfig, world: World): Promise<RunningNode> {
  const undo: (() => Promise<void> | void)[] = [];
  const unwind = async (): Promise<void> => {
    for (const step of undo.reverse()) await step();
  };
  try {
    files.mkdirp(config.dataDir);
    undo.push(files.lockPid(files.resolve(config.dataDir, 'node.pid')));
    const keyring = loadKeyring(config.dataDir, config.keyFile, world.random);
    const token = loadAdminToken(config.dataDir, world.random);
    const storage = await world.openStorage(files.resolve(config.dataDir, 'db'));
    undo.push(() => storage.close());
    const notOurs = await claimDataDir(storage, 'node', config, world.clock.wallMs(), { dataDir: config.dataDir, db: files.resolve(config.dataDir, 'db'), role: 'node' });
    if (notOurs) throw new NodeStartError(notOurs);

    const log = world.logger.child({ node: config.name });
    const root = startActors({ name: config.name, clock: world.clock, random: world.random, logger: log.child({ component: 'actors' }) });
    const system = systemOf(root);
    undo.push(() => system.stop());
    const net = new ActorNet(system, { ...world, logger: log }, keyring.value, { cluster: config.cluster, listen: formatAddress(config.host, config.clusterPort) });
    const clusterAddress = await net.start();
    undo.push(() => net.stop());

    const metrics = createMetrics({ labels: { node: config.name } });
    registerActorMetrics(metrics, system, net);
    const startedMs = world.clock.monoMs();
    const startedAt = new Date(world.clock.wallMs()).toISOString();
    let httpAddress = '';
    const status = (): NodeStatus => ({
      name: config.name,
      version: shoalVersion,
      cluster: config.cluster,
      startedAt,
      uptimeSeconds: Math.round((world.clock.monoMs() - startedMs) / 100) / 10,
      addresses: { cluster: clusterAddress, http: httpAddress },
      peers: net.peersInfo().map((p) => ({ node: p.node, address: p.address ?? '', state: p.state })),
    });
    // The members route needs SWIM, which starts after the API (its metadata carries the HTTP address).
    const late: { swim?: SwimNode; ring?: RingService } = {};
    const hypervisors = new HypervisorDirectory(() => late.swim, () => late.ring, system, world.clock);
    const api = buildApi({
      auth: adminTokenAuthenticator([token.value]),
      metrics,
      logger: log.child({ component: 'api' }),
      clock: world.clock,
      routes: [nodeRoutes(status), clusterRoutes(() => late.swim), ringRoutes(() => late.ring), hypervisorRoutes(hypervisors)],
    });
    await listenApi(api, config.host, config.httpPort);
    undo.push(() => api.close());
    const bound = api.server.address();
    httpAddress = formatAddress(config.host, typeof bound === 'object' && bound ? bound.port : config.httpPort);

    // Membership last: the gossiped metadata carries every address, so the others can reach us.
    const meta = { role: 'core' as const, version: shoalVersion, addresses: { gossip: formatAddress(config.host, config.gossipPort), cluster: clusterAddress, http: httpAddress }, tags: {} };
    const swim = await startMembership({ config, world, keyring: keyring.value, meta, net, log: log.child({ component: 'swim' }) });
    late.swim = swim;
    undo.push(async () => {
      await swim.leave().catch(() => undefined);
      await swim.stop();
    });
    registerSwimMetrics(metrics, swim);
    const gossipAddress = swim.address;
    const ring = await startRing({ config, world, root, storage, swim, log: log.child({ component: 'ring' }) });
    late.ring = ring;
    undo.push(() => ring.stop());
    registerRingMetrics(metrics, ring);
    // Agents publish their records through this actor (hypervisor-store.ts).
    spawnHypervisorRegistry(root, hypervisors.store, log.child({ component: 'hypervisors' }));
    if (config.simAgents > 0) undo.push(await startSimAgents({ config, keyFile: keyring.path, join: gossipAddress, clock: world.clock, log: log.child({ component: 'sim-agents' }) }));
    log.info('node started', { http: httpAddress, cluster: clusterAddress, gossip: gossipAddress, data: files.resolve(config.dataDir) });

    let stopping: Promise<void> | undefined;
    return {
      config,
      root,
      net,
      storage,
      swim,
      ring,
      httpAddress,
      clusterAddress,
      gossipAddress,
      created: { ...(keyring.created ? { keyFile: keyring.path } : {}), ...(token.created ? { adminToken: token.path } : {}) },
      adminTokenPath: token.path,
      status,
      stop() {
        stopping ??= (async () => {
          log.info('node stopping');
          await unwind();
          log.info('node stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
