/** The shape of one `shoal` command. */
import type { FlagSpec, ParsedArgs, PositionalSpec } from './args.js';
import type { CliIO } from './io.js';

export interface Command {
  /** Words after `shoal`, e.g. ['node', 'start']. */
  path: string[];
  summary: string;
  flags: FlagSpec[];
  positionals: PositionalSpec[];
  /** Returns the process exit status. */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}
