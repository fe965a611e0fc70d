/**
 * The node's Prometheus metrics beyond HTTP: the actor system and its transport. Values are read
 * from the subsystems' own counters at scrape time (exportCounter/exportGauge), so the hot paths
 * only increment plain numbers.
 */
import { exportCounter, exportGauge, type ApiMetrics } from '@shoal/api';
import type { ActorNet, ActorSystem } from '@shoal/actors';

export function registerActorMetrics(metrics: ApiMetrics, system: ActorSystem, net: ActorNet): void {
  exportGauge(metrics, 'shoal_actors', 'Live actors on this node.', [], () => [[{}, system.stats().actors]]);
  exportGauge(metrics, 'shoal_actor_pending_queries', 'Queries waiting for an answer.', [], () => [[{}, system.stats().pendingQueries]]);
  exportCounter(metrics, 'shoal_actor_dead_letters_total', 'Messages that could not be delivered, by reason.', ['reason'], () =>
    Object.entries(system.deadLetters.stats().byReason).map(([reason, n]) => [{ reason }, n]),
  );
  exportCounter(metrics, 'shoal_net_messages_total', 'Actor messages sent to and received from other nodes.', ['direction'], () => [
    [{ direction: 'out' }, net.stats.messagesOut],
    [{ direction: 'in' }, net.stats.messagesIn],
  ]);
  exportCounter(metrics, 'shoal_net_bytes_total', 'Bytes of actor frames sent and received (after decryption for received).', ['direction'], () => [
    [{ direction: 'out' }, net.stats.bytesOut],
    [{ direction: 'in' }, net.stats.bytesIn],
  ]);
  exportCounter(metrics, 'shoal_net_link_failures_total', 'Links that failed to open, by side and cause.', ['side', 'cause'], () => [
    ...Object.entries(net.stats.dialFailures).map(([cause, n]): [Record<string, string>, number] => [{ side: 'dial', cause }, n]),
    ...Object.entries(net.stats.acceptFailures).map(([cause, n]): [Record<string, string>, number] => [{ side: 'accept', cause }, n]),
  ]);
  exportCounter(metrics, 'shoal_net_outbound_queue_full_total', 'Messages refused because a peer queue was full.', [], () => [[{}, net.stats.queueFull]]);
  exportGauge(metrics, 'shoal_net_peers', 'Known peer nodes, by link state.', ['state'], () => {
    const counts = new Map<string, number>();
    for (const p of net.peersInfo()) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
    return ['connected', 'connecting', 'backoff', 'idle'].map((state) => [{ state }, counts.get(state) ?? 0]);
  });
}
