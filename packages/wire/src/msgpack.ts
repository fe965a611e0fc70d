/**
 * The one msgpackr configuration Shoal puts on the wire.
 *
 * Decoding (`Unpackr`), safe only behind the scanner (scan.ts):
 * - `useRecords: false`, no `structures`/`getStructures`: msgpackr's record extension and
 *   shared structures stay off, so positive fixints are plain numbers and no decoder state
 *   survives between frames (a peer cannot teach us a structure);
 * - `mapsAsObjects: true`: maps become plain objects. msgpackr renames a `__proto__` key to
 *   `__proto_` (no prototype pollution, but a silent change), so the scanner rejects that key,
 *   `constructor` and `prototype` before msgpackr sees them;
 * - `int64AsType: 'number'`: exact because the scanner only lets safe integers through;
 * - `copyBuffers: true`: bins are copies, so a decoded message never aliases the frame buffer
 *   the transport may reuse;
 * - `sequential`, `bundleStrings`, `structuredClone`, `moreTypes` stay off.
 *
 * Encoding (`Packr`) mirrors it: no records, `skipValues: [undefined]` so an optional field set
 * to `undefined` is omitted (as in JSON) instead of written as msgpackr's undefined ext, which
 * our own decoder would reject. That path writes the smallest map header as well.
 *
 * Trap (DEPENDENCIES.md): `Packr.pack(value, options)` reads a second argument as flags, so
 * `values.map(packr.pack)` corrupts output. Only the one-argument wrappers below are exported.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Options } from 'msgpackr';

const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  copyBuffers: true,
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  sequential: false,
});

// `skipValues` exists in msgpackr 2.x but is missing from its type declarations.
const packOptions: Options & { skipValues: unknown[] } = {
  useRecords: false,
  mapsAsObjects: true,
  skipValues: [undefined],
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  sequential: false,
  useFloat32: 0,
};
const packr = new Packr(packOptions);

/**
 * The same without `skipValues`: msgpackr then writes each object with one `for…in` loop, where
 * `skipValues` costs a key array and a lookup per key (measured: 7–12 % of the actor
 * transport's sending CPU). Only for values that hold no `undefined` at all: one would be
 * written as msgpackr's undefined ext, which the scanner (and so the codec's check of its own
 * output) refuses. Maps are then always written with a 16-bit size (two bytes more per object).
 */
const { skipValues: _skipped, ...plainPackOptions } = packOptions;
const plainPackr = new Packr(plainPackOptions);

/** Encodes one value (throws what msgpackr throws: symbols, cycles, oversized bigints). */
export function packValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** `packValue` for a value with no `undefined` anywhere in it (see `plainPackr`). */
export function packPlainValue(value: unknown): Uint8Array {
  return plainPackr.pack(value);
}

/**
 * Decodes the value in [start, end) of `bytes`. Call only on a range the scanner accepted;
 * it may still throw (a msgpackr bug), so callers catch and count it as `malformed`.
 */
export function unpackRange(bytes: Uint8Array, start: number, end: number): unknown {
  return unpackr.unpack(bytes, { start, end }) as unknown;
}
