/**
 * Named errors of @shoal/crdt, and the result type of every decoder.
 *
 * Two kinds of failure (STYLE.md, habit 5):
 * - an operation asked of a CRDT that it must refuse (a value that breaks a limit, a field that
 *   is not in the schema, an update to a deleted record) throws one of the named errors below;
 *   nothing has changed, because every function here is pure;
 * - bytes or decoded values from storage or a peer never throw: `fromWire`, `decodeRecord` and
 *   the metadata functions answer with a `WireResult` / `MetadataResult` carrying a named error
 *   as a value, whose message is one sentence naming the place (`fields.tags[3]: …`).
 */

/** An operation would take a CRDT past one of the limits in limits.ts. */
export class CrdtLimitError extends Error {
  override name = 'CrdtLimitError';
}

/** A value, element, key, node id or clock reading handed to an operation is not acceptable. */
export class CrdtValueError extends Error {
  override name = 'CrdtValueError';
}

/** A schema is malformed, or an update or a merge does not fit the schema it names. */
export class CrdtSchemaError extends Error {
  override name = 'CrdtSchemaError';
}

/** An update was asked of a record that has been deleted (delete is final: see record.ts). */
export class RecordDeletedError extends Error {
  override name = 'RecordDeletedError';
}

/** Why an encoding was refused. Returned inside a `WireResult`, never thrown at the caller. */
export class CrdtWireError extends Error {
  override name = 'CrdtWireError';
  constructor(
    /** Where in the encoding the problem is, e.g. `fields.tags.cc[1]`. */
    readonly path: string,
    /** What is wrong there, e.g. `dot n1:7 is not in the causal context`. */
    readonly reason: string,
  ) {
    super(path === '' ? reason : `${path}: ${reason}`);
  }
}

/** The answer of a decoder: the decoded value, or why the input was refused. */
export type WireResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: CrdtWireError };
