/**
 * The HTTP gateway (fastify): JSON in and out, schemas validated at the boundary, bearer-token
 * authentication, Prometheus metrics, one error format.
 *
 * Routes come in as plugins (`ApiRoutes`); each `/api/` route declares `onRequest:
 * requireAdmin`, so the token is checked before the body is read or validated, or `config:
 * { public: true }`; a route with neither is refused when registered (deny by default).
 * Anything that goes wrong — a malformed body, an unknown route, a missing token, a bug — leaves as `{ "error": { "code", "message" } }` with a fitting status;
 * an unexpected error is logged with its stack and answered as `internal` without details.
 * What makes bad input a clear 4xx (body parsing, schema messages, 405, malformed URLs and
 * headers) is in boundary.ts. An `/api/` route that declares no query string schema takes no
 * query parameters: an unknown one is refused, not ignored (`?limit=10` on a route that does not
 * page must not look as if it did). Likewise an `/api/` route that declares no body schema takes
 * no body: a request that carries one is refused before it is read (`POST cluster/commit` with
 * `{"dryRun":true}` must not commit as if the body had been honoured).
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type onRouteHookHandler } from 'fastify';
import { formatAddress, ListenError, type Clock, type Logger } from '@shoal/runtime';
import { ApiError, codeForStatus, errorBody } from './errors.js';
import { bearerToken, type Authenticator, type Principal } from './auth.js';
import { clientErrorHandler, MethodIndex, parseJsonBody, validationMessage, type SchemaIssue } from './boundary.js';
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
  /** Hook that admits only an authenticated admin; use it as `onRequest` (before body parsing and validation). */
  requireAdmin: (req: FastifyRequest) => Promise<void>;
}

export const bodyBytesMaxDefault = 1024 * 1024;
/** Characters of one raw (percent-encoded) path parameter. */
export const pathParamLengthMax = 4096;

/** A path as quoted in a message: without its query string, and not too long. */
function shownPath(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

/** Sentences for the errors fastify raises on its own about a request; undefined keeps its message. */
function fastifyMessage(fe: FastifyError, req: FastifyRequest, bodyBytesMax: number): string | undefined {
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `the request body is over the limit of ${bodyBytesMax} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const type = req.headers['content-type'];
      return `send the body as JSON with content-type: application/json (got ${type ? JSON.stringify(type.slice(0, 100)) : 'no content-type'})`;
    }
    case 'FST_ERR_BAD_URL':
      return `the URL path ${shownPath(req.url)} is not valid percent-encoded UTF-8`;
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return `a segment of the URL path is over ${pathParamLengthMax} characters`;
    default:
      return undefined;
  }
}

function handleError(logger: Logger, bodyBytesMax: number) {
  return (err: FastifyError | ApiError | Error, req: FastifyRequest, reply: FastifyReply): void => {
    if (err instanceof ApiError) {
      void reply.status(err.status).send(errorBody(err.code, err.message));
      return;
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      void reply.status(400).send(errorBody('bad_request', validationMessage(fe.validationContext, fe.validation as unknown as SchemaIssue[])));
      return;
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      void reply.status(fe.statusCode).send(errorBody(codeForStatus(fe.statusCode), fastifyMessage(fe, req, bodyBytesMax) ?? fe.message));
      return;
    }
    logger.error('unhandled error in HTTP handler', { method: req.method, url: req.url, err: err.message, stack: err.stack });
    void reply.status(500).send(errorBody('internal', 'internal error; see the node log'));
  };
}

/** The default query string schema of an `/api/` route that declares none: no parameters. */
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

/**
 * The last onRequest hook of an `/api/` route that declares no body schema: a request carrying a
 * body (a length above 0, or chunked) is refused, after the token check and before the body is
 * read. (An empty body with a JSON content-type is left to the JSON parser, which says so.)
 */
async function refuseBody(req: FastifyRequest): Promise<void> {
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (length === undefined || Number(length) === 0)) return;
  throw new ApiError('bad_request', `${req.method} ${shownPath(req.url)} takes no body; send the request without one`);
}

/** The rules every route gets as it is registered (the `onRoute` hook): methods, queries, authentication, bodies. */
function routeRules(methods: MethodIndex, requireAdmin: RouteHelpers['requireAdmin']): onRouteHookHandler {
  return (route) => {
    methods.add(route.method, route.url);
    if (!route.url.startsWith('/api/')) return;
    if (!route.schema?.querystring) route.schema = { ...route.schema, querystring: noQuery };
    // Deny by default: an API route either checks the admin token first thing or says it is
    // public; one that forgot both would serve anyone, so it is refused when it is registered.
    const onRequest = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    const isPublic = (route.config as { public?: unknown } | undefined)?.public === true;
    if (!isPublic && !onRequest.includes(requireAdmin)) {
      throw new Error(`route ${String(route.method)} ${route.url} has no authentication: give it onRequest: requireAdmin, or config: { public: true }`);
    }
    // One rule for every route, as for query strings: a route takes a body only if it says what
    // the body holds. The hook runs last, so an unauthenticated caller learns nothing of it.
    if (!route.schema.body) route.onRequest = [...onRequest, refuseBody];
  };
}

export function buildApi(opts: ApiOptions): FastifyInstance {
  const { auth, metrics, logger, clock } = opts;
  const bodyBytesMax = opts.bodyBytesMax ?? bodyBytesMaxDefault;
  const onError = handleError(logger, bodyBytesMax);
  const app = Fastify({
    logger: false,
    bodyLimit: bodyBytesMax,
    // Path parameters are checked by each route's schema; this only bounds the raw segment. A ring
    // key may be 740 UTF-8 bytes, up to 2,220 characters once percent-encoded (find-my-way's
    // default of 100 would answer 414 to most real keys).
    routerOptions: { maxParamLength: pathParamLengthMax },
    // Malformed percent-encoding and over-long segments: the router's errors, in our format.
    frameworkErrors: (err, req, reply) => onError(err, req, reply),
    // Requests Node's HTTP parser refuses (headers over 16 KiB, raw non-ASCII in the URL).
    clientErrorHandler,
    return503OnClosing: true,
    // `verbose` gives each issue its data and schema, from which validationMessage says what came
    // and what was expected.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, verbose: true } },
  });
  // JSON is the only body type. Our parser refuses "__proto__" and "constructor.prototype" keys
  // (never merged into prototypes) and says why a body is not JSON; any other content-type is 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  const requireAdmin = async (req: FastifyRequest): Promise<void> => {
    const principal = auth.authenticate(bearerToken(req.headers.authorization));
    if (!principal) throw new ApiError('unauthorized', 'invalid or expired token');
    req.principal = principal;
  };

  const methods = new MethodIndex();
  app.addHook('onRoute', routeRules(methods, requireAdmin));
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

  app.setErrorHandler(onError);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = methods.allowed(path);
    if (allowed.length > 0) {
      void reply.status(405).header('allow', allowed.join(', ')).send(errorBody('method_not_allowed', `${req.method} is not allowed on ${shownPath(path)}; use one of ${allowed.join(', ')}`));
      return;
    }
    void reply.status(404).send(errorBody('not_found', `no route ${req.method} ${shownPath(path)}`));
  });

  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  for (const routes of opts.routes ?? []) routes(app, { requireAdmin });
  return app;
}

/**
 * Starts serving on `host:port`. A port that is taken (or an address this machine does not have)
 * is a ListenError that says so in one sentence, and the server is closed again.
 */
export async function listenApi(app: FastifyInstance, host: string, port: number): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw new ListenError('HTTP', formatAddress(host, port), err);
  }
}
