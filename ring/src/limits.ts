/**
 * Limits and fixed parameters of the ring (STYLE.md habit 6: a limit on everything, named
 * `…Max`). Some of these are part of the ownership *protocol*, not tuning knobs: every node must
 * compute the same owners from the same committed ring, so the load factor, the hashring vnode
 * count and the partition-key format are constants here, and changing one changes every layout
 * (treat it like a wire-format change: a new ring format version, never a config option).
 */

/** Default partition count P (riak_core's `ring_creation_size` default is 64 too). */
export const partitionCountDefault = 64;
/**
 * Largest P. Ownership costs O(P × N) after one continuum build, and every node keeps P
 * vnodes' worth of metadata; 4096 is riak_core's practical upper end as well.
 */
export const partitionCountMax = 4096;
/** Default replication factor N (DESIGN.md §3: N=3, R=2, W=2). */
export const replicationDefault = 3;
/** Largest N. More replicas than this is a configuration mistake, not a durability plan. */
export const replicationMax = 9;
/** Largest number of ring members (core nodes). */
export const membersMax = 256;
/** Largest member weight (weights are integers 1 … weightMax, relative capacities). */
export const weightMax = 16;
/**
 * Largest sum of member weights. Each unit of weight is 256 points on the hashring continuum
 * (continuumVnodesPerWeight × 4), so this bounds the continuum at 262,144 points: building it
 * and the owners for P = 4096 then takes a few hundred ms, once per committed ring.
 */
export const weightTotalMax = 1024;
/** Node names and replacement tokens, in UTF-8 bytes (same as the wire's node-name limit). */
export const nodeNameBytesMax = 128;
/** Cluster names, in UTF-8 bytes (same as the wire's cluster-name limit). */
export const clusterNameBytesMax = 64;
/** Buckets, in UTF-8 bytes. */
export const bucketBytesMax = 256;
/**
 * Keys inside a bucket, in UTF-8 bytes. Records are stored under [partition, bucket, key] and
 * handoff marks under [partition, 0, bucket, key]; the storage layer allows 1,024 bytes per
 * tuple (9 per number, each string's bytes + 1): 9 + 9 + 257 + 741 = 1,016. (It was 768, which
 * let a long bucket and key pass here and then fail in storage.)
 */
export const keyBytesMax = 740;
/** Staged membership changes waiting for one commit. */
export const stagedChangesMax = 64;

/**
 * Bounded-loads factor c = 1 + ε = 5/4 (Mirrokni, Thorup, Zadimoghaddam 2018): no member holds
 * more than ceil(c × its fair share). Kept as an exact fraction so caps are computed with
 * integer arithmetic (no float rounding at the ceiling). Protocol constant.
 */
export const loadFactor = Object.freeze({ numerator: 5, denominator: 4 });
/**
 * hashring vnodes per unit of weight: a member of weight w gets exactly VPW × w vnodes, i.e.
 * 4 × VPW × w points on the continuum, whatever the other members are. (hashring's own
 * weighting, floor(w / W × 40 × M) vnodes, depends on every member's weight, so one join would
 * shift everyone's points; it is used only when a member's vnode count equals the default 40,
 * which VPW × w never does.) Protocol constant.
 */
export const continuumVnodesPerWeight = 64;
/** Points per vnode: hashring's ketama mode (4 points from each MD5 digest). Protocol constant. */
export const continuumPointsPerVnode = 4;

// ── the stateful ring (store, handoff, anti-entropy, coverage, reaping) ─────────────────────

/** Records per handoff batch (one message, acknowledged after the receiver persisted it). */
export const handoffBatchItemsMax = 256;
/** Encoded bytes per handoff batch (well under the actor transport's 4 MiB frame). */
export const handoffBatchBytesMax = 512 * 1024;
/** Handoff sessions one node runs at once (outbound), whatever the configuration asks. */
export const handoffConcurrencyMax = 16;
/**
 * Leaves (segments) of a partition's anti-entropy hash tree. Both sides of an exchange must
 * agree on it, so it is a protocol constant: 256 × 4 bytes per exchange round.
 */
export const aaeSegments = 256;
/** Fan-out of the inner levels of the hash tree (256 segments → 16 → 1). */
export const aaeFanout = 16;
/** Keys one exchange may repair (fetch, merge both ways); the rest wait for the next exchange. */
export const aaeKeysPerExchangeMax = 256;
/** Records read from storage per build tick of one vnode's hash tree. */
export const aaeBuildRecordsPerTickMax = 2_000;
/** Keys (or records) in one page of a coverage query. */
export const listPageMax = 1_000;
/** Records one vnode reads for one page of a coverage query (a selective filter stops here). */
export const foldScanMax = 10_000;
/**
 * Encoded record bytes in one vnode's answer to a list page with values (a record that would
 * pass it waits for the next page, unless it is the answer's first): an answer fits a transport
 * frame, and a page's coordinator holds at most P × max(this, one record) at once.
 */
export const foldReplyBytesMax = 256 * 1024;
/** Nodes (operators and leaves) in one coverage filter. */
export const filterNodesMax = 32;
/** Nesting of a coverage filter (and / or / not). */
export const filterDepthMax = 6;
/** Bytes of a continuation token. */
export const continuationBytesMax = 2_048;
/** Tombstones one reaper round may drop per partition. */
export const reapBatchMax = 64;
/** Keys a replica accepts in one reap-check or reap request. */
export const reapKeysMax = 256;
/** Commands (or replies) in one batch of the request multiplexer (mux.ts), at most. */
export const muxBatchItemsMax = 256;
/** Estimated bytes of one multiplexer batch, at most; a larger single item goes alone. */
export const muxBatchBytesMax = 256 * 1024;
