/**
 * Membership in a core node: runs SWIM (packages/swim) on the gossip port and keeps the rest of
 * the node in step with it (`ActorNet.followMember`, packages/actors):
 * - a member alive (joined, recovered, updated) → the actor transport learns its cluster address;
 * - a member failed or left → the transport drops its link and queue, and the actor system
 *   treats the node as down (monitors fire `node-down`, queries to it fail).
 * It also serves `GET /api/v1/cluster/members` and exports SWIM's counters to Prometheus.
 */
import type { ActorNet } from '@shoal/actors';
import { ApiError, exportCounter, exportCounters, exportGauge, type ApiMetrics, type ApiRoutes } from '@shoal/api';
import type { Logger, World } from '@shoal/runtime';
import { SwimNode, swimConfig, type Member, type MemberEvent, type MemberMeta } from '@shoal/swim';
import type { Keyring } from '@shoal/wire';
import type { NodeConfig } from './config.js';

export interface MembershipOptions {
  config: NodeConfig;
  world: World;
  keyring: Keyring;
  meta: MemberMeta;
  net: ActorNet;
  log: Logger;
}

/** Logs a membership event about another member (the actor transport follows it: `net.followMember`). */
function logMembership(event: MemberEvent, self: string, log: Logger): void {
  const m = event.member;
  if (m.name === self) return;
  if (event.kind === 'failed' || event.kind === 'left') log.warn(`member ${event.kind}`, { member: m.name, incarnation: m.incarnation });
  else log.info(`member ${event.kind}`, { member: m.name, ...(event.kind === 'suspected' ? {} : { role: m.meta.role }), incarnation: m.incarnation });
}

/** Starts SWIM, follows its events, and joins the seeds in the background. */
export async function startMembership(opts: MembershipOptions): Promise<SwimNode> {
  const { config, world, keyring, meta, net, log } = opts;
  const swim = new SwimNode({ world, config: swimConfig(config.swimPreset), name: config.name, meta, keyring, cluster: config.cluster });
  swim.subscribe((event) => {
    net.followMember(event);
    logMembership(event, config.name, log);
  });
  await swim.start();
  if (config.join.length > 0) {
    void swim
      .joinInBackground(config.join, { onRetry: (attempt, delayMs) => log.warn('cannot join yet; retrying', { seeds: config.join, attempt, retryInMs: Math.round(delayMs) }) })
      .then((n) => {
        if (n > 0) log.info('joined the cluster', { seeds: config.join, answered: n });
      });
  }
  return swim;
}

export interface MemberBody {
  name: string;
  role: string;
  state: string;
  incarnation: number;
  version: string;
  addresses: { gossip: string; cluster: string; http?: string };
  tags: Record<string, string>;
}

export function memberBody(m: Member): MemberBody {
  return { name: m.name, role: m.meta.role, state: m.state, incarnation: m.incarnation, version: m.meta.version, addresses: { ...m.meta.addresses }, tags: { ...m.meta.tags } };
}

const memberSchema = {
  type: 'object',
  required: ['name', 'role', 'state', 'incarnation', 'version', 'addresses'],
  properties: {
    name: { type: 'string' },
    role: { type: 'string', enum: ['core', 'agent'] },
    state: { type: 'string', enum: ['alive', 'suspect', 'dead', 'left'] },
    incarnation: { type: 'integer' },
    version: { type: 'string' },
    addresses: { type: 'object', properties: { gossip: { type: 'string' }, cluster: { type: 'string' }, http: { type: 'string' } } },
    tags: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

export function clusterRoutes(swim: () => SwimNode | undefined): ApiRoutes {
  return (app, { requireAdmin }) => {
    app.get(
      '/api/v1/cluster/members',
      { onRequest: requireAdmin, schema: { response: { 200: { type: 'object', properties: { members: { type: 'array', items: memberSchema } } } } } },
      async () => {
        const node = swim();
        if (!node) throw new ApiError('unavailable', 'membership is still starting; try again in a moment');
        return { members: node.members().map(memberBody) };
      },
    );
  };
}

export function registerSwimMetrics(metrics: ApiMetrics, swim: SwimNode): void {
  exportGauge(metrics, 'shoal_swim_members', 'Members by SWIM state, this node included.', ['state'], () =>
    Object.entries(swim.stats().members).map(([state, n]) => [{ state }, n]),
  );
  exportGauge(metrics, 'shoal_swim_health_score', 'Lifeguard local health score (0 = healthy).', [], () => [[{}, swim.stats().health]]);
  exportGauge(metrics, 'shoal_swim_event_loop_lag_ms', 'Lateness of the last SWIM timer, ms.', [], () => [[{}, swim.stats().eventLoopLagMs]]);
  exportCounters(metrics, () => swim.stats(), [
    ['shoal_swim_probes_total', 'Direct probes sent.', (s) => s.probes],
    ['shoal_swim_indirect_probes_total', 'Indirect probes (ping-req) sent.', (s) => s.indirectProbes],
    ['shoal_swim_suspicions_total', 'Suspicions raised or learned.', (s) => s.suspicions],
    ['shoal_swim_refutations_total', 'Times this node refuted a suspicion of itself.', (s) => s.refutations],
    ['shoal_swim_false_suspicions_refuted_total', 'Suspicions of others that ended with the member refuting.', (s) => s.falseSuspicionsRefuted],
    ['shoal_swim_dead_declared_total', 'Members this node declared dead.', (s) => s.deadDeclared],
    ['shoal_swim_packets_sent_total', 'Packets sent.', (s) => s.packetsSent],
    ['shoal_swim_packets_received_total', 'Packets received.', (s) => s.packetsReceived],
    ['shoal_swim_bytes_sent_total', 'Bytes sent.', (s) => s.bytesSent],
    ['shoal_swim_bytes_received_total', 'Bytes received.', (s) => s.bytesReceived],
  ]);
  exportCounter(metrics, 'shoal_swim_packets_dropped_total', 'Packets dropped, by reason.', ['reason'], () =>
    Object.entries(swim.stats().packetsDropped).map(([reason, n]) => [{ reason }, n]),
  );
}
