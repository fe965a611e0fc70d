/**
 * Every bound of the agent in one place (STYLE habit 6), each with its reason. The wire bounds
 * of requests (string sizes, NIC and metadata counts) live with their schemas in
 * packages/wire/src/messages.ts (`agentLimits`).
 */
export const limits = {
  /** Reservations (pending + provisioned) one ledger holds; past it `reserve` answers `limit`. A host runs hundreds of zones, not 100k. */
  reservationsMax: 100_000,
  /** Lease of a reservation when the request gives none, ms (FiFo's lock was 60 s). */
  leaseMsDefault: 60_000,
  /** The expiry timer re-checks at least this often, so a wall-clock jump is noticed, ms. */
  expiryCheckMaxMs: 10_000,
  /** Driver operations running at once; more are answered `busy`. */
  driverOpsMax: 32,
  /** Zones one host may report; the driver list is cut (and a warning logged) past it. */
  zonesMax: 10_000,
  /** Snapshots per zone (sim driver); vmadm enforces its own. */
  snapshotsMax: 64,
  /** How long a core node waits for an agent's answer, ms. */
  queryTimeoutMsDefault: 5_000,
  /** A zone create may take this long (vmadm create pulls images, builds datasets), ms. */
  createTimeoutMs: 15 * 60_000,
  /** Any other driver command, ms. */
  commandTimeoutMs: 5 * 60_000,
  /** The agent refreshes its zone list from the driver this often, ms. */
  zoneRefreshMs: 30_000,
  /** The record publisher checks for a change this often, ms: a change reaches the store within about this (plus one write). */
  publishIntervalMs: 250,
  /** An unchanged record is published again this often, so a store that lost it or holds an older one is repaired, ms. */
  publishRefreshMs: 5 * 60_000,
  /** Longest wait between failed publishes (doubling from publishIntervalMs), ms. */
  publishBackoffMaxMs: 10_000,
  /** How long one publish waits for the core node's answer (a quorum read and write), ms. */
  publishTimeoutMs: 5_000,
  /** Subscribers to a driver's zone state changes. */
  zoneListenersMax: 64,
} as const;
