/**
 * Rejections and decoder statistics.
 *
 * Every decoder in this package (message, batch, sealed packet, session frame, each handshake
 * step) answers any input with either an accepted value or a `Rejection`: a category, stable
 * and small enough to be a metric label, plus a human reason naming the path or offset.
 *
 * Invariant kept by every decoder that is given a `DecodeStats`: each call counts exactly one
 * outcome, so `accepted + rejected === calls` and the per-category counters sum to `rejected`.
 * The fuzzer (test/fuzz.ts) checks both after millions of hostile frames.
 */

/** Why a frame was rejected. Append new categories; never rename one (dashboards use them). */
export const rejectCategories = [
  'frame-too-large', // input longer than the frame/packet/batch byte limit
  'truncated', // input ends before a declared length or before the first byte
  'trailing-bytes', // a complete value followed by extra bytes
  'depth', // containers nested deeper than depthMax
  'string-too-long', // a msgpack str longer than stringBytesMax
  'bin-too-long', // a msgpack bin longer than binBytesMax
  'array-too-long', // an array longer than arrayLengthMax
  'map-too-large', // a map with more than mapSizeMax entries
  'too-many-elements', // more than elementsMax values in one body
  'ext-type', // any msgpack ext type (we use none)
  'reserved-byte', // msgpack's never-used byte 0xc1
  'bad-key', // a map key that is not a string
  'proto-key', // a map key __proto__, constructor or prototype
  'int-range', // a 64-bit integer outside the safe integer range
  'bad-utf8', // a str that is not valid UTF-8
  'bad-frame', // not an [id, body] frame (or not a batch frame), id not a u16
  'unknown-type', // message id not in the registry
  'schema', // body does not match its message type's schema
  'batch-too-large', // more items in a batch than batchItemsMax
  'malformed', // msgpackr refused what the scanner accepted (a bug: should stay at 0)
  'version', // unknown version byte or protocol version
  'auth', // authentication failed: no key opens it, bad proof, wrong cluster
  'counter', // a session frame out of sequence (replayed, reordered or dropped)
  'unexpected', // a valid message at the wrong moment (handshake state machines)
] as const;

export type RejectCategory = (typeof rejectCategories)[number];

/** The answer of a decoder to bytes it will not accept. */
export interface Rejection {
  readonly ok: false;
  readonly category: RejectCategory;
  /** One sentence for logs, naming the path or byte offset where it helps. */
  readonly reason: string;
}

export function reject(category: RejectCategory, reason: string): Rejection {
  return { ok: false, category, reason };
}

/** A plain, JSON-serialisable copy of the counters, for metrics. */
export interface StatsSnapshot {
  readonly accepted: number;
  readonly rejected: number;
  readonly byCategory: Record<RejectCategory, number>;
}

function zeroCounts(): Record<RejectCategory, number> {
  const counts = {} as Record<RejectCategory, number>;
  for (const c of rejectCategories) counts[c] = 0;
  return counts;
}

/** Outcome counters of one decoder. */
export class DecodeStats {
  accepted = 0;
  rejected = 0;
  readonly byCategory: Record<RejectCategory, number> = zeroCounts();

  accept(): void {
    this.accepted++;
  }

  /** Counts `r` and returns it, so a decoder can `return stats.reject(...)`. */
  reject(r: Rejection): Rejection {
    this.rejected++;
    this.byCategory[r.category]++;
    return r;
  }

  snapshot(): StatsSnapshot {
    return { accepted: this.accepted, rejected: this.rejected, byCategory: { ...this.byCategory } };
  }
}
