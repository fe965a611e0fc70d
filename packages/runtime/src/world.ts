/**
 * World: the bundle of outside-world services a component is given. Production code gets
 * `nodeWorld()`; simulated tests get one World per simulated node from packages/sim.
 */
import { nodeClock, type Clock } from './clock.js';
import { nodeRandom, type Random } from './random.js';
import { nodeTransport } from './node-transport.js';
import { jsonLogger, type LogLevel, type Logger } from './logger.js';
import type { Transport } from './transport.js';
import type { Storage } from './storage.js';

/** LMDB loads on first use: processes that never open storage (SWIM members, agents' CLIs) skip its ~3 MiB and ~20 ms. */
export async function openLmdbStorageLazily(path: string): Promise<Storage> {
  const { openLmdbStorage } = await import('./lmdb-storage.js');
  return openLmdbStorage(path);
}

export interface World {
  readonly clock: Clock;
  readonly random: Random;
  readonly transport: Transport;
  readonly logger: Logger;
  /** Opens the storage environment rooted at `path` (a directory). */
  openStorage(path: string): Promise<Storage>;
}

export function nodeWorld(opts: { logLevel?: LogLevel; logWrite?: (s: string) => void } = {}): World {
  const clock = nodeClock();
  return {
    clock,
    random: nodeRandom(),
    transport: nodeTransport(),
    logger: jsonLogger(clock, opts.logLevel ?? 'info', opts.logWrite),
    openStorage: openLmdbStorageLazily,
  };
}
