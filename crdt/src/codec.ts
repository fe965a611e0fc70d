/**
 * Bytes: msgpackr over the plain encodings that every `toWire` produces (arrays, strings,
 * numbers, booleans, null, plain objects inside register values).
 *
 * Configured as @shoal/wire configures it (see packages/wire/src/msgpack.ts): no records and no
 * shared structures (no decoder state a peer could teach us), maps as plain objects, 64-bit
 * integers as numbers, floats as float64, copies of binaries. `decodeWire` bounds the input
 * (`wireBytesMax`) and catches whatever msgpackr throws, so it never throws; the `fromWire`
 * that follows validates the shape. Bytes from a peer still go through @shoal/wire's scanner
 * first (it rejects hostile nesting and lengths before msgpackr allocates); this codec is for
 * bytes at rest that we wrote ourselves, and for measuring encoded sizes.
 *
 * Trap (DEPENDENCIES.md): `Packr.pack(value, options)` reads a second argument as flags, so
 * `values.map(packr.pack)` corrupts output; only the one-argument wrapper is exported.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Options } from 'msgpackr';
import { CrdtWireError } from './errors.js';
import type { WireResult } from './errors.js';
import { crdtLimits } from './limits.js';

const common: Options = {
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  sequential: false,
};

const packr = new Packr({ ...common, useFloat32: 0 });
const unpackr = new Unpackr({ ...common, int64AsType: 'number', copyBuffers: true });

/** Encodes a wire value (the output of a `toWire`). */
export function encodeWire(wire: unknown): Uint8Array {
  return packr.pack(wire);
}

/** Decodes bytes into a wire value for a `fromWire`; never throws. */
export function decodeWire(bytes: Uint8Array, bytesMax: number = crdtLimits.wireBytesMax): WireResult<unknown> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: new CrdtWireError('', 'expected bytes') };
  if (bytes.length === 0) return { ok: false, error: new CrdtWireError('', 'no bytes') };
  if (bytes.length > bytesMax) return { ok: false, error: new CrdtWireError('', `${bytes.length} bytes is more than ${bytesMax}`) };
  try {
    return { ok: true, value: unpackr.unpack(bytes) as unknown };
  } catch (e) {
    return { ok: false, error: new CrdtWireError('', `not msgpack (${e instanceof Error ? e.message : 'unknown error'})`) };
  }
}
