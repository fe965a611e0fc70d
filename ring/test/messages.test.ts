// The ring's messages: peers' commands are validated by shape; replies echo the request id and a
// reply to another request (a late answer to a restarted node's previous life) is refused.
import t from 'tap';
import { dispatch, spawn, start, stop, type ActorContext } from '@shoal/actors';
import { seededRandom } from '@shoal/runtime';
import { StaleReplyError, askHost, commandProblem, withRid, type HostMessage } from '@shoal/ring';

const limits = { itemsMax: 4, keysMax: 4 };

t.test('commands from peers are checked by shape', async (t) => {
  const ok: unknown[] = [
    { c: 'get', bucket: 'b', key: 'k' },
    { c: 'merge', bucket: 'b', key: 'k', bytes: new Uint8Array(1), deadline: 1 },
    { c: 'write', bucket: 'b', key: 'k', op: { kind: 'delete' }, w: 2, n: 3, timeoutMs: 5, deadline: 1 },
    { c: 'write', bucket: 'b', key: 'k', op: { kind: 'update', ops: {} }, w: 2, n: 3, timeoutMs: 5, deadline: 1 },
    { c: 'fold', bucket: 'b', after: null, limit: 3, values: false, filter: null },
    { c: 'handoff', items: [['b', 'k', new Uint8Array(1)]], deadline: 1 },
    { c: 'aae-tree' },
    { c: 'aae-keys', segments: [1, 2] },
    { c: 'aae-fetch', skeys: ['b\u0000k'] },
    { c: 'reap-check', keys: [['b\u0000k', 7]] },
    { c: 'reap', keys: [] },
    { c: 'foreign-check' },
  ];
  for (const cmd of ok) t.equal(commandProblem(cmd, limits), undefined, JSON.stringify(cmd));
  const bad: [unknown, RegExp][] = [
    [null, /object/],
    [{ c: 'nope' }, /unknown command/],
    [{ c: 'get', bucket: 1, key: 'k' }, /get needs/],
    [{ c: 'merge', bucket: 'b', key: 'k', bytes: 'x', deadline: 1 }, /merge needs/],
    [{ c: 'merge', bucket: 'b', key: 'k', bytes: new Uint8Array(1) }, /merge needs/],
    [{ c: 'write', bucket: 'b', key: 'k', op: { kind: 'drop' }, w: 2, n: 3, timeoutMs: 5, deadline: 1 }, /write needs/],
    [{ c: 'handoff', items: Array.from({ length: 5 }, () => ['b', 'k', new Uint8Array(1)]), deadline: 1 }, /handoff needs/],
    [{ c: 'aae-keys', segments: [1, 2, 3, 4, 5] }, /aae-keys needs/],
    [{ c: 'reap', keys: [['k', 'not a hash']] }, /reap needs/],
  ];
  for (const [cmd, re] of bad) t.match(commandProblem(cmd, limits), re);
  t.same(withRid({ ok: true }, 5), { ok: true, rid: 5 });
  t.equal(withRid(null, 5), null);
});

t.test('a reply to another request is refused', async (t) => {
  const root = start({ name: 'asker' });
  const random = seededRandom(1);
  // A host that answers with the request id it got, or a wrong one when asked to.
  const host = spawn(root, (_s: undefined, msg: HostMessage, ctx: ActorContext<HostMessage>) => {
    if (msg.t === 'cmd') dispatch(ctx.sender, { ok: true, bytes: null, rid: msg.cmd.c === 'get' && msg.cmd.key === 'stale' ? msg.rid + 1 : msg.rid });
    return undefined;
  }, 'ring-vnodes');
  t.match(await askHost(host, 0, { c: 'get', bucket: 'b', key: 'k' }, 1_000, random), { ok: true, bytes: null });
  await t.rejects(askHost(host, 0, { c: 'get', bucket: 'b', key: 'stale' }, 1_000, random), StaleReplyError);
  stop(root);
});
