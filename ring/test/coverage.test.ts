// Coverage: the filter language (validation, semantics, hooks deny by default) and the page merge
// (paging through any split of keys over vnodes, any scan budget, yields every matching key
// exactly once and in order; tokens are checked).
import t from 'tap';
import fc from 'fast-check';
import { InvalidContinuationError, type MergedPage, compareUtf8, decodeContinuation, encodeContinuation, filterHooks, matches, mergePages, parseFilter, type Filter, type VnodePage } from '@shoal/ring';
import { fcOptions } from './helpers.js';

t.test('filters: validation answers with a reason, never a throw', async (t) => {
  const ok = [
    { op: 'eq', field: 'name', value: 'web' },
    { op: 'prefix', field: '$key', value: 'vm-' },
    { op: 'exists', field: 'a.b.c' },
    { op: 'and', of: [{ op: 'eq', field: 'x', value: 1 }, { op: 'not', of: { op: 'exists', field: 'y' } }] },
    { op: 'permit', hook: 'owner', arg: { user: 'u1' } },
  ];
  for (const f of ok) t.ok(parseFilter(f).ok, JSON.stringify(f));
  t.same(parseFilter(undefined), { ok: true, filter: undefined });
  const bad: [unknown, RegExp][] = [
    [{ op: 'regex', field: 'a', value: '.*' }, /unknown filter operator/],
    [{ op: 'eq', field: 'a..b', value: 1 }, /field/],
    [{ op: 'eq', field: 'a', value: () => 1 }, /eq value/],
    [{ op: 'prefix', field: 'a', value: 3 }, /string value/],
    [{ op: 'and', of: [] }, /non-empty/],
    [{ op: 'permit', hook: 'Bad Hook' }, /hook name/],
    ['eq', /object/],
    [{ op: 'or', of: Array.from({ length: 40 }, () => ({ op: 'exists', field: 'a' })) }, /at most 32/],
    // An empty filter is not "match everything" (leaving the filter out is): the reason says what
    // is wrong and what a filter looks like. (It was "unknown filter operator undefined".)
    [{}, /^the filter is empty \(\{\}\): a filter is an operator object such as \{"op":"eq","field":"state","value":"running"\} \(operators: eq, prefix, exists, and, or, not, permit\); to list everything, leave the filter out$/],
    [{ op: 'not', of: {} }, /^each filter operator needs an "op" \(one of eq, prefix, exists, and, or, not, permit\), as in \{"op":"eq".*\}; got an empty object \{\}$/],
    [{ field: 'state', value: 'running' }, /needs an "op" .*; got an object with "field", "value" but no "op"$/],
    [{ op: undefined }, /unknown filter operator undefined/],
  ];
  for (const [f, re] of bad) {
    const r = parseFilter(f);
    t.notOk(r.ok);
    if (!r.ok) t.match(r.reason, re);
  }
  let deep: unknown = { op: 'exists', field: 'a' };
  for (let i = 0; i < 8; i++) deep = { op: 'not', of: deep };
  t.match(parseFilter(deep), { ok: false, reason: /nest at most/ });
});

t.test('filters: semantics', async (t) => {
  const doc = { name: 'web-1', tags: ['prod', 'eu'], owner: { id: 'u1' }, n: 3, empty: [] };
  const f = (x: unknown): Filter => {
    const r = parseFilter(x);
    if (!r.ok || !r.filter) throw new Error('bad filter');
    return r.filter;
  };
  t.ok(matches(f({ op: 'eq', field: 'name', value: 'web-1' }), 'k', doc));
  t.ok(matches(f({ op: 'eq', field: 'tags', value: 'eu' }), 'k', doc), 'eq on a list means contains');
  t.ok(matches(f({ op: 'eq', field: 'owner.id', value: 'u1' }), 'k', doc), 'dotted paths');
  t.notOk(matches(f({ op: 'eq', field: 'n', value: '3' }), 'k', doc), 'no coercion');
  t.ok(matches(f({ op: 'prefix', field: '$key', value: 'vm-' }), 'vm-7', doc));
  t.notOk(matches(f({ op: 'prefix', field: 'n', value: '3' }), 'k', doc), 'prefix needs a string field');
  t.ok(matches(f({ op: 'exists', field: 'owner' }), 'k', doc));
  t.notOk(matches(f({ op: 'exists', field: 'empty' }), 'k', doc), 'an empty list does not exist');
  t.notOk(matches(f({ op: 'exists', field: 'toString' }), 'k', doc), 'no prototype lookups');
  t.ok(matches(f({ op: 'or', of: [{ op: 'exists', field: 'zz' }, { op: 'not', of: { op: 'exists', field: 'yy' } }] }), 'k', doc));
  const permit = f({ op: 'permit', hook: 'owner', arg: 'u1' });
  t.same(filterHooks(f({ op: 'and', of: [permit, { op: 'not', of: permit }] })), ['owner', 'owner']);
  t.notOk(matches(permit, 'k', doc), 'a hook that is not registered denies');
  const hooks = new Map([['owner', (arg: unknown, _k: string, v: unknown) => (v as typeof doc).owner.id === arg]]);
  t.ok(matches(permit, 'k', doc, hooks));
  t.notOk(matches(permit, 'k', doc, new Map([['owner', () => { throw new Error('boom'); }]])), 'a throwing hook denies');
});

/** A vnode's answer to one page request over its sorted keys. */
function vnodePage(keys: readonly string[], after: string | null, limit: number, scanMax: number, keep: (k: string) => boolean): VnodePage<string> {
  const items: { key: string; value: string }[] = [];
  let scanned = 0;
  for (const k of keys) {
    if (after !== null && compareUtf8(k, after) <= 0) continue;
    scanned++;
    if (keep(k)) items.push({ key: k, value: k.toUpperCase() });
    if (items.length >= limit || scanned >= scanMax) return { items, scannedTo: k };
  }
  return { items, scannedTo: null };
}

t.test('paging through merged vnode pages yields every matching key once, in order', async (t) => {
  const scenario = fc.record({
    keys: fc.uniqueArray(fc.string({ unit: fc.constantFrom('a', 'b', 'é', '😀', 'z', '0'), minLength: 1, maxLength: 4 }), { maxLength: 80 }),
    vnodes: fc.integer({ min: 1, max: 6 }),
    limit: fc.integer({ min: 1, max: 7 }),
    scanMax: fc.integer({ min: 1, max: 9 }),
    modulo: fc.integer({ min: 1, max: 3 }),
    duplicate: fc.boolean(),
  });
  fc.assert(
    fc.property(scenario, ({ keys, vnodes, limit, scanMax, modulo, duplicate }) => {
      const sorted = [...keys].sort(compareUtf8);
      const parts = Array.from({ length: vnodes }, (_, i) => sorted.filter((_, j) => j % vnodes === i));
      if (duplicate && parts.length > 1) parts.push(parts[0]!); // one partition answered twice
      const keep = (k: string): boolean => k.length % modulo === 0;
      const out: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 1000; pages++) {
        const at: string | null = after;
        const page: MergedPage<string> = mergePages(parts.map((p) => vnodePage(p, at, limit, scanMax, keep)), limit, (a, b) => (a === b ? a : 'CONFLICT'));
        if (page.items.length > limit) return false;
        if (page.items.some((i) => i.value === 'CONFLICT')) return false;
        out.push(...page.items.map((i) => i.key));
        if (page.after === undefined) break;
        if (at !== null && compareUtf8(page.after, at) <= 0) return false; // always progresses
        after = page.after;
      }
      return JSON.stringify(out) === JSON.stringify(sorted.filter(keep));
    }),
    fcOptions(400),
  );
  t.pass('holds');
});

t.test('continuation tokens', async (t) => {
  const token = encodeContinuation('vms', 'vm-7');
  t.equal(decodeContinuation('vms', token), 'vm-7');
  t.throws(() => decodeContinuation('users', token), InvalidContinuationError, 'another bucket');
  t.throws(() => decodeContinuation('vms', 'not-a-token'), InvalidContinuationError);
  t.throws(() => decodeContinuation('vms', ''), InvalidContinuationError);
  t.throws(() => decodeContinuation('vms', 'x'.repeat(5000)), InvalidContinuationError);
  t.ok(compareUtf8('\uffff', '😀') < 0 && '\uffff' > '😀', 'UTF-8 order, not UTF-16 code units');
});
