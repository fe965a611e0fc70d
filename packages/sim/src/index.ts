/**
 * @shoal/sim — the deterministic simulator.
 *
 * Implements the runtime's World (Clock, Random, Transport, Storage, Logger) for many nodes in
 * one process, on simulated time and a simulated network with seeded faults: per-link delay,
 * loss, duplication, reordering and bandwidth; symmetric and one-way partitions; crash, restart
 * and pause of a node, with storage that keeps exactly what was committed. One seed drives all
 * of it, so a failing run prints `seed=<n>` and `SEED=<n>` replays it exactly. Only tests import
 * this package. See README.md for the model and its limits.
 */
export { Sim, formatLogLine, type SimOptions, type SimStats, type NodeRef } from './sim.js';
export { SimNode, type NodeStatus } from './node.js';
export { SimNetwork } from './network.js';
export { defaultLink, defaultLoopback, type LinkConfig } from './links.js';
export type { NetStats, NetLimits, DropReason } from './hosts.js';
export { Trace } from './trace.js';
export { deriveSeed, Digest } from './seed.js';
export type { RunUntilOptions } from './scheduler.js';
export { runSimulation, seedsFromEnv, simTest, type SimRunResult, type SimFailureDetails, type SimScenario, type RunOptions, type TapLike, type SimTestOptions } from './runner.js';
export {
  SimTimeoutError,
  SimLivelockError,
  SimReentryError,
  SimInvariantError,
  SimConfigError,
  SimBindError,
  StorageClosedError,
} from './errors.js';
