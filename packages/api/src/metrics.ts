/**
 * Prometheus metrics for one node: a registry of its own (several nodes may share a process in
 * tests), the process's default metrics, and HTTP request counters. Other subsystems register
 * their gauges and counters on the same registry.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  latency: Histogram<'method' | 'route'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}): ApiMetrics {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'shoal_' });
  const requests = new Counter({
    name: 'shoal_http_requests_total',
    help: 'HTTP requests served, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'shoal_http_request_seconds',
    help: 'HTTP request latency in seconds, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, requests, latency };
}

export type LabelValues = Record<string, string>;

/**
 * Exposes counters kept elsewhere (plain objects in protocol cores) as Prometheus counters:
 * at each scrape, `read()` gives the current totals and the counter grows by the difference.
 */
export function exportCounter(metrics: ApiMetrics, name: string, help: string, labelNames: readonly string[], read: () => [LabelValues, number][]): void {
  const last = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [metrics.registry],
    collect() {
      for (const [labels, value] of read()) {
        const key = JSON.stringify(labels);
        const delta = value - (last.get(key) ?? 0);
        last.set(key, value);
        if (delta > 0) this.inc(labels, delta);
      }
    },
  });
}

/** Unlabelled counters that all read one snapshot of a subsystem's counters (`read` runs once per counter per scrape). */
export function exportCounters<S>(metrics: ApiMetrics, read: () => S, table: readonly (readonly [name: string, help: string, pick: (s: S) => number])[]): void {
  for (const [name, help, pick] of table) exportCounter(metrics, name, help, [], () => [[{}, pick(read())]]);
}

/** Exposes values read at scrape time as a Prometheus gauge. */
export function exportGauge(metrics: ApiMetrics, name: string, help: string, labelNames: readonly string[], read: () => [LabelValues, number][]): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}
