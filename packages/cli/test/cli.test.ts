/** The `shoal` command in-process: parsing, help, errors as one clear line with a fitting status. */
import t from 'tap';
import { freeTcpPort } from '@shoal/runtime';
import { parseKeyringFile } from '@shoal/wire';
import { parseArgs, UsageError } from '../src/args.js';
import { cli } from './in-process.js';


t.test('help and unknown commands', async (t) => {
  const help = await cli([]);
  t.equal(help.code, 0);
  t.match(help.out, /usage: shoal <command>/);
  t.match(help.out, /node start/);
  const sub = await cli(['node', 'start', '--help']);
  t.equal(sub.code, 0);
  t.match(sub.out, /--http-port PORT/);
  t.match(sub.out, /default 8080/);
  const unknown = await cli(['frobnicate']);
  t.equal(unknown.code, 2);
  t.match(unknown.err, /^shoal: unknown command 'frobnicate'; run 'shoal --help'\n$/);
  const group = await cli(['node', 'explode']);
  t.equal(group.code, 2);
  t.match(group.err, /'node' takes: start, status/);
});

t.test('bad flags get one clear line and status 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['node', 'start', '--http-port', '99999'], /--http-port must be a port number 0-65535, got 99999/],
    [['node', 'start', '--http-port'], /--http-port needs a value/],
    [['node', 'start', '--bogus'], /unknown option --bogus for 'node start'/],
    [['node', 'start', '--http-port', '80', '--http-port=81'], /given twice/],
    [['node', 'start', 'extra'], /unexpected argument "extra"/],
    [['node', 'status', '-x'], /unknown option -x/],
    [['node', 'status', '--timeout-ms', 'soon'], /must be an integer/],
  ];
  for (const [argv, want] of cases) {
    const r = await cli(argv);
    t.equal(r.code, 2, argv.join(' '));
    t.match(r.err, want);
    t.equal(r.err.trim().split('\n').length, 1, 'one line');
  }
});

t.test('config errors and unreachable nodes are one line with status 1', async (t) => {
  const name = await cli(['node', 'start', '--name', 'bad name!', '--data', '/nonexistent-never']);
  t.equal(name.code, 1);
  t.match(name.err, /node name "bad name!" is not valid/);
  const level = await cli(['node', 'start', '--log-level', 'loud']);
  t.equal(level.code, 1);
  t.match(level.err, /--log-level must be debug, info, warn or error/);
  const port = await freeTcpPort();
  const down = await cli(['node', 'status', '--url', `http://127.0.0.1:${port}`, '--token', 'x'.repeat(40)]);
  t.equal(down.code, 1);
  t.equal(down.err, `shoal node status: cannot reach http://127.0.0.1:${port}/api/v1/node: connection refused (is the node running?)\n`);
  const url = await cli(['node', 'status', '--url', 'ftp://x']);
  t.equal(url.code, 1);
  t.match(url.err, /--url must look like http:\/\/HOST:PORT/);
  const env = await cli(['node', 'status'], { SHOAL_URL: `http://127.0.0.1:${port}`, SHOAL_TOKEN: 't'.repeat(40) });
  t.match(env.err, `127.0.0.1:${port}`, 'SHOAL_URL is honoured');
});

t.test('keygen prints a key that a keyring file accepts', async (t) => {
  const r = await cli(['keygen']);
  t.equal(r.code, 0);
  t.match(r.out, /^[A-Za-z0-9+/]{43}=\n$/);
  t.equal(parseKeyringFile(r.out).size, 1);
  t.not((await cli(['keygen'])).out, r.out, 'a fresh key every time');
});

t.test('parseArgs: forms, defaults, environment', async (t) => {
  const specs = [
    { name: 'port', type: 'port' as const, help: '', default: 1 },
    { name: 'json', type: 'bool' as const, help: '' },
    { name: 'url', type: 'string' as const, help: '', env: 'URL' },
  ];
  const a = parseArgs('x', ['--port=5', '--json', 'pos', '--', '--not-a-flag'], specs, [{ name: 'a', help: '' }, { name: 'b', help: '' }], { URL: 'u' });
  t.equal(a.int('port'), 5);
  t.ok(a.bool('json'));
  t.equal(a.string('url'), 'u');
  t.same(a.positionals, ['pos', '--not-a-flag']);
  const b = parseArgs('x', [], specs, [], {});
  t.equal(b.int('port'), 1);
  t.notOk(b.bool('json'));
  t.throws(() => parseArgs('x', ['--json=maybe'], specs, []), UsageError);
  t.throws(() => parseArgs('x', [], specs, [], { URL: '' }) && parseArgs('x', [], [{ name: 'p', type: 'port', help: '', env: 'P' }], [], { P: 'abc' }), UsageError);
});
