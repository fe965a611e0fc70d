// Sealed packets: round trip, rotation, and every way a packet can be wrong (key, cluster name,
// bit flips, truncation, version, size).
import t from 'tap';
import { seededRandom } from '@shoal/runtime';
import { Keyring, generateKey, seal, open, openWithKey, sealOverheadBytes, DecodeStats } from '@shoal/wire';

const random = seededRandom(2);
const oldKey = generateKey(random);
const newKey = generateKey(random);
const strangerKey = generateKey(random);
const plaintext = Buffer.from('hello, cluster');

t.test('round trip', async (t) => {
  const ring = new Keyring([oldKey]);
  const sealed = seal(ring, 'prod', plaintext, random);
  t.equal(sealed.length, plaintext.length + sealOverheadBytes);
  t.equal(sealed[0], 1, 'version byte');
  const r = open(ring, 'prod', sealed);
  t.same(r.ok && Buffer.from(r.plaintext), plaintext);
  t.equal(r.ok && r.keyIndex, 0);
  t.same(open(ring, 'prod', seal(ring, 'prod', new Uint8Array(0), random)).ok, true, 'empty plaintext');
  t.notSame(seal(ring, 'prod', plaintext, random), seal(ring, 'prod', plaintext, random), 'fresh nonce each time');
});

t.test('rotation: old key still opens until removed', async (t) => {
  const sender = new Keyring([oldKey]);
  const receiver = new Keyring([oldKey]);
  receiver.add(newKey);
  receiver.use(newKey);
  const sealedOld = seal(sender, 'prod', plaintext, random);
  const r = open(receiver, 'prod', sealedOld);
  t.equal(r.ok && r.keyIndex, 1, 'opened by the second key after trying the primary');
  receiver.remove(oldKey);
  t.equal(open(receiver, 'prod', sealedOld).ok, false, 'after removal the old key no longer opens');
  const sealedNew = seal(receiver, 'prod', plaintext, random);
  t.equal(open(new Keyring([oldKey]), 'prod', sealedNew).ok, false);
});

t.test('rejections: wrong key, wrong cluster, tampered, truncated, oversized', async (t) => {
  const ring = new Keyring([oldKey]);
  const stats = new DecodeStats();
  const sealed = seal(ring, 'prod', plaintext, random);
  const expect = (bytes: Uint8Array, category: string, what: string, keyring = ring, cluster = 'prod') => {
    const r = open(keyring, cluster, bytes, { stats, bytesMax: 1000 });
    t.equal(r.ok === false && r.category, category, `${what}: ${r.ok ? 'accepted' : r.reason}`);
  };
  expect(sealed, 'auth', 'wrong key', new Keyring([strangerKey]));
  expect(sealed, 'auth', 'wrong cluster name', ring, 'staging');
  for (let i = 0; i < sealed.length; i++) {
    const tampered = Uint8Array.from(sealed);
    tampered[i]! ^= 0x01;
    const r = open(ring, 'prod', tampered, { stats });
    t.equal(r.ok, false, `bit flip at byte ${i} is rejected`);
  }
  for (let n = 0; n < sealed.length; n++) expect(sealed.subarray(0, n), n < sealOverheadBytes ? 'truncated' : 'auth', `truncated to ${n}`);
  expect(Buffer.concat([sealed, Buffer.of(0)]), 'auth', 'extended by a byte');
  const v2 = Uint8Array.from(sealed);
  v2[0] = 2;
  expect(v2, 'version', 'unknown version');
  expect(new Uint8Array(1001), 'frame-too-large', 'over bytesMax');
  expect('x' as unknown as Uint8Array, 'bad-frame', 'not bytes');
  t.equal(stats.accepted, 0);
  t.equal(Object.values(stats.byCategory).reduce((a, b) => a + b, 0), stats.rejected);
  t.equal(openWithKey(oldKey, 'prod', sealed).ok, true);
  t.equal(openWithKey(newKey, 'prod', sealed).ok, false);
});
