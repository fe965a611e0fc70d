// Automerge metadata documents: set/get/delete at paths, merges of concurrent edits, limits,
// the ImmutableString rule, actor conflicts, and garbage bytes answered with a typed error.
import t from 'tap';
import fc from 'fast-check';
import * as A from '@automerge/automerge';
import { MetadataError, metadata, metadataLimits } from '@shoal/crdt/metadata';
import type { Json, MetadataResult } from '@shoal/crdt/metadata';

function ok<T>(r: MetadataResult<T>): T {
  if (!r.ok) throw r.error;
  return r.value;
}

t.test('set, get, delete', async (t) => {
  let doc = ok(metadata.setPath(undefined, ['owner', 'team'], 'infra', 'core-1'));
  doc = ok(metadata.setPath(doc, ['limits'], { cpu: 2, tags: ['a', 'b'], on: true, none: null }, 'core-1'));
  t.same(ok(metadata.get(doc, [])), { owner: { team: 'infra' }, limits: { cpu: 2, tags: ['a', 'b'], on: true, none: null } });
  t.equal(ok(metadata.get(doc, ['owner', 'team'])), 'infra');
  t.equal(ok(metadata.get(doc, ['owner', 'missing'])), undefined);
  t.equal(ok(metadata.get(doc, ['owner', 'team', 'deeper'])), undefined, 'walking into a scalar finds nothing');
  t.equal(ok(metadata.get(undefined, ['x'])), undefined, 'no document: nothing');
  doc = ok(metadata.setPath(doc, ['owner', 'team', 'lead'], 'ana', 'core-1'));
  t.same(ok(metadata.get(doc, ['owner'])), { team: { lead: 'ana' } }, 'a scalar in the way becomes a map');
  doc = ok(metadata.deletePath(doc, ['owner', 'team'], 'core-1'));
  t.same(ok(metadata.get(doc, ['owner'])), {});
  const same = ok(metadata.deletePath(doc, ['nope', 'nothing'], 'core-1'));
  t.equal(same, doc, 'deleting a missing path answers the same bytes');
  const loaded = A.load<Record<string, unknown>>(ok(metadata.setPath(doc, ['s'], 'text', 'core-1')));
  t.ok(A.isImmutableString(loaded['s']), 'strings are stored as ImmutableString, not collaborative text');
});

t.test('concurrent edits merge', async (t) => {
  const base = ok(metadata.setPath(undefined, ['a'], 1, 'core-0'));
  const x = ok(metadata.setPath(base, ['x', 'y'], 'from-1', 'core-1'));
  const z = ok(metadata.setPath(base, ['z'], 'from-2', 'core-2'));
  const xz = ok(metadata.merge(x, z));
  t.same(ok(metadata.get(xz, [])), { a: 1, x: { y: 'from-1' }, z: 'from-2' }, 'different paths: both');
  t.same(ok(metadata.get(ok(metadata.merge(z, x)), [])), ok(metadata.get(xz, [])), 'either order');
  const p = ok(metadata.setPath(base, ['a'], 'one', 'core-1'));
  const q = ok(metadata.setPath(base, ['a'], 'two', 'core-2'));
  const pq = ok(metadata.get(ok(metadata.merge(p, q)), ['a']));
  const qp = ok(metadata.get(ok(metadata.merge(q, p)), ['a']));
  t.equal(pq, qp, `same path: one deterministic winner (${String(pq)})`);
  t.ok(pq === 'one' || pq === 'two');
  const again = ok(metadata.merge(xz, x));
  t.same(ok(metadata.get(again, [])), ok(metadata.get(xz, [])), 'merging again changes nothing');
  const d1 = ok(metadata.deletePath(xz, ['z'], 'core-1'));
  const s2 = ok(metadata.setPath(xz, ['x', 'w'], 2, 'core-2'));
  t.same(ok(metadata.get(ok(metadata.merge(d1, s2)), [])), { a: 1, x: { y: 'from-1', w: 2 } }, 'delete and set on different paths');
});

t.test('one actor, two concurrent writers: conflict, as a value', async (t) => {
  const base = ok(metadata.setPath(undefined, ['a'], 1, 'core-0'));
  const p = ok(metadata.setPath(base, ['b'], 1, 'core-1'));
  const q = ok(metadata.setPath(base, ['c'], 1, 'core-1'));
  const r = metadata.merge(p, q);
  t.equal(r.ok, false);
  if (!r.ok) t.equal(r.error.code, 'conflict');
});

t.test('limits and refused input', async (t) => {
  const code = (r: MetadataResult<unknown>): string => (r.ok ? 'ok' : r.error.code);
  t.equal(code(metadata.setPath(undefined, [], 1, 'a')), 'path', 'empty path');
  t.equal(code(metadata.setPath(undefined, Array.from({ length: metadataLimits.pathDepthMax + 1 }, () => 'p'), 1, 'a')), 'path', 'too deep');
  t.equal(code(metadata.setPath(undefined, ['x'.repeat(metadataLimits.segmentBytesMax + 1)], 1, 'a')), 'path', 'segment too long');
  t.equal(code(metadata.setPath(undefined, ['__proto__'], 1, 'a')), 'path', '__proto__');
  t.equal(code(metadata.setPath(undefined, [''], 1, 'a')), 'path', 'empty segment');
  t.equal(code(metadata.setPath(undefined, ['a'], Number.NaN, 'a')), 'value', 'NaN');
  t.equal(code(metadata.setPath(undefined, ['a'], 'x'.repeat(5000), 'a')), 'value', 'string past stringBytesMax');
  t.equal(code(metadata.setPath(undefined, ['a'], new Date() as unknown as Json, 'a')), 'value', 'not JSON');
  t.equal(code(metadata.setPath(undefined, ['a'], 1, '')), 'actor', 'empty actor');
  t.equal(code(metadata.setPath(undefined, ['a'], 1, 'x'.repeat(33))), 'actor', 'actor too long');
  // Automerge compresses its columns: incompressible strings make the bound bite quickly.
  let x = 12345;
  const noise = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(48 + ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) % 75)).join('');
  let doc: Uint8Array | undefined;
  let last: MetadataResult<Uint8Array> = { ok: true, value: new Uint8Array() };
  for (let i = 0; i < 100 && last.ok; i++) {
    last = metadata.setPath(doc, [`k${i}`], noise(4000), 'core-1');
    if (last.ok) doc = last.value;
  }
  t.equal(code(last), 'too-large', 'a document stops growing at docBytesMax');
  t.ok(doc !== undefined && doc.length <= metadataLimits.docBytesMax, `last accepted document: ${doc?.length} bytes`);
  t.equal(code(metadata.get(new Uint8Array(metadataLimits.docBytesMax * 4 + 1), [])), 'too-large', 'oversized bytes are not loaded');
});

t.test('garbage bytes answer a typed error, never throw', async (t) => {
  for (const bad of [new Uint8Array([1, 2, 3]), new Uint8Array([0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0]), 'str' as unknown as Uint8Array]) {
    const r = metadata.get(bad, []);
    t.equal(r.ok, false);
    if (!r.ok) {
      t.ok(r.error instanceof MetadataError);
      t.equal(r.error.code, 'malformed');
    }
  }
  const good = ok(metadata.setPath(undefined, ['a'], { b: [1, 'c'] }, 'core-1'));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.nat(255), (junk, at, byte) => {
      const mutated = Uint8Array.from(good);
      mutated[at % mutated.length] = byte;
      const results = [metadata.get(junk, []), metadata.get(mutated, ['a']), metadata.merge(good, junk), metadata.merge(mutated, good), metadata.setPath(mutated, ['x'], 1, 'core-2'), metadata.deletePath(junk, ['a'], 'core-2')];
      return results.every((r) => r.ok || r.error instanceof MetadataError);
    }),
    { numRuns: 300 },
  );
  t.pass('fuzzed bytes');
  const foreign = A.save(A.change(A.init<Record<string, unknown>>(), (d) => { d['when'] = new Date(0); }));
  const r = metadata.get(foreign, []);
  t.equal(r.ok ? 'ok' : r.error.code, 'malformed', 'a document holding non-JSON values');
  t.same(ok(metadata.get(ok(metadata.merge(good, good)), [])), { a: { b: [1, 'c'] } }, 'bytes round-trip through merge');
});
