/**
 * What a command may do to its surroundings: write to stdout/stderr, read the environment,
 * and reach the outside world through a runtime World. Tests pass their own.
 */
import type { World } from '@shoal/runtime';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** The outside world; created on first use so `shoal --help` touches nothing. */
  world(): World;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); for long-running commands. */
  stopSignal(): Promise<string>;
}

/** A failure the user can act on: printed as one line, exit status 1. */
export class CliError extends Error {
  override name = 'CliError';
}
