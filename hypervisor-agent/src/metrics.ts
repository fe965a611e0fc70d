/**
 * The agent's Prometheus metrics (served on `--metrics-port` at `/metrics`). Counters kept as
 * plain numbers by the ledger, the service, SWIM and the transport are read at scrape time;
 * driver call latency is a histogram observed as calls finish.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | shoal_agent_reservations_total | counter | outcome = granted, retried, refused, conflict, limit, confirmed, released, expired |
 * | shoal_agent_memory_mb | gauge | kind = total, reserved_for_host, provisioned, pending, free, overcommitted |
 * | shoal_agent_reservations | gauge | state = pending, provisioned |
 * | shoal_agent_zones | gauge | state |
 * | shoal_agent_driver_call_seconds | histogram | op |
 * | shoal_agent_driver_failures_total | counter | op, code |
 * | shoal_agent_requests_total | counter | outcome = ok, invalid, error |
 * | shoal_swim_members | gauge | state |
 * | shoal_net_messages_total | counter | direction |
 */
import { createMetrics, exportCounter, exportGauge, type ApiMetrics } from '@shoal/api';
import type { ActorNet } from '@shoal/actors';
import type { SwimNode } from '@shoal/swim';
import type { AgentErrorCode } from '@shoal/wire';
import { Counter, Histogram } from 'prom-client';
import type { DurableLedger } from './ledger.js';
import type { ServiceStats } from './service.js';
import type { RecordPublisher } from './publisher.js';
import type { ZoneTable } from './zones.js';

export interface AgentMetrics {
  readonly metrics: ApiMetrics;
  driverCall(op: string, ms: number, failure: AgentErrorCode | undefined): void;
}

export function createAgentMetrics(name: string): AgentMetrics {
  const metrics = createMetrics({ labels: { agent: name } });
  const latency = new Histogram({
    name: 'shoal_agent_driver_call_seconds',
    help: 'Duration of driver calls (vmadm / sim), seconds, by operation.',
    labelNames: ['op'] as const,
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [metrics.registry],
  });
  const failures = new Counter({
    name: 'shoal_agent_driver_failures_total',
    help: 'Driver calls that failed, by operation and error code.',
    labelNames: ['op', 'code'] as const,
    registers: [metrics.registry],
  });
  return {
    metrics,
    driverCall(op, ms, failure) {
      latency.observe({ op }, ms / 1000);
      if (failure) failures.inc({ op, code: failure });
    },
  };
}

export interface MetricSources {
  ledger: DurableLedger;
  zones: ZoneTable;
  service: { stats: ServiceStats };
  swim: () => SwimNode | undefined;
  net: ActorNet;
  /** The record publisher, once membership has started. */
  publisher: () => RecordPublisher | undefined;
}

export function registerAgentMetrics(metrics: ApiMetrics, src: MetricSources): void {
  exportCounter(metrics, 'shoal_agent_reservations_total', 'Ledger outcomes: reservations granted, answered again (retries), refused, in conflict, over the limit, confirmed, released, expired.', ['outcome'], () => {
    const s = src.ledger.stats;
    return [
      [{ outcome: 'granted' }, s.granted],
      [{ outcome: 'retried' }, s.retried],
      [{ outcome: 'refused' }, s.refused],
      [{ outcome: 'conflict' }, s.conflicts],
      [{ outcome: 'limit' }, s.limited],
      [{ outcome: 'confirmed' }, s.confirmed],
      [{ outcome: 'released' }, s.released],
      [{ outcome: 'expired' }, s.expired],
    ];
  });
  exportGauge(metrics, 'shoal_agent_memory_mb', 'Host memory by use, MB (free = total - reserved_for_host - provisioned - pending).', ['kind'], () => {
    const f = src.ledger.figures();
    return [
      [{ kind: 'total' }, f.totalMb],
      [{ kind: 'reserved_for_host' }, f.reservedForHostMb],
      [{ kind: 'provisioned' }, f.provisionedMb],
      [{ kind: 'pending' }, f.pendingMb],
      [{ kind: 'free' }, f.freeMb],
      [{ kind: 'overcommitted' }, f.overcommittedMb],
    ];
  });
  exportGauge(metrics, 'shoal_agent_reservations', 'Reservations held, by state.', ['state'], () => {
    const c = src.ledger.counts();
    return [
      [{ state: 'pending' }, c.pending],
      [{ state: 'provisioned' }, c.provisioned],
    ];
  });
  exportCounter(metrics, 'shoal_agent_record_publishes_total', 'Hypervisor record publishes to the store: written, already held (refresh or retry), failed.', ['result'], () => {
    const s = src.publisher()?.stats;
    return [
      [{ result: 'written' }, s?.written ?? 0],
      [{ result: 'unchanged' }, s?.unchanged ?? 0],
      [{ result: 'failed' }, s?.failed ?? 0],
    ];
  });
  exportGauge(metrics, 'shoal_agent_record_current', '1 when the store holds the current revision of this hypervisor record, else 0.', [], () => [[{}, src.publisher()?.current ? 1 : 0]]);
  exportGauge(metrics, 'shoal_agent_zones', 'Zones on this host, by state.', ['state'], () => Object.entries(src.zones.counts()).map(([state, n]) => [{ state }, n]));
  exportCounter(metrics, 'shoal_agent_requests_total', 'Requests from the cluster, by outcome.', ['outcome'], () => {
    const s = src.service.stats;
    return [
      [{ outcome: 'ok' }, s.requests - s.invalid - s.errors],
      [{ outcome: 'invalid' }, s.invalid],
      [{ outcome: 'error' }, s.errors],
    ];
  });
  exportGauge(metrics, 'shoal_swim_members', 'Members by SWIM state, this agent included.', ['state'], () => Object.entries(src.swim()?.stats().members ?? {}).map(([state, n]) => [{ state }, n]));
  exportCounter(metrics, 'shoal_net_messages_total', 'Actor messages sent to and received from other nodes.', ['direction'], () => [
    [{ direction: 'out' }, src.net.stats.messagesOut],
    [{ direction: 'in' }, src.net.stats.messagesIn],
  ]);
}
