/**
 * Limits: every decoder in Shoal bounds what a peer can make it do ("put a limit on
 * everything", TigerBeetle style). A peer that holds no key is stopped by authentication; a peer
 * that does (or a bug) is still stopped here, before msgpackr allocates anything.
 *
 * `WireLimits` bound one message body. They are checked by the scanner (scan.ts) in one linear
 * pass over the raw bytes, so the cost of rejecting a hostile frame is proportional to the bytes
 * actually received, never to the lengths it declares. Message types may override any of them
 * (tighter for handshakes, looser for bulk transfer); the codec resolves the effective limits
 * per type once and caches them.
 *
 * Why these defaults: a message is one unit of protocol work (a gossip packet, an actor
 * message, a handoff chunk), so 1 MiB is generous; 32 levels of nesting is deeper than any
 * entity record; 64 KiB strings hold any name, path or document key; elementsMax caps the number
 * of JavaScript values one body can make msgpackr allocate.
 */
import { LimitsError } from './errors.js';

export interface WireLimits {
  /** Encoded size of one frame (`[id, body]`) or of one item's body inside a batch, in bytes. */
  readonly frameBytesMax: number;
  /** Containers (arrays, maps) nested inside one body; a scalar body has depth 0. */
  readonly depthMax: number;
  /** Bytes of one msgpack str (UTF-8 bytes, not characters). */
  readonly stringBytesMax: number;
  /** Bytes of one msgpack bin. */
  readonly binBytesMax: number;
  /** Elements of one array. */
  readonly arrayLengthMax: number;
  /** Entries of one map. */
  readonly mapSizeMax: number;
  /** Values in one body, counting every key, value and container. */
  readonly elementsMax: number;
}

/** Bounds of a batch frame as a whole (its items are bounded by their own types' limits). */
export interface BatchLimits {
  /** Messages in one batch frame. */
  readonly batchItemsMax: number;
  /** Encoded size of one batch frame, in bytes. */
  readonly batchBytesMax: number;
}

export const defaultWireLimits: WireLimits = Object.freeze({
  frameBytesMax: 1024 * 1024,
  depthMax: 32,
  stringBytesMax: 64 * 1024,
  binBytesMax: 1024 * 1024,
  arrayLengthMax: 65_536,
  mapSizeMax: 65_536,
  elementsMax: 131_072,
});

export const defaultBatchLimits: BatchLimits = Object.freeze({
  batchItemsMax: 4096,
  batchBytesMax: 4 * 1024 * 1024,
});

/** Largest value any limit may take: keeps counters in int32 and frames under 1 GiB. */
export const limitValueMax = 0x3fff_ffff;
/** Deepest nesting a limits object may allow (msgpackr and the validators recurse). */
export const depthMaxCeiling = 512;

function checkLimit(name: string, value: unknown, ceiling: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > ceiling) {
    throw new LimitsError(`${name} must be an integer from 1 to ${ceiling}, got ${String(value)}`);
  }
  return value;
}

/** `base` with `overrides` applied, validated and frozen. Throws `LimitsError`. */
export function resolveLimits(base: WireLimits, overrides?: Partial<WireLimits>): WireLimits {
  const merged = { ...base, ...overrides };
  return Object.freeze({
    frameBytesMax: checkLimit('frameBytesMax', merged.frameBytesMax, limitValueMax),
    depthMax: checkLimit('depthMax', merged.depthMax, depthMaxCeiling),
    stringBytesMax: checkLimit('stringBytesMax', merged.stringBytesMax, limitValueMax),
    binBytesMax: checkLimit('binBytesMax', merged.binBytesMax, limitValueMax),
    arrayLengthMax: checkLimit('arrayLengthMax', merged.arrayLengthMax, limitValueMax),
    mapSizeMax: checkLimit('mapSizeMax', merged.mapSizeMax, limitValueMax),
    elementsMax: checkLimit('elementsMax', merged.elementsMax, limitValueMax),
  });
}

/** `base` with `overrides` applied, validated and frozen. Throws `LimitsError`. */
export function resolveBatchLimits(base: BatchLimits, overrides?: Partial<BatchLimits>): BatchLimits {
  const merged = { ...base, ...overrides };
  return Object.freeze({
    // A batch frame holds 1 + 2·items msgpack values in one array; keep that an int32.
    batchItemsMax: checkLimit('batchItemsMax', merged.batchItemsMax, limitValueMax >> 1),
    batchBytesMax: checkLimit('batchBytesMax', merged.batchBytesMax, limitValueMax),
  });
}
