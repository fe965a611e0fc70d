/**
 * Limits of @shoal/crdt ("put a limit on everything", TigerBeetle style; STYLE.md habit 6).
 *
 * Two kinds of bound:
 * - **Operation limits** (`…Max`) are checked when a replica makes a change: an operation that
 *   would pass one throws `CrdtLimitError` (or `CrdtValueError` for a bad string or value).
 * - **Decode limits** are what `fromWire` accepts. Counts (elements, keys, writers, cloud dots)
 *   get `wireSlack` times their operation limit, because a merge can never refuse: two replicas
 *   that each stay under `setElementsMax` may together pass it, and a merged state must always
 *   decode again. Lengths and depths cannot grow by merging and get no slack.
 *
 * Why these numbers: an entity record is small (a VM is ~10 fields); 1,024 set elements hold any
 * tag or owner list; 256 writers per version vector covers every node that ever coordinated a
 * write on one entity (writers are never forgotten, see causal.ts); `counterPartMax` keeps the
 * sum of 256 writers' parts exact in a float64 (256 × 2^45 = 2^53); 1 MiB is the wire's frame
 * limit (`@shoal/wire`), so any state we accept can travel in one frame.
 */
export const crdtLimits = Object.freeze({
  /** UTF-8 bytes of a node id (the writer named in dots and clock stamps); as @shoal/wire. */
  nodeIdBytesMax: 128,
  /** UTF-8 bytes of a set element or a map key. */
  keyBytesMax: 256,
  /** UTF-8 bytes of one string inside a register value. */
  stringBytesMax: 4096,
  /** Nesting of arrays and objects inside one register value (a scalar is depth 0). */
  valueDepthMax: 8,
  /** Values inside one register value, counting every key, element and container. */
  valueElementsMax: 256,
  /** Elements of one ORSWOT (operation limit). */
  setElementsMax: 1024,
  /** Keys of one OR-map (operation limit). */
  mapKeysMax: 256,
  /** OR-maps nested inside one another in a schema. */
  kindDepthMax: 4,
  /** Fields of one record schema. */
  recordFieldsMax: 64,
  /** Distinct writers in one causal context or PN-counter (operation limit). */
  nodesMax: 256,
  /** Largest positive or negative part of one writer in a PN-counter. */
  counterPartMax: 2 ** 45,
  /** Dots outside the version vector in one causal context (decode limit, before slack). */
  cloudDotsMax: 4096,
  /** Decode limits for counts are `wireSlack` × the operation limit. */
  wireSlack: 4,
  /** Encoded bytes that `decodeWire` / `decodeRecord` accept. */
  wireBytesMax: 1024 * 1024,
});

export type CrdtLimits = typeof crdtLimits;

/** The decode limit of a count limit (see the header). */
export function wireCountMax(limit: number): number {
  return limit * crdtLimits.wireSlack;
}
