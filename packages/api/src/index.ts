/**
 * @shoal/api — the HTTP gateway: REST routes under /api/v1, Prometheus at /metrics, bearer-token
 * authentication, one JSON error format.
 */
export * from './errors.js';
export * from './auth.js';
export * from './metrics.js';
export * from './server.js';
export * from './routes-node.js';
export * from './json-numbers.js';
