/**
 * Coverage filters: a small, serializable predicate language that runs inside the vnode, so a
 * list returns only what matches without shipping the rest (riak_kv's MapReduce key filters,
 * reduced to what listing needs).
 *
 *   { op: 'eq', field, value }        the field equals value (or, for a set/list, contains it)
 *   { op: 'prefix', field, value }    the field is a string starting with value
 *   { op: 'exists', field }           the field is present (not undefined, not an empty list)
 *   { op: 'and' | 'or', of: [f, …] }  { op: 'not', of: f }
 *   { op: 'permit', hook, arg }       a named hook registered by the node (permissions, later):
 *                                     (arg, key, value) → boolean
 *
 * `field` is a dotted path into the record's plain value (`toPlain`), or `$key` for the key.
 * A filter is data from a client: `parseFilter` validates it once (known operators, field
 * paths, value sizes, at most `filterNodesMax` nodes and `filterDepthMax` levels) and answers
 * with a reason instead of throwing; `matches` then never throws. A hook that is not
 * registered on a node matches nothing there (deny by default), and the coordinator checks the
 * name before asking anyone.
 */
import { plainEquals, valueProblem, type Plain } from '@shoal/crdt';
import { filterDepthMax, filterNodesMax } from './limits.js';

export type Filter =
  | { readonly op: 'eq'; readonly field: string; readonly value: Plain }
  | { readonly op: 'prefix'; readonly field: string; readonly value: string }
  | { readonly op: 'exists'; readonly field: string }
  | { readonly op: 'and' | 'or'; readonly of: readonly Filter[] }
  | { readonly op: 'not'; readonly of: Filter }
  | { readonly op: 'permit'; readonly hook: string; readonly arg: Plain };

export type PermitHook = (arg: Plain, key: string, value: Plain) => boolean;
export type PermitHooks = ReadonlyMap<string, PermitHook>;

export type FilterResult = { readonly ok: true; readonly filter: Filter | undefined } | { readonly ok: false; readonly reason: string };

const fieldPattern = /^(\$key|[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7})$/;
const hookPattern = /^[a-z][a-z0-9-]{0,31}$/;

interface Budget {
  nodes: number;
}

const operators = 'eq, prefix, exists, and, or, not, permit';
const example = '{"op":"eq","field":"state","value":"running"}';

/**
 * Why an operator object without an "op" is not one. An empty filter `{}` is refused rather
 * than taken as "match everything": the language has no such operator (`and` of nothing is
 * refused too), and leaving the filter out already lists everything — an explicit filter that
 * filters nothing is more likely a client's mistake (a filter built from an empty form), as the
 * gateway judges `filter=null`.
 */
function missingOp(f: Record<string, unknown>, depth: number): string {
  const keys = Object.keys(f);
  if (keys.length === 0 && depth === 1) return `the filter is empty ({}): a filter is an operator object such as ${example} (operators: ${operators}); to list everything, leave the filter out`;
  const shown = keys.slice(0, 4).map((k) => JSON.stringify(k.slice(0, 32)));
  const got = keys.length === 0 ? 'an empty object {}' : `an object with ${shown.join(', ')}${keys.length > 4 ? ', …' : ''} but no "op"`;
  return `each filter operator needs an "op" (one of ${operators}), as in ${example}; got ${got}`;
}

function parseNode(x: unknown, depth: number, budget: Budget): Filter | string {
  if (++budget.nodes > filterNodesMax) return `a filter may hold at most ${filterNodesMax} operators`;
  if (depth > filterDepthMax) return `a filter may nest at most ${filterDepthMax} levels`;
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'each filter operator is an object with an "op"';
  const f = x as Record<string, unknown>;
  if (!Object.hasOwn(f, 'op')) return missingOp(f, depth);
  const field = f['field'];
  const fieldOk = typeof field === 'string' && fieldPattern.test(field);
  switch (f['op']) {
    case 'eq': {
      if (!fieldOk) return 'eq needs a field: a dotted path of names, or $key';
      const problem = valueProblem(f['value'], 'plain');
      return problem === undefined ? { op: 'eq', field: field as string, value: f['value'] as Plain } : `eq value: ${problem}`;
    }
    case 'prefix':
      if (!fieldOk) return 'prefix needs a field: a dotted path of names, or $key';
      if (typeof f['value'] !== 'string' || valueProblem(f['value'], 'string') !== undefined) return 'prefix needs a string value';
      return { op: 'prefix', field: field as string, value: f['value'] };
    case 'exists':
      return fieldOk ? { op: 'exists', field: field as string } : 'exists needs a field: a dotted path of names, or $key';
    case 'and':
    case 'or': {
      const of = f['of'];
      if (!Array.isArray(of) || of.length === 0) return `${f['op']} needs a non-empty list "of" filters`;
      const parts: Filter[] = [];
      for (const item of of) {
        const p = parseNode(item, depth + 1, budget);
        if (typeof p === 'string') return p;
        parts.push(p);
      }
      return { op: f['op'], of: parts };
    }
    case 'not': {
      const p = parseNode(f['of'], depth + 1, budget);
      return typeof p === 'string' ? p : { op: 'not', of: p };
    }
    case 'permit': {
      const hook = f['hook'];
      if (typeof hook !== 'string' || !hookPattern.test(hook)) return 'permit needs a hook name (lowercase letters, digits and dashes)';
      const problem = valueProblem(f['arg'] ?? null, 'plain');
      return problem === undefined ? { op: 'permit', hook, arg: (f['arg'] ?? null) as Plain } : `permit arg: ${problem}`;
    }
    default:
      return `unknown filter operator ${JSON.stringify(f['op'])?.slice(0, 60) ?? String(f['op'])}: use ${operators}`;
  }
}

/** Validates a client's filter (undefined or null: no filter). */
export function parseFilter(x: unknown): FilterResult {
  if (x === undefined || x === null) return { ok: true, filter: undefined };
  const f = parseNode(x, 1, { nodes: 0 });
  return typeof f === 'string' ? { ok: false, reason: f } : { ok: true, filter: f };
}

/** The hook names a filter uses (the coordinator checks they exist). */
export function filterHooks(f: Filter | undefined): string[] {
  if (f === undefined) return [];
  switch (f.op) {
    case 'and':
    case 'or':
      return f.of.flatMap(filterHooks);
    case 'not':
      return filterHooks(f.of);
    case 'permit':
      return [f.hook];
    default:
      return [];
  }
}

function lookup(value: Plain, key: string, field: string): Plain | undefined {
  if (field === '$key') return key;
  let cur: Plain | undefined = value;
  for (const part of field.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = Object.hasOwn(cur, part) ? (cur as Record<string, Plain>)[part] : undefined;
  }
  return cur;
}

/** Whether the record `value` stored under `key` matches `f`. Never throws. */
export function matches(f: Filter | undefined, key: string, value: Plain, hooks: PermitHooks = new Map()): boolean {
  if (f === undefined) return true;
  switch (f.op) {
    case 'eq': {
      const v = lookup(value, key, f.field);
      if (v === undefined) return false;
      return plainEquals(v, f.value) || (Array.isArray(v) && v.some((e: Plain) => plainEquals(e, f.value)));
    }
    case 'prefix': {
      const v = lookup(value, key, f.field);
      return typeof v === 'string' && v.startsWith(f.value);
    }
    case 'exists': {
      const v = lookup(value, key, f.field);
      return v !== undefined && !(Array.isArray(v) && v.length === 0);
    }
    case 'and':
      return f.of.every((g) => matches(g, key, value, hooks));
    case 'or':
      return f.of.some((g) => matches(g, key, value, hooks));
    case 'not':
      return !matches(f.of, key, value, hooks);
    case 'permit': {
      const hook = hooks.get(f.hook);
      if (hook === undefined) return false;
      try {
        return hook(f.arg, key, value) === true;
      } catch {
        return false; // a failing hook denies (deny by default)
      }
    }
  }
}
