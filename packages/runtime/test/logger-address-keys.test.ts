import t from 'tap';
import { AddressError, KeyError, checkKey, compareKeys, formatAddress, jsonLogger, memoryLogger, nodeClock, parseAddress } from '@shoal/runtime';

t.test('json logger writes one JSON object per line with bound fields', async (t) => {
  const out: string[] = [];
  const log = jsonLogger(nodeClock(), 'info', (s) => out.push(s)).child({ node: 'n1' });
  log.debug('hidden');
  log.info('hello', { port: 1, err: new Error('x'), data: new Uint8Array(3) });
  t.equal(out.length, 1);
  t.ok(out[0]?.endsWith('\n'));
  const line = JSON.parse(out[0] ?? '{}');
  t.match(line, { level: 'info', msg: 'hello', node: 'n1', port: 1, err: { name: 'Error', message: 'x' }, data: '<3 bytes>' });
  t.match(line.t, /^\d{4}-\d\d-\d\dT/);
});

t.test('memory logger is bounded', async (t) => {
  const log = memoryLogger(nodeClock(), 'debug', 3);
  for (let i = 0; i < 5; i++) log.info(`m${i}`);
  t.same(log.lines.map((l) => l.msg), ['m2', 'm3', 'm4']);
});

t.test('addresses parse and format, bad ones get a clear error', async (t) => {
  t.same(parseAddress('127.0.0.1:7946'), { host: '127.0.0.1', port: 7946 });
  t.same(parseAddress('[::1]:80'), { host: '::1', port: 80 });
  t.same(parseAddress('node-1.local:0'), { host: 'node-1.local', port: 0 });
  t.equal(formatAddress('::1', 80), '[::1]:80');
  t.equal(formatAddress('10.0.0.1', 1), '10.0.0.1:1');
  for (const bad of ['', '127.0.0.1', ':80', '127.0.0.1:65536', '127.0.0.1:-1', 'a b:1', '::1:80', 'host:80x']) {
    t.throws(() => parseAddress(bad), AddressError, `rejects ${JSON.stringify(bad)}`);
  }
});

t.test('storage keys: validation and order', async (t) => {
  checkKey(['vms', 'abc', 1]);
  t.throws(() => checkKey([]), KeyError);
  t.throws(() => checkKey(['a\u0000b']), KeyError);
  t.throws(() => checkKey([1.5]), KeyError);
  t.throws(() => checkKey([{} as unknown as string]), KeyError);
  t.throws(() => checkKey(['x'.repeat(2000)]), KeyError);
  t.throws(() => checkKey(new Array(17).fill('a')), KeyError);
  const sorted = [[-5], [1], [2], [10], [''], ['a'], ['a', 1], ['a', 1, 'z'], ['a', 2], ['a', 'x'], ['a!'], ['b'], ['é'], ['中']];
  const shuffled = [...sorted].reverse();
  t.same(shuffled.sort(compareKeys), sorted);
});
