/**
 * The HTTP gateway (fastify): JSON in and out, schemas validated at the boundary, bearer-token
 * authentication, Prometheus metrics, one error format.
 *
 * Routes come in as plugins (`ApiRoutes`); each route that needs an admin declares
 * `preHandler: requireAdmin`. Anything that goes wrong — a malformed body, an unknown route, a
 * missing token, a bug — leaves as `{ "error": { "code", "message" } }` with a fitting status;
 * an unexpected error is logged with its stack and answered as `internal` without details.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Clock, Logger } from '@shoal/runtime';
import { ApiError, codeForStatus, errorBody } from './errors.js';
import { bearerToken, type Authenticator, type Principal } from './auth.js';
import type { ApiMetrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    startedMs: number;
  }
}

export interface ApiOptions {
  auth: Authenticator;
  metrics: ApiMetrics;
  logger: Logger;
  clock: Clock;
  /** Largest accepted request body. */
  bodyBytesMax?: number;
  routes?: readonly ApiRoutes[];
}

export type ApiRoutes = (app: FastifyInstance, helpers: RouteHelpers) => void;

export interface RouteHelpers {
  /** preHandler that admits only an authenticated admin. */
  requireAdmin: (req: FastifyRequest) => Promise<void>;
}

export const bodyBytesMaxDefault = 1024 * 1024;
/** Characters of one raw (percent-encoded) path parameter. */
export const pathParamLengthMax = 4096;

function handleError(logger: Logger) {
  return (err: FastifyError | ApiError | Error, req: FastifyRequest, reply: FastifyReply): void => {
    if (err instanceof ApiError) {
      void reply.status(err.status).send(errorBody(err.code, err.message));
      return;
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      void reply.status(400).send(errorBody('bad_request', `invalid request: ${fe.message}`));
      return;
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      void reply.status(fe.statusCode).send(errorBody(codeForStatus(fe.statusCode), fe.message));
      return;
    }
    logger.error('unhandled error in HTTP handler', { method: req.method, url: req.url, err: err.message, stack: err.stack });
    void reply.status(500).send(errorBody('internal', 'internal error; see the node log'));
  };
}

export function buildApi(opts: ApiOptions): FastifyInstance {
  const { auth, metrics, logger, clock } = opts;
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyBytesMax ?? bodyBytesMaxDefault,
    // Path parameters are checked by each route's schema; this only bounds the raw segment. A ring
    // key may be 740 UTF-8 bytes, up to 2,220 characters once percent-encoded (find-my-way's
    // default of 100 would answer 414 to most real keys).
    routerOptions: { maxParamLength: pathParamLengthMax },
    // JSON bodies with a "__proto__" or "constructor" key are rejected, not merged into prototypes.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('startedMs', 0);

  app.addHook('onRequest', async (req) => {
    req.startedMs = clock.monoMs();
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method: req.method, route }, (clock.monoMs() - req.startedMs) / 1000);
  });

  app.setErrorHandler(handleError(logger));
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`));
  });

  const requireAdmin = async (req: FastifyRequest): Promise<void> => {
    const principal = auth.authenticate(bearerToken(req.headers.authorization));
    if (!principal) throw new ApiError('unauthorized', 'invalid or expired token');
    req.principal = principal;
  };

  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  for (const routes of opts.routes ?? []) routes(app, { requireAdmin });
  return app;
}
