// Session cipher: round trip per direction, strict counters (replay, reorder, drop), tampering,
// truncation, cluster name as AAD, frame size bound.
import t from 'tap';
import { seededRandom } from '@shoal/runtime';
import { Session, deriveSessionKeys, generateKey, sessionOverheadBytes, EncodeError } from '@shoal/wire';

function pair(cluster = 'prod', frameBytesMax?: number) {
  const random = seededRandom(3);
  const key = generateKey(random);
  const cn = random.bytes(32);
  const sn = random.bytes(32);
  const options = frameBytesMax === undefined ? {} : { frameBytesMax };
  return {
    client: new Session(deriveSessionKeys(key, cn, sn, 'client'), cluster, options),
    server: new Session(deriveSessionKeys(key, cn, sn, 'server'), cluster, options),
  };
}

const text = (b: Uint8Array) => Buffer.from(b).toString();

t.test('round trip both ways, counters advance', async (t) => {
  const { client, server } = pair();
  for (let i = 0; i < 5; i++) {
    const f = client.seal(Buffer.from(`c${i}`));
    t.equal(f.length, 2 + sessionOverheadBytes);
    const r = server.open(f);
    t.equal(r.ok && text(r.plaintext), `c${i}`);
    const g = server.seal(Buffer.from(`s${i}`));
    const q = client.open(g);
    t.equal(q.ok && text(q.plaintext), `s${i}`);
  }
  t.equal(client.sent, 5);
  t.equal(server.received, 5);
  t.equal(server.stats.accepted, 5);
});

t.test('directions use different keys: a frame cannot be reflected', async (t) => {
  const { client } = pair();
  const f = client.seal(Buffer.from('x'));
  const r = client.open(f);
  t.equal(r.ok === false && r.category, 'auth');
});

t.test('replayed, reordered and dropped frames are rejected (counter)', async (t) => {
  const { client, server } = pair();
  const f0 = client.seal(Buffer.from('0'));
  const f1 = client.seal(Buffer.from('1'));
  const f2 = client.seal(Buffer.from('2'));
  const reorder = server.open(f1);
  t.equal(reorder.ok === false && reorder.category, 'counter', 'f1 before f0');
  t.equal(server.open(f0).ok, true);
  const replay = server.open(f0);
  t.equal(replay.ok === false && replay.category, 'counter', 'f0 again');
  t.equal(server.open(f1).ok, true);
  const f3 = client.seal(Buffer.from('3'));
  const drop = server.open(f3);
  t.equal(drop.ok === false && drop.category, 'counter', 'f2 dropped');
  t.equal(server.open(f2).ok, true, 'a rejection leaves the receiver where it was');
  const snap = server.stats.snapshot();
  t.equal(snap.accepted + snap.rejected, 6);
  t.equal(snap.byCategory.counter, 3);
});

t.test('tampering, truncation, wrong cluster and oversize are rejected', async (t) => {
  const { client, server } = pair();
  const f = client.seal(Buffer.from('payload'));
  for (let i = 0; i < f.length; i++) {
    const bad = Uint8Array.from(f);
    bad[i]! ^= 0x80;
    const r = server.open(bad);
    t.equal(r.ok === false && r.category, i < 8 ? 'counter' : 'auth', `flip at ${i}`);
  }
  for (let n = 0; n < f.length; n++) {
    const r = server.open(f.subarray(0, n));
    t.equal(r.ok === false && r.category, n < sessionOverheadBytes ? 'truncated' : 'auth', `truncated to ${n}`);
  }
  t.equal(server.open(f).ok, true, 'the untouched frame still opens');
  const small = pair('prod', 64);
  t.throws(() => small.client.seal(new Uint8Array(41)), EncodeError, 'the sender refuses an oversized frame');
  const big = Buffer.concat([small.client.seal(new Uint8Array(40)), Buffer.of(0)]);
  const r = small.server.open(big);
  t.equal(r.ok === false && r.category, 'frame-too-large');
  t.doesNotThrow(() => server.open(undefined as unknown as Uint8Array));
});

t.test('AAD: the cluster name is authenticated', async (t) => {
  const random = seededRandom(4);
  const key = generateKey(random);
  const cn = random.bytes(32);
  const sn = random.bytes(32);
  const sender = new Session(deriveSessionKeys(key, cn, sn, 'client'), 'prod');
  const receiver = new Session(deriveSessionKeys(key, cn, sn, 'server'), 'staging');
  const r = receiver.open(sender.seal(Buffer.from('x')));
  t.equal(r.ok === false && r.category, 'auth');
});
