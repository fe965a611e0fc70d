import t from 'tap';
import { nodeClock, silentLogger } from '@shoal/runtime';
import { adminTokenAuthenticator, buildApi, createMetrics, nodeRoutes, type ApiRoutes, type NodeStatus } from '@shoal/api';

const status: NodeStatus = {
  name: 'n1',
  version: '0.1.0',
  cluster: 'shoal',
  startedAt: '2026-01-01T00:00:00.000Z',
  uptimeSeconds: 3,
  addresses: { cluster: '127.0.0.1:7947', http: '127.0.0.1:8080' },
  peers: [],
};

const testRoutes: ApiRoutes = (app, { requireAdmin }) => {
  app.post(
    '/api/v1/echo',
    {
      onRequest: requireAdmin,
      schema: { body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', maxLength: 8 } } } },
    },
    async (req) => req.body,
  );
  app.post('/api/v1/poke', { onRequest: requireAdmin }, async () => ({ poked: true }));
  app.get('/api/v1/boom', { config: { public: true } }, async () => {
    throw new Error('secret detail');
  });
};

function api() {
  const errors: string[] = [];
  const logger = { ...silentLogger, error: (msg: string) => errors.push(msg) };
  const app = buildApi({
    auth: adminTokenAuthenticator(['good-token', 'older-token']),
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
    clock: nodeClock(),
    bodyBytesMax: 1024,
    routes: [nodeRoutes(() => status), testRoutes],
  });
  return { app, errors };
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

t.test('health is public; node status needs an admin token', async (t) => {
  const { app } = api();
  const health = await app.inject({ method: 'GET', url: '/api/v1/health' });
  t.equal(health.statusCode, 200);
  t.same(health.json(), { status: 'ok', node: 'n1', version: '0.1.0' });

  const none = await app.inject({ method: 'GET', url: '/api/v1/node' });
  t.equal(none.statusCode, 401);
  t.equal(none.json().error.code, 'unauthorized');
  t.match(none.json().error.message, /missing bearer token/);

  const malformed = await app.inject({ method: 'GET', url: '/api/v1/node', headers: { authorization: 'Basic abc' } });
  t.equal(malformed.statusCode, 401);
  t.match(malformed.json().error.message, /malformed/);

  const wrong = await app.inject({ method: 'GET', url: '/api/v1/node', headers: auth('bad-token') });
  t.equal(wrong.statusCode, 401);

  for (const token of ['good-token', 'older-token']) {
    const ok = await app.inject({ method: 'GET', url: '/api/v1/node', headers: auth(token) });
    t.equal(ok.statusCode, 200, `token ${token} accepted`);
    t.same(ok.json(), status);
  }
});

t.test('bad input gets a clear JSON error and nothing else', async (t) => {
  const { app } = api();
  const post = (payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/api/v1/echo', headers: { ...auth('good-token'), 'content-type': contentType }, payload });

  t.same((await post('{"name":"ok"}')).json(), { name: 'ok' });

  const cases: [string, string, number, string][] = [
    ['malformed JSON', '{"name":', 400, 'bad_request'],
    ['schema violation', '{"name":"far too long a name"}', 400, 'bad_request'],
    ['unknown property', '{"name":"a","x":1}', 400, 'bad_request'],
    ['prototype poisoning', '{"name":"a","__proto__":{"admin":true}}', 400, 'bad_request'],
    ['body over the limit', JSON.stringify({ name: 'x'.repeat(2000) }), 413, 'payload_too_large'],
  ];
  for (const [what, body, statusCode, code] of cases) {
    const res = await post(body);
    t.equal(res.statusCode, statusCode, `${what}: status`);
    t.equal(res.json().error.code, code, `${what}: code`);
    t.type(res.json().error.message, 'string');
  }
  const media = await post('name=a', 'application/x-www-form-urlencoded');
  t.equal(media.statusCode, 415);
  t.equal(media.json().error.code, 'unsupported_media_type');

  const missing = await app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' });
  t.equal(missing.statusCode, 404);
  t.same(missing.json(), { error: { code: 'not_found', message: 'no route GET /api/v1/nothing-here' } });
});

t.test('numbers JSON.parse would change are refused, saying which, not stored as another number', async (t) => {
  const { app } = api();
  const post = (payload: string) => app.inject({ method: 'POST', url: '/api/v1/echo', headers: { ...auth('good-token'), 'content-type': 'application/json' }, payload });
  const cases: [string, string][] = [
    ['{"name":12345678901234567890}', 'the body holds the integer 12345678901234567890, which is beyond ±(2^53 − 1) and would lose precision; write it as a string'],
    ['{"name":-9007199254740993}', 'the body holds the integer -9007199254740993, which is beyond ±(2^53 − 1) and would lose precision; write it as a string'],
    ['{"name":1e400}', 'the body holds the number 1e400, which is too large for a number and would become infinite; write it as a string'],
  ];
  for (const [body, message] of cases) {
    const res = await post(body);
    t.equal(res.statusCode, 400, `${body}: 400`);
    t.same(res.json(), { error: { code: 'bad_request', message } }, `${body}: says which number and why`);
  }
  // Numbers kept as written pass on to the schema.
  for (const n of ['9007199254740991', '100000000000000000000']) t.match((await post(`{"name":${n}}`)).json(), { error: { message: /field "name" must be a string/ } }, n);
});

t.test('a route that declares no body schema takes no body: one sent is refused, after the token check', async (t) => {
  const { app } = api();
  const send = (method: 'GET' | 'POST', url: string, payload?: string, token = 'good-token') =>
    app.inject({ method, url, headers: { ...auth(token), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(payload !== undefined ? { payload } : {}) });
  t.same((await send('POST', '/api/v1/poke')).json(), { poked: true }, 'without a body it runs');
  for (const [method, url] of [['POST', '/api/v1/poke'], ['GET', '/api/v1/node'], ['GET', '/api/v1/health']] as const) {
    const res = await send(method, url, '{"dryRun":true}');
    t.equal(res.statusCode, 400, `${method} ${url} with a body: 400`);
    t.same(res.json(), { error: { code: 'bad_request', message: `${method} ${url} takes no body; send the request without one` } });
  }
  t.equal((await send('POST', '/api/v1/poke', '{}', 'bad-token')).statusCode, 401, 'without a valid token: 401, nothing said about bodies');
  const chunked = await app.inject({ method: 'POST', url: '/api/v1/poke', headers: { ...auth('good-token'), 'transfer-encoding': 'chunked', 'content-type': 'application/json' }, payload: '{}' });
  t.equal(chunked.statusCode, 400, 'a chunked body too');
  t.equal((await send('POST', '/api/v1/echo', '{"name":"ok"}')).statusCode, 200, 'a route with a body schema takes its body');
});

t.test('an unexpected error is logged and answered without details', async (t) => {
  const { app, errors } = api();
  const res = await app.inject({ method: 'GET', url: '/api/v1/boom' });
  t.equal(res.statusCode, 500);
  t.equal(res.json().error.code, 'internal');
  t.notMatch(res.body, /secret detail/);
  t.equal(errors.length, 1);
});

t.test('metrics count requests by route and status', async (t) => {
  const { app } = api();
  await app.inject({ method: 'GET', url: '/api/v1/health' });
  await app.inject({ method: 'GET', url: '/api/v1/node' });
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /text\/plain/);
  t.match(res.body, /shoal_http_requests_total\{method="GET",route="\/api\/v1\/health",status="200"\} 1/);
  t.match(res.body, /shoal_http_requests_total\{method="GET",route="\/api\/v1\/node",status="401"\} 1/);
});

t.test('deny by default: an /api/ route with neither the admin check nor config.public is refused when registered', async (t) => {
  const open: ApiRoutes = (app) => {
    app.get('/api/v1/forgot', async () => ({ secret: true }));
  };
  const late: ApiRoutes = (app, { requireAdmin }) => {
    app.post('/api/v1/late', { preHandler: requireAdmin }, async () => ({}));
  };
  for (const [what, routes] of [['no check at all', open], ['the check after the body is read (preHandler)', late]] as const) {
    t.throws(
      () => buildApi({ auth: adminTokenAuthenticator(['good-token']), metrics: createMetrics({ defaultMetrics: false }), logger: silentLogger, clock: nodeClock(), routes: [routes] }),
      /has no authentication: give it onRequest: requireAdmin, or config: \{ public: true \}/,
      what,
    );
  }
});
