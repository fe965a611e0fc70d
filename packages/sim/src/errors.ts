/**
 * Named errors of the simulator. Each message is one sentence a test author can act on.
 */

/** A run did not reach its condition in time, or ran out of events first. */
export class SimTimeoutError extends Error {
  override name = 'SimTimeoutError';
}

/** Too many events at one simulated instant: something keeps scheduling work for "now". */
export class SimLivelockError extends Error {
  override name = 'SimLivelockError';
}

/** A `run*` call while the simulation is already running (the driver is not re-entrant). */
export class SimReentryError extends Error {
  override name = 'SimReentryError';
}

/** An invariant registered with `sim.invariant()` failed after an event. */
export class SimInvariantError extends Error {
  override name = 'SimInvariantError';
}

/** Bad simulator configuration or use (unknown node, bad link settings, duplicate name). */
export class SimConfigError extends Error {
  override name = 'SimConfigError';
}

/** Binding an address the node does not own, or a port already in use. */
export class SimBindError extends Error {
  override name = 'SimBindError';
}

/** Use of a simulated Storage after `close()`. */
export class StorageClosedError extends Error {
  override name = 'StorageClosedError';
}
