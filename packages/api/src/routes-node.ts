/**
 * Node routes: `GET /api/v1/health` (public: is this node serving?) and `GET /api/v1/node`
 * (admin: what this node is and how it is doing).
 */
import type { ApiRoutes } from './server.js';

export interface NodeStatus {
  name: string;
  version: string;
  cluster: string;
  startedAt: string;
  uptimeSeconds: number;
  addresses: { cluster: string; http: string };
  peers: { node: string; address: string; state: string }[];
}

const nodeStatusSchema = {
  type: 'object',
  required: ['name', 'version', 'cluster', 'startedAt', 'uptimeSeconds', 'addresses', 'peers'],
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    cluster: { type: 'string' },
    startedAt: { type: 'string' },
    uptimeSeconds: { type: 'number' },
    addresses: { type: 'object', properties: { cluster: { type: 'string' }, http: { type: 'string' } } },
    peers: {
      type: 'array',
      items: { type: 'object', properties: { node: { type: 'string' }, address: { type: 'string' }, state: { type: 'string' } } },
    },
  },
} as const;

export function nodeRoutes(status: () => NodeStatus): ApiRoutes {
  return (app, { requireAdmin }) => {
    app.get(
      '/api/v1/health',
      { config: { public: true }, schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' }, node: { type: 'string' }, version: { type: 'string' } } } } } },
      async () => {
        const s = status();
        return { status: 'ok', node: s.name, version: s.version };
      },
    );
    app.get('/api/v1/node', { onRequest: requireAdmin, schema: { response: { 200: nodeStatusSchema } } }, async () => status());
  };
}
