/**
 * Prometheus metrics for one node: a registry of its own (several nodes may share a process in
 * tests), the process's default metrics, and HTTP request counters. Other subsystems register
 * their gauges and counters on the same registry.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
