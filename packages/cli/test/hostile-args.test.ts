/**
 * Hostile arguments and hostile servers against the `shoal` command: every mistake is one line
 * on stderr naming what was wrong, a non-zero status (2 for usage, 1 for the rest), and never a
 * stack trace. Runs in-process as cli.test.ts does, plus a few runs of the real binary.
 */
import t from 'tap';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeTcpPort } from '@shoal/runtime';
import { cli } from './in-process.js';
import { runShoal } from './process-helpers.js';


/** What a fake server answers: status, content-type, body. */
type Reply = [number, string, string];

t.test('bad arguments: one line, status 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['frobnicate', 'now'], /^shoal: unknown command 'frobnicate now'; run 'shoal --help'\n$/],
    [['db', 'explode'], /'db' takes: put, get, delete, list/],
    [['--json', 'node', 'status'], /options go after the command: 'shoal node status --json …'/],
    [['node', '--json', 'status'], /options go after the command: 'shoal node status --json …'/],
    [['--version'], /no command before --version; run 'shoal --help'/],
    [['node', 'status', '--url'], /--url needs a value/],
    [['node', 'status', '--url', '--json'], /--url needs a value/],
    [['node', 'status', '--url='], /--url needs a non-empty value/],
    [['node', 'status', '--json', '--json'], /--json is given twice/],
    [['node', 'status', '--json=maybe'], /--json must be true or false, got "maybe"/],
    [['node', 'status', '--frob'], /unknown option --frob for 'node status'/],
    [['node', 'start', '--http-port', 'abc'], /--http-port must be an integer, got "abc"/],
    [['node', 'start', '--http-port', '-1'], /--http-port must be a port number 0-65535, got -1/],
    [['node', 'start', '--http-port', '70000'], /--http-port must be a port number 0-65535, got 70000/],
    [['node', 'start', '--http-port', '1e3'], /--http-port must be an integer, got "1e3"/],
    [['node', 'start', '--http-port', ''], /--http-port must be an integer, got ""/],
    [['node', 'start', '--sim-agents', '99999999999999999999'], /--sim-agents is out of range/],
    [['node', 'status', '--timeout-ms', '0'], /--timeout-ms must be 1-2147483647, got 0/],
    [['node', 'status', '--timeout-ms', '-5'], /--timeout-ms must be 1-2147483647, got -5/],
    [['node', 'status', '--timeout-ms', '99999999999999'], /--timeout-ms must be 1-2147483647/],
    [['db', 'list', 'b', '--limit', '0'], /--limit must be 1-1000, got 0/],
    [['db', 'list', 'b', '--limit', '5000'], /--limit must be 1-1000, got 5000/],
    [['db', 'get', '', 'k'], /BUCKET is empty/],
    [['db', 'put', 'b', 'k', ''], /VALUE is empty/],
    [['db', 'put', 'b', 'k'], /needs VALUE/],
    [['db', 'put', 'b', 'k', '1', '2'], /unexpected argument "2"/],
    [['db', 'put', 'b', 'k', '-x'], /unknown option -x/],
  ];
  for (const [argv, want] of cases) {
    const r = await cli(argv);
    t.equal(r.code, 2, `${argv.join(' ')}: status 2`);
    t.match(r.err, want, `${argv.join(' ')}: ${r.err.trim()}`);
    t.equal(r.err.split('\n').length, 2, `${argv.join(' ')}: one line`);
    t.equal(r.out, '', `${argv.join(' ')}: nothing on stdout`);
  }
});

t.test('bad values the command checks: one line, status 1', async (t) => {
  const port = await freeTcpPort();
  const cases: [string[], RegExp][] = [
    [['node', 'status', '--url', 'localhost:8080'], /--url must look like http:\/\/HOST:PORT, got "localhost:8080": the scheme must be http or https/],
    [['node', 'status', '--url', 'http://[::1'], /--url must look like http:\/\/HOST:PORT, got "http:\/\/\[::1": not a URL/],
    [['node', 'status', '--url', 'http://127.0.0.1:99999'], /got "http:\/\/127.0.0.1:99999": not a URL \(a bad port/],
    [['node', 'status', '--url', 'http://127.0.0.1:abc'], /not a URL/],
    [['node', 'status', '--url', 'http://user:pw@127.0.0.1:1'], /credentials do not belong in the URL; pass --token/],
    [['node', 'status', '--url', `http://127.0.0.1:${port}?x=1`], /no path, query or fragment/],
    [['node', 'status', '--url', `http://127.0.0.1:${port}#top`], /no path, query or fragment/],
    [['node', 'status', '--url', `http://127.0.0.1:${port}/api`], /no path, query or fragment/],
    [['node', 'status', '--url', 'ftp://x'], /the scheme must be http or https, not ftp/],
    [['node', 'status', '--url', `http://127.0.0.1:${port}`, '--token', 'a b'], /the token from --token or SHOAL_TOKEN is not a bearer token/],
    [['node', 'status', '--url', `http://127.0.0.1:${port}`, '--token', 'é'], /is not a bearer token/],
    [['db', 'put', 'b', 'k', '{bad', '--url', `http://127.0.0.1:${port}`, '--token', 'x'], /VALUE must be JSON/],
    [['db', 'put', 'b', 'k', "'text'", '--url', `http://127.0.0.1:${port}`, '--token', 'x'], /VALUE must be JSON \(quote strings/],
    // JSON.parse would round it (and send 12345678901234567000) or make it Infinity (sent as
    // null): refused before anything is sent (no node listens on this port).
    [['db', 'put', 'b', 'k', '{"id":12345678901234567890}', '--url', `http://127.0.0.1:${port}`, '--token', 'x'], /^shoal db put: VALUE holds the integer 12345678901234567890, which is beyond ±\(2\^53 − 1\) and would lose precision; write it as a string\n$/],
    [['db', 'put', 'b', 'k', '[1, -9007199254740993]', '--url', `http://127.0.0.1:${port}`, '--token', 'x'], /VALUE holds the integer -9007199254740993, which is beyond/],
    [['db', 'put', 'b', 'k', '1e400', '--url', `http://127.0.0.1:${port}`, '--token', 'x'], /VALUE holds the number 1e400, which is too large for a number and would become infinite; write it as a string/],
    [['node', 'status', '--url', `http://127.0.0.1:${port}`, '--token', 'x'], /cannot reach .*connection refused \(is the node running\?\)/],
  ];
  for (const [argv, want] of cases) {
    const r = await cli(argv);
    t.equal(r.code, 1, `${argv.join(' ')}: status 1`);
    t.match(r.err, want, `${argv.join(' ')}: ${r.err.trim()}`);
    t.equal(r.err.split('\n').length, 2, `${argv.join(' ')}: one line`);
  }
  const env = await cli(['node', 'status'], { SHOAL_URL: 'http://[::1', SHOAL_TOKEN: 'x' });
  t.match(env.err, /--url must look like/, 'SHOAL_URL is checked as --url is');
});

t.test('a server that is not a Shoal node: one line, status 1, no stack', async (t) => {
  let reply: Reply = [200, 'text/html', '<html>hi</html>'];
  const server = http.createServer((_req, res) => {
    res.writeHead(reply[0], { 'content-type': reply[1] });
    res.end(reply[2]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const flags = ['--url', url, '--token', 'x'];

  const cases: [string, Reply, string[], RegExp][] = [
    ['HTML with 200', [200, 'text/html', '<html><body>\n<h1>Welcome</h1>\n</body></html>'], ['node', 'status'], /is not a Shoal node's API \(is --url right\?\): it answered HTTP 200 with something that is not JSON: <html><body> <h1>Welcome/],
    ['an empty 200', [200, 'application/json', ''], ['cluster', 'members'], /it answered HTTP 200 with an empty body/],
    ['a JSON array', [200, 'application/json', '[1,2]'], ['cluster', 'ring'], /JSON that is not an object: \[1,2\]/],
    ['JSON of another shape', [200, 'application/json', '{"ok":true}'], ['cluster', 'members'], /its answer lacks "members"/],
    ['JSON null', [200, 'application/json', 'null'], ['hypervisors', 'list'], /JSON that is not an object: null/],
    ['a db value of another shape', [200, 'application/json', '{}'], ['db', 'get', 'b', 'k'], /lacks "value"/],
    ['a db page of another shape', [200, 'application/json', '{"keys":[]}'], ['db', 'list', 'b'], /lacks "items"/],
    ['a plan of another shape', [200, 'application/json', '{"changes":[]}'], ['cluster', 'plan'], /lacks "nextVersion", "leaving", "removed", "balance"/],
    ['a 204 where a body is needed', [204, 'text/plain', ''], ['cluster', 'transfers'], /answered 204 with no content/],
    ['a 502 HTML page', [502, 'text/html', '<html>\n<body>\n<h1>502 Bad Gateway</h1>\n</body>\n</html>'], ['cluster', 'status'], /HTTP 502 \(text\/html\): <html> <body> <h1>502 Bad Gateway<\/h1>/],
    ['a 500 with an empty body', [500, 'text/plain', ''], ['node', 'status'], /HTTP 500 \(text\/plain\): empty response/],
    ['an error message over several lines', [409, 'application/json', JSON.stringify({ error: { code: 'conflict', message: 'line one\nline two\r\n\tline three' } })], ['cluster', 'commit'], /shoal cluster commit: line one line two line three$/m],
    ['a 401 in the error format', [401, 'application/json', JSON.stringify({ error: { code: 'unauthorized', message: 'invalid or expired token' } })], ['hypervisors', 'get', 'hv1'], /invalid or expired token \(pass --token, set SHOAL_TOKEN, or --data DIR of the node\)/],
  ];
  for (const [what, answer, argv, want] of cases) {
    reply = answer;
    const r = await cli([...argv, ...flags]);
    t.equal(r.code, 1, `${what}: status 1`);
    t.match(r.err, want, `${what}: ${r.err.trim()}`);
    t.equal(r.err.split('\n').length, 2, `${what}: one line`);
    t.notMatch(r.err, /\n\s+at /, `${what}: no stack trace`);
  }

  // The same through the real binary: the exit status and stderr a shell sees.
  reply = [200, 'text/html', '<html>hi</html>'];
  const html = await runShoal(['cluster', 'members', ...flags]);
  t.equal(html.code, 1, 'binary: status 1 for an HTML answer');
  t.match(html.stderr, /^shoal cluster members: .* is not a Shoal node's API/);
  t.equal(html.stderr.split('\n').length, 2, 'binary: one line');
  const usage = await runShoal(['--json', 'cluster', 'members']);
  t.equal(usage.code, 2, 'binary: status 2 for an option before the command');
  t.match(usage.stderr, /^shoal: options go after the command/);
});

t.test('a port another process holds: node start says which and why in one line, status 1', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-cli-port-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const address = holder.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const cases: [string, string[], RegExp][] = [
    ['HTTP', ['--http-port', String(port), '--gossip-port', '0', '--cluster-port', '0'], new RegExp(`^shoal node start: cannot listen on 127\\.0\\.0\\.1:${port} \\(HTTP\\): the address is already in use .*\\[EADDRINUSE\\]\\n$`)],
    ['cluster transport', ['--http-port', '0', '--gossip-port', '0', '--cluster-port', String(port)], new RegExp(`^shoal node start: cannot listen on 127\\.0\\.0\\.1:${port} \\(WebSocket\\): the address is already in use .*\\[EADDRINUSE\\]\\n$`)],
  ];
  for (const [what, flags, want] of cases) {
    const r = await runShoal(['node', 'start', '--data', path.join(dir, what.replace(/ /g, '-')), '--host', '127.0.0.1', ...flags]);
    t.equal(r.code, 1, `${what}: status 1`);
    t.match(r.stderr, want, `${what}: ${r.stderr.trim()}`);
  }
  // UDP: a socket bound to the gossip port.
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => udp.close(() => resolve())));
  const gossip = udp.address().port;
  const r = await runShoal(['node', 'start', '--data', path.join(dir, 'gossip'), '--host', '127.0.0.1', '--http-port', '0', '--cluster-port', '0', '--gossip-port', String(gossip)]);
  t.equal(r.code, 1, 'gossip: status 1');
  t.match(r.stderr, new RegExp(`^shoal node start: cannot listen on 127\\.0\\.0\\.1:${gossip} \\(UDP\\): the address is already in use .*\\[EADDRINUSE\\]\\n$`), `gossip: ${r.stderr.trim()}`);
});
