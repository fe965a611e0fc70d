// Key → partition: the encoding and hash are pinned by vectors (computed independently with
// Python's hashlib); the top-bits rule nests across partition counts; bad keys are refused.
import t from 'tap';
import fc from 'fast-check';
import { InvalidKeyError, bucketBytesMax, keyBytesMax, keyDigest, keyPartition, partitionOf, partitionOfDigest } from '@shoal/ring';
import { fcOptions } from './helpers.js';

// [bucket, key, SHA-1 of the length-prefixed encoding, partition at P=64, at P=4096]
const vectors: [string, string, string, number, number][] = [
  ['vms', 'vm-1', 'fc65ad8c1b375e6a80782ae0c67125513d02ae15', 63, 4038],
  ['vms', '0b8a6f5e-3c1d-4e2a-9f00-7d1e2c3b4a59', 'bd29e1f1430b176605319648908ef7d55b6d3081', 47, 3026],
  ['ipranges', '10.0.0.0/24#3', '019c94319bf8184c533ea58e1d78a438738760b1', 0, 25],
  ['', '', '05fe405753166f125559e7c9ac558654f107c7e9', 1, 95],
  ['users', 'ünïcødé', 'ec2e5f0e94e8f75ca31b19f93c208b96762587e8', 59, 3778],
  ['a', 'bc', 'cfc35fa12c3d918b8cbef8670f796208b1ff8e6a', 51, 3324],
  ['ab', 'c', '79630bf9bddc2846fd17f93e7cfb9948bf3fb6b2', 30, 1942],
];

t.test('test vectors pin the encoding, the hash and the top-bits rule', async (t) => {
  for (const [bucket, key, digest, p64, p4096] of vectors) {
    t.equal(keyDigest(bucket, key).toString('hex'), digest, `digest of (${JSON.stringify(bucket)}, ${JSON.stringify(key)})`);
    t.equal(partitionOf(64, bucket, key), p64, 'partition at P=64');
    t.equal(partitionOf(4096, bucket, key), p4096, 'partition at P=4096');
    t.equal(keyPartition({ partitionCount: 64 }, bucket, key), p64, 'keyPartition agrees');
  }
  t.not(partitionOf(4096, 'a', 'bc'), partitionOf(4096, 'ab', 'c'), 'the length prefix keeps (a, bc) and (ab, c) apart');
});

t.test('P = 1 and P = 2^31 edge of the shift', async (t) => {
  const digest = Buffer.from('ffffffff00', 'hex');
  t.equal(partitionOfDigest(digest, 1), 0, 'one partition: always 0 (x >>> 32 would be x)');
  t.equal(partitionOfDigest(digest, 2), 1);
  t.equal(partitionOfDigest(digest, 4096), 4095);
  t.equal(partitionOfDigest(Buffer.alloc(20), 4096), 0);
});

t.test('a partition under P is the partition under 2P shifted right (clean splits)', async (t) => {
  fc.assert(
    fc.property(fc.string(), fc.string(), fc.integer({ min: 0, max: 11 }), (bucket, key, bits) => {
      const P = 2 ** bits;
      return partitionOf(P * 2, bucket, key) >>> 1 === partitionOf(P, bucket, key);
    }),
    fcOptions(500),
  );
  t.pass('holds');
});

t.test('keys spread evenly over partitions', async (t) => {
  const P = 64;
  const counts = new Array<number>(P).fill(0);
  const keysCount = 64_000;
  for (let i = 0; i < keysCount; i++) counts[partitionOf(P, 'vms', `vm-${i}`)]! += 1;
  const max = Math.max(...counts);
  const min = Math.min(...counts);
  t.comment(`64,000 keys over 64 partitions: min ${min}, max ${max} (mean 1000)`);
  t.ok(max < 1150 && min > 850, 'every partition within ±15 % of the mean (±4.7 σ)');
});

t.test('invalid keys are refused with InvalidKeyError', async (t) => {
  t.throws(() => partitionOf(64, 'vms', '\ud800'), InvalidKeyError, 'lone surrogate in the key');
  t.throws(() => partitionOf(64, '\udc00x', 'k'), InvalidKeyError, 'lone surrogate in the bucket');
  t.throws(() => partitionOf(64, 'b'.repeat(bucketBytesMax + 1), 'k'), InvalidKeyError, 'bucket too long');
  t.throws(() => partitionOf(64, 'b', 'é'.repeat(keyBytesMax / 2 + 1)), /bytes, more than/, 'key too long in bytes, not characters');
  t.doesNotThrow(() => partitionOf(64, 'b'.repeat(bucketBytesMax), 'k'.repeat(keyBytesMax)), 'limits are inclusive');
  t.doesNotThrow(() => partitionOf(64, 'vms', '\ud83d\ude00'), 'a surrogate pair is fine');
});
