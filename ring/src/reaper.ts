/**
 * Tombstone reaping: forgetting deleted keys, bounded and safe.
 *
 * A delete leaves a tombstone (crdt: a deleted record keeps its deletion stamp and absorbs every
 * write). Tombstones are what stops an old copy of the record — on a replica that missed the
 * delete, in a fallback's hinted data, in a handoff stream — from bringing it back: merged with
 * the tombstone, it stays deleted. Dropping a tombstone therefore risks resurrection, and the
 * reaper drops one only when all of these hold:
 *   - it is older than the grace period (`tombstoneGraceMs`), long enough for hinted handoff,
 *     read repair and anti-entropy to have carried the delete everywhere it can go;
 *   - every owner of the partition is up and holds exactly this tombstone (same hash: asked with
 *     `reap-check`), so no owner has a live copy that anti-entropy would spread again;
 *   - every other ring member is up, and neither it nor any departed node that is up (one that
 *     left or was removed; transfers.ts keeps the list) holds fallback data of the partition
 *     (`foreign-check`): a fallback may hold a copy from before the delete, or written after it
 *     by a coordinator that had not heard of it, which hinted handoff would bring back;
 *   - no copy was absorbed into the tombstone within the grace period either (an owner restarts
 *     the clock of a tombstone when a live copy merges into it: stray copies trickle in);
 *   - the partition is not moving (no pending transfer from or to anyone);
 *   - the run is the partition's primary's, one partition at a time, at most `reapKeysMax` keys.
 * Each owner then deletes the key only if it still holds that very tombstone (`reap`).
 *
 * What remains (docs/ring.md, "Tombstones"): a node that held such a copy as a fallback and was
 * away (down or partitioned — a departed node that is down is not waited for) when the reaper
 * ran can hand that copy back after the reap, and the record reappears with that copy's
 * contents. The grace period must exceed
 * how long a node may be away and still be let back in with its data (default: a week); a node
 * away longer should be removed and wiped.
 */
import type { Ack, ForeignReply, HeldReply, VnodeCommand } from './messages.js';

export type Ask = <R>(node: string, cmd: VnodeCommand) => Promise<R>;

/** The candidates that every owner reported holding. */
export function heldByAll(candidates: readonly (readonly [string, number])[], held: readonly (readonly string[])[]): [string, number][] {
  const sets = held.map((h) => new Set(h));
  return candidates.filter(([sk]) => sets.every((s) => s.has(sk))).map(([sk, h]) => [sk, h]);
}

/**
 * Reaps what every owner holds of `candidates`, provided none of `others` (the other ring
 * members, all up) holds fallback data of the partition; resolves with the number reaped.
 */
export async function reapPartition(ask: Ask, owners: readonly string[], others: readonly string[], candidates: readonly (readonly [string, number])[]): Promise<number> {
  if (candidates.length === 0) return 0;
  const foreign = await Promise.all(others.map((o) => ask<ForeignReply>(o, { c: 'foreign-check' })));
  if (foreign.some((f) => !f.ok || f.holds)) return 0;
  const answers = await Promise.all(owners.map((o) => ask<HeldReply>(o, { c: 'reap-check', keys: candidates })));
  if (answers.some((a) => !a.ok)) return 0;
  const keys = heldByAll(candidates, answers.map((a) => (a.ok ? a.held : [])));
  if (keys.length === 0) return 0;
  const acks = await Promise.all(owners.map((o) => ask<Ack>(o, { c: 'reap', keys })));
  return acks.every((a) => a.ok) ? keys.length : 0;
}
