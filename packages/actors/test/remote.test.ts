/**
 * The remoting seam through the in-memory router: sends, queries and monitors to actors on
 * another node use the same calls as local ones; node-down, no route, and a refusing router.
 */
import t from 'tap';
import {
  LoopbackNetwork,
  NodeDownError,
  OutboundQueueFullError,
  decodeRefs,
  demonitor,
  dispatch,
  encodeRefs,
  monitor,
  query,
  refFromJSON,
  sameRef,
  spawn,
  start,
  stop,
  systemOf,
  InvalidRefError,
  type ActorContext,
  type ActorRef,
  type DownMessage,
} from '@shoal/actors';
import { silentLogger } from '@shoal/runtime';
import { ManualClock } from './manual-clock.js';

function outcome<T>(p: Promise<T>): Promise<{ value?: T; err?: unknown }> {
  return p.then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
}

interface Cluster {
  clock: ManualClock;
  net: LoopbackNetwork;
  n1: ActorRef<never>;
  n2: ActorRef<never>;
}

function cluster(queueMax?: number): Cluster {
  const clock = new ManualClock();
  const n1 = start({ name: 'n1', clock, logger: silentLogger, restart: { maxRestarts: 0 } });
  const n2 = start({ name: 'n2', clock, logger: silentLogger, restart: { maxRestarts: 0 } });
  const net = new LoopbackNetwork({ clock, ...(queueMax === undefined ? {} : { queueMax }) });
  net.attach(n1);
  net.attach(n2);
  return { clock, net, n1, n2 };
}

type Echo = { text: string; replyTo?: ActorRef<unknown>; tags?: Set<string> };

/** Replies `{ echo, self, replyToSeen }` to the sender. */
function echo(_s: undefined, msg: Echo, ctx: ActorContext<Echo>): undefined {
  dispatch(ctx.sender, { echo: msg.text, self: ctx.self, replyTo: msg.replyTo, tags: msg.tags }, ctx.self);
  return undefined;
}

t.test('refs: printable, comparable, serializable, bound to a system', async (t) => {
  const root = start({ name: 'n1', logger: silentLogger });
  const a = spawn(root, echo, 'a');
  t.equal(a.toString(), 'n1/a');
  t.same(a.toJSON(), { node: 'n1', path: ['a'] });
  t.same(JSON.parse(JSON.stringify({ a })), { a: { node: 'n1', path: ['a'] } });
  t.same(structuredClone(a), { node: 'n1', path: ['a'] }, 'structuredClone sees only { node, path }');
  const back = refFromJSON(root, { node: 'n1', path: ['a'] });
  t.ok(sameRef(a, back) && a.equals(back) && back.equals(a.toJSON()));
  t.notOk(sameRef(a, refFromJSON(root, { node: 'n2', path: ['a'] })));
  t.equal(back.system, systemOf(root));
  t.equal(back.system.name, 'n1', "nact's ref.system.name");
  t.throws(() => refFromJSON(root, { node: 'n1', path: ['a/b'] }), InvalidRefError);
  t.throws(() => refFromJSON(root, { node: 'n1' }), InvalidRefError);
  const encoded = encodeRefs({ list: [a], map: new Map([['k', a]]), set: new Set([a]), at: new Date(0) });
  const decoded = decodeRefs(structuredClone(encoded), systemOf(root)) as { list: ActorRef[]; map: Map<string, ActorRef>; set: Set<ActorRef>; at: Date };
  t.ok(sameRef(decoded.list[0], a) && sameRef(decoded.map.get('k'), a) && sameRef([...decoded.set][0], a));
  t.type(decoded.at, Date);
  stop(root);
});

t.test('remote dispatch and reply through the same calls; messages are copies; refs come back bound', async (t) => {
  const { clock, n1, n2 } = cluster();
  spawn(n2, echo, 'echo');
  const replies: { echo: string; self: ActorRef; replyTo: ActorRef; tags: Set<string> }[] = [];
  const client = spawn(n1, (_s: undefined, m: (typeof replies)[number]) => void replies.push(m), 'client');
  const remoteEcho = refFromJSON<Echo>(n1, { node: 'n2', path: ['echo'] });
  const msg: Echo = { text: 'hello', replyTo: client, tags: new Set(['x']) };
  dispatch(remoteEcho, msg, client);
  msg.text = 'mutated after dispatch';
  clock.runDeferred();
  t.equal(replies.length, 1);
  const r = replies[0]!;
  t.equal(r.echo, 'hello', 'the receiver got a copy');
  t.equal(r.self.toString(), 'n2/echo');
  t.equal(r.self.system, systemOf(n1), 'refs in the reply are bound to the receiving system');
  t.ok(sameRef(r.replyTo, client), 'a ref survived two hops');
  t.same([...r.tags], ['x']);
});

t.test('remote query, and a remote query to an unknown actor fails at once', async (t) => {
  const { clock, n1, n2 } = cluster();
  spawn(n2, echo, 'echo');
  const answered = outcome(query(refFromJSON<Echo>(n1, { node: 'n2', path: ['echo'] }), { text: 'q' }, 1000));
  clock.runDeferred();
  t.match((await answered).value, { echo: 'q' });
  const unknown = outcome(query(refFromJSON<Echo>(n1, { node: 'n2', path: ['nobody-here'] }), { text: 'q' }, 60_000));
  clock.runDeferred();
  t.match((await unknown).err, { name: 'UndeliverableError', reason: 'unknown', target: 'n2/nobody-here' }, 'through a notice from n2');
  t.equal(clock.nowMs, 0, 'before any timeout');
});

t.test('remote monitors: stopped, crashed, noproc, demonitor', async (t) => {
  const { clock, n1, n2 } = cluster();
  const downs: DownMessage[] = [];
  const watcher = spawn(n1, (_s: undefined, m: DownMessage) => void downs.push(m), 'watcher');
  spawn(n2, echo, 'a');
  const crasher = spawn(n2, () => {
    throw new Error('x');
  }, 'b');
  spawn(n2, echo, 'c');
  const ref = (name: string): ActorRef => refFromJSON(n1, { node: 'n2', path: [name] });
  const ida = monitor(watcher, ref('a'));
  const idb = monitor(watcher, ref('b'));
  const idc = monitor(watcher, ref('c'));
  const idz = monitor(watcher, ref('zzz'));
  clock.runDeferred();
  t.ok(demonitor(idc));
  clock.runDeferred();
  t.equal(systemOf(n2).stats().monitors, 2, 'n2 holds the monitors on a and b; c was demonitored');
  stop(refFromJSON(n2, { node: 'n2', path: ['a'] }));
  dispatch(crasher, 'crash');
  stop(refFromJSON(n2, { node: 'n2', path: ['c'] }));
  clock.runDeferred();
  const byId = new Map(downs.map((d) => [d.monitorId, d]));
  t.match(byId.get(ida), { reason: 'stopped' });
  t.match(byId.get(idb), { reason: 'crashed' });
  t.match(byId.get(idz), { reason: 'noproc' });
  t.notOk(byId.has(idc));
  t.equal(byId.get(ida)?.ref.toString(), 'n2/a');
  t.equal(systemOf(n1).stats().monitors, 0, 'spent monitors are released on the watching node too');
});

t.test('node down: monitors fire node-down, pending queries fail at once', async (t) => {
  const { clock, net, n1, n2 } = cluster();
  const downs: DownMessage[] = [];
  const watcher = spawn(n1, (_s: undefined, m: DownMessage) => void downs.push(m), 'watcher');
  spawn(n2, () => undefined, 'silent');
  const silentRef = refFromJSON(n1, { node: 'n2', path: ['silent'] });
  const id = monitor(watcher, silentRef);
  const pending = outcome(query(silentRef, 'never answered', 60_000));
  const n2Watcher: DownMessage[] = [];
  const w2 = spawn(n2, (_s: undefined, m: DownMessage) => void n2Watcher.push(m), 'w2');
  monitor(w2, refFromJSON(n2, { node: 'n1', path: ['watcher'] }));
  clock.runDeferred();
  net.disconnect('n2');
  clock.runDeferred();
  t.match(downs, [{ reason: 'node-down', monitorId: id }]);
  const { err } = await pending;
  t.type(err, NodeDownError);
  t.match(err, { message: 'query to n2/silent failed: node n2 is down' });
  t.match(n2Watcher, [{ reason: 'node-down' }], 'each side sees the other down');
  t.equal(systemOf(n1).stats().monitors, 0, 'n1 dropped the monitor n2 held on its watcher');
  dispatch(silentRef, 'after the disconnect');
  const late = outcome(query(silentRef, 'after the disconnect', 60_000));
  clock.runDeferred();
  t.equal(systemOf(n1).deadLetters.byReason['no-route'], 2, 'sends to a node that left come back as no-route dead letters');
  t.match((await late).err, { name: 'UndeliverableError', reason: 'no-route' }, 'and a query fails at once');
  const ghostWatch = monitor(watcher, refFromJSON(n1, { node: 'never-joined', path: ['x'] }));
  clock.runDeferred();
  t.match(downs.at(-1), { reason: 'node-down', monitorId: ghostWatch }, 'a monitor on an unknown node fires node-down');
});

t.test('without a router: no-route dead letters, node-down monitors, failing queries', async (t) => {
  const root = start({ name: 'alone', logger: silentLogger });
  const remote = refFromJSON(root, { node: 'elsewhere', path: ['x'] });
  dispatch(remote, 'lost?');
  t.equal(systemOf(root).deadLetters.byReason['no-route'], 1, 'not lost: a dead letter');
  t.match((await outcome(query(remote, 'q', 1000))).err, { name: 'UndeliverableError', reason: 'no-route' });
  const downs: DownMessage[] = [];
  const w = spawn(root, (_s: undefined, m: DownMessage) => void downs.push(m));
  monitor(w, remote);
  await new Promise((resolve) => setImmediate(resolve));
  t.match(downs, [{ reason: 'node-down' }]);
  t.throws(() => spawn(remote, () => undefined), { name: 'NotLocalError' });
  t.throws(() => stop(remote), { name: 'NotLocalError' });
  stop(root);
});

t.test('a refusing router: dispatch throws its error, a query rejects with it', async (t) => {
  const { clock, n1 } = cluster(2);
  const remote = refFromJSON(n1, { node: 'n2', path: ['x'] });
  dispatch(remote, 1);
  dispatch(remote, 2);
  t.throws(() => dispatch(remote, 3), OutboundQueueFullError, 'when full, dispatch fails with a clear error');
  t.type((await outcome(query(remote, 'q', 1000))).err, OutboundQueueFullError);
  clock.runDeferred();
  dispatch(remote, 4);
  t.throws(() => dispatch(remote, { f: () => 1 }), { name: 'DataCloneError' }, 'a message that cannot be serialized is refused');
});

t.test('inbound delivery checks its target node', async (t) => {
  const { n1 } = cluster();
  systemOf(n1).deliver(refFromJSON(n1, { node: 'n3', path: ['x'] }), 'misrouted');
  t.equal(systemOf(n1).deadLetters.byReason['no-route'], 1);
});
