// Keyring: rotation (add, use, remove), its invariants, and the key file format with errors
// that name the line.
import t from 'tap';
import { seededRandom } from '@shoal/runtime';
import { Keyring, KeyringError, parseKeyringFile, formatKeyringFile, formatKey, generateKey } from '@shoal/wire';

const random = seededRandom(1);
const k1 = generateKey(random);
const k2 = generateKey(random);
const k3 = generateKey(random);

t.test('primary encrypts, add/use/remove rotate', async (t) => {
  const ring = new Keyring([k1]);
  t.same(ring.primary, k1);
  ring.add(k2);
  ring.add(k2);
  t.equal(ring.size, 2, 'adding a present key does nothing');
  t.same(ring.primary, k1, 'add does not change the primary');
  ring.use(k2);
  t.same(ring.primary, k2);
  t.same(ring.list(), [k2, k1], 'primary first');
  t.throws(() => ring.remove(k2), { name: 'KeyringError', message: /refusing to remove the primary/ });
  ring.remove(k1);
  t.same(ring.list(), [k2]);
  t.throws(() => ring.remove(k3), KeyringError);
  t.throws(() => ring.use(k3), /not in the keyring/);
  t.throws(() => ring.add(new Uint8Array(16)), /32 bytes/);
  t.throws(() => new Keyring([]), KeyringError);
  t.throws(() => new Keyring([k1, Uint8Array.from(k1)]), /twice/);
});

t.test('keys are copied in and out', async (t) => {
  const mine = Uint8Array.from(k1);
  const ring = new Keyring([mine]);
  mine.fill(0);
  t.same(ring.primary, k1, 'changing the caller array does not change the ring');
  ring.list()[0]!.fill(0);
  ring.primary.fill(0);
  t.same(ring.primary, k1, 'changing a returned key does not change the ring');
});

t.test('keyring file: parse and format', async (t) => {
  const text = `# cluster keys\n\n  ${formatKey(k2)}  \n# old key, remove after rotation\n${formatKey(k1)}\r\n\n`;
  const ring = parseKeyringFile(text);
  t.same(ring.list(), [k2, k1], 'first key is primary; comments, blank lines, CRLF, spaces ignored');
  t.same(parseKeyringFile(formatKeyringFile(ring)).list(), ring.list(), 'format round-trips');
});

t.test('keyring file: errors name the line', async (t) => {
  const good = formatKey(k1);
  t.throws(() => parseKeyringFile(''), { message: 'keyring file holds no keys' });
  t.throws(() => parseKeyringFile('# only a comment\n'), /no keys/);
  t.throws(() => parseKeyringFile(`${good}\nnot base64!\n`), { message: 'keyring line 2: not a base64 key' });
  t.throws(() => parseKeyringFile(`\n\n${Buffer.alloc(16).toString('base64')}`), { message: 'keyring line 3: key is 16 bytes, expected 32' });
  t.throws(() => parseKeyringFile(`${good}\n${good}`), { message: 'keyring line 2: duplicate key' });
  t.throws(() => parseKeyringFile(good.slice(0, -1)), /line 1: not a base64 key/, 'missing padding');
  t.throws(() => parseKeyringFile(Buffer.alloc(33).toString('base64')), /33 bytes/);
  t.throws(() => parseKeyringFile(good.replace(/\+|\//g, '-')), /line 1/, 'base64url is not accepted');
});
