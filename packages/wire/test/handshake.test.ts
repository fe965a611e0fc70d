// Handshake: success (same key, rotated keys), and failure with a wrong key, a wrong cluster,
// a replayed hello, forged proofs, wrong versions or message types, and garbage at each step.
import t from 'tap';
import type { Test } from 'tap';
import { seededRandom } from '@shoal/runtime';
import type { Random } from '@shoal/runtime';
import {
  Keyring,
  generateKey,
  clientHandshake,
  serverHandshake,
  openWithKey,
  sealWithKey,
  WireCodec,
  shoalRegistry,
  HandshakeChallenge,
  HandshakeHello,
  HandshakeResponse,
  ProtocolUsageError,
  isMessage,
} from '@shoal/wire';
import type { HandshakeStep, HandshakeDone } from '@shoal/wire';

const keyRandom = seededRandom(10);
const keyA = generateKey(keyRandom);
const keyB = generateKey(keyRandom);
const keyC = generateKey(keyRandom);
const codec = new WireCodec(shoalRegistry);

function sides(clientKeys: Uint8Array[], serverKeys: Uint8Array[], opts: { clientCluster?: string; serverCluster?: string; random?: Random } = {}) {
  const random = opts.random ?? seededRandom(11);
  const client = clientHandshake({ keyring: new Keyring(clientKeys), cluster: opts.clientCluster ?? 'prod', node: 'node-a', random: random.fork() });
  const server = serverHandshake({ keyring: new Keyring(serverKeys), cluster: opts.serverCluster ?? 'prod', node: 'node-b', random: random.fork() });
  return { client, server };
}

/** Runs the three steps, returning every frame and step. */
function run(client: ReturnType<typeof sides>['client'], server: ReturnType<typeof sides>['server']) {
  const hello = client.start();
  const s1 = server.receive(hello);
  if (!s1.send) return { hello, s1 };
  const challenge = s1.send;
  const c2 = client.receive(challenge);
  if (!c2.send) return { hello, s1, challenge, c2 };
  const response = c2.send;
  const s3 = server.receive(response);
  return { hello, s1, challenge, c2, response, s3 };
}

function sessionsTalk(t: Test, a: HandshakeDone, b: HandshakeDone): void {
  const r1 = b.session.open(a.session.seal(Buffer.from('ping')));
  t.equal(r1.ok && Buffer.from(r1.plaintext).toString(), 'ping', 'client → server over the session');
  const r2 = a.session.open(b.session.seal(Buffer.from('pong')));
  t.equal(r2.ok && Buffer.from(r2.plaintext).toString(), 'pong', 'server → client over the session');
}

const errorOf = (step: HandshakeStep | undefined) => step?.error?.category;

t.test('success with the same key', async (t) => {
  const { client, server } = sides([keyA], [keyA]);
  const r = run(client, server);
  t.ok(r.s1.send && !r.s1.done, 'server answers the hello with a challenge');
  t.ok(r.c2?.done && r.c2.send, 'client completes and sends its response');
  t.ok(r.s3?.done && !r.s3.send, 'server completes');
  t.equal(r.c2?.done?.peerNode, 'node-b');
  t.equal(r.s3?.done?.peerNode, 'node-a');
  t.equal(client.phase, 'done');
  t.equal(server.phase, 'done');
  sessionsTalk(t, r.c2!.done!, r.s3!.done!);
  t.equal(client.stats.accepted, 1);
  t.equal(server.stats.accepted, 2);
});

t.test('success when the client still uses an older key the server holds', async (t) => {
  const { client, server } = sides([keyA], [keyB, keyA]);
  const r = run(client, server);
  t.ok(r.s3?.done);
  sessionsTalk(t, r.c2!.done!, r.s3!.done!);
  const flipped = sides([keyB, keyA], [keyA, keyB]);
  const r2 = run(flipped.client, flipped.server);
  t.ok(r2.s3?.done, 'and the other way round');
});

t.test('failure: wrong key', async (t) => {
  const { client, server } = sides([keyA], [keyB, keyC]);
  const r = run(client, server);
  t.equal(errorOf(r.s1), 'auth');
  t.equal(server.phase, 'failed');
  t.equal(errorOf(server.receive(r.hello)), 'unexpected', 'a failed handshake stays failed');
});

t.test('failure: wrong cluster name', async (t) => {
  const { client, server } = sides([keyA], [keyA], { clientCluster: 'staging' });
  t.equal(errorOf(run(client, server).s1), 'auth');
});

t.test('failure: a replayed hello (and response) cannot complete', async (t) => {
  const first = sides([keyA], [keyA]);
  const recorded = run(first.client, first.server);
  t.ok(recorded.s3?.done, 'the recorded handshake succeeded');
  const victim = serverHandshake({ keyring: new Keyring([keyA]), cluster: 'prod', node: 'node-b', random: seededRandom(99) });
  const s1 = victim.receive(recorded.hello);
  t.ok(s1.send, 'opening a replayed hello proves nothing yet: the server answers');
  const s3 = victim.receive(recorded.response!);
  t.equal(errorOf(s3), 'auth', 'the recorded response does not cover the fresh server nonce');
  t.equal(victim.phase, 'failed');
});

t.test('failure: tampered proofs (by a key holder re-sealing) and bit flips', async (t) => {
  // A server proof altered and re-sealed with the right key: only the HMAC check stops it.
  {
    const { client, server } = sides([keyA], [keyA]);
    const hello = client.start();
    const challenge = server.receive(hello).send!;
    const opened = openWithKey(keyA, 'prod', challenge);
    const m = opened.ok ? codec.decode(opened.plaintext) : undefined;
    if (!m?.ok || !isMessage(m, HandshakeChallenge)) throw new Error('setup');
    const proof = Uint8Array.from(m.body.proof);
    proof[0]! ^= 1;
    const forged = sealWithKey(keyA, 'prod', codec.encode(HandshakeChallenge, { ...m.body, proof }), seededRandom(5));
    const step = client.receive(forged);
    t.equal(errorOf(step), 'auth');
    t.match(step.error?.reason, /server proof/);
  }
  {
    const { client, server } = sides([keyA], [keyA]);
    const challenge = server.receive(client.start()).send!;
    const response = client.receive(challenge).send!;
    const opened = openWithKey(keyA, 'prod', response);
    const m = opened.ok ? codec.decode(opened.plaintext) : undefined;
    if (!m?.ok || !isMessage(m, HandshakeResponse)) throw new Error('setup');
    const proof = Uint8Array.from(m.body.proof);
    proof[31]! ^= 0x80;
    const step = server.receive(sealWithKey(keyA, 'prod', codec.encode(HandshakeResponse, { proof }), seededRandom(6)));
    t.equal(errorOf(step), 'auth');
    t.match(step.error?.reason, /client proof/);
  }
  {
    const { client, server } = sides([keyA], [keyA]);
    const challenge = server.receive(client.start()).send!;
    const flipped = Uint8Array.from(challenge);
    flipped[flipped.length - 20]! ^= 4;
    t.equal(errorOf(client.receive(flipped)), 'auth', 'a bit flip in flight fails authentication');
  }
});

t.test('failure: wrong protocol version, unexpected message types', async (t) => {
  const random = seededRandom(7);
  const helloV2 = sealWithKey(keyA, 'prod', codec.encode(HandshakeHello, { v: 2, cluster: 'prod', node: 'x', nonce: random.bytes(32) }), random);
  const { server } = sides([keyA], [keyA]);
  t.equal(errorOf(server.receive(helloV2)), 'version');
  const response = sealWithKey(keyA, 'prod', codec.encode(HandshakeResponse, { proof: random.bytes(32) }), random);
  t.equal(errorOf(sides([keyA], [keyA]).server.receive(response)), 'unexpected', 'a response instead of a hello');
  const { client } = sides([keyA], [keyA]);
  client.start();
  const helloToClient = sealWithKey(keyA, 'prod', codec.encode(HandshakeHello, { v: 1, cluster: 'prod', node: 'x', nonce: random.bytes(32) }), random);
  t.equal(errorOf(client.receive(helloToClient)), 'unexpected', 'a hello reflected to the client');
  const early = sides([keyA], [keyA]).client;
  t.equal(errorOf(early.receive(helloToClient)), 'unexpected', 'a frame before start');
  const twice = sides([keyA], [keyA]).client;
  twice.start();
  t.throws(() => twice.start(), ProtocolUsageError);
  t.throws(() => clientHandshake({ keyring: new Keyring([keyA]), cluster: 'bad name!', node: 'n', random }), ProtocolUsageError);
  t.throws(() => serverHandshake({ keyring: new Keyring([keyA]), cluster: 'prod', node: '', random }), ProtocolUsageError);
});

t.test('failure: garbage at each step never throws', async (t) => {
  const random = seededRandom(8);
  const garbage = () => random.bytes(random.int(120));
  let rejected = 0;
  for (let i = 0; i < 200; i++) {
    const a = sides([keyA], [keyA], { random: random.fork() });
    t.doesNotThrow(() => (errorOf(a.server.receive(garbage())) ? rejected++ : 0));
    const b = sides([keyA], [keyA], { random: random.fork() });
    b.server.receive(b.client.start());
    t.doesNotThrow(() => (errorOf(b.client.receive(garbage())) ? rejected++ : 0));
    const c = sides([keyA], [keyA], { random: random.fork() });
    c.client.receive(c.server.receive(c.client.start()).send!);
    t.doesNotThrow(() => (errorOf(c.server.receive(garbage())) ? rejected++ : 0));
    t.equal(c.server.stats.accepted + c.server.stats.rejected, 2);
  }
  t.equal(rejected, 600, 'every garbage frame is rejected');
});
