/**
 * @shoal/cli — the `shoal` command. `bin/shoal.js` runs `src/bin.ts`; `runCli` runs a command
 * line in-process (tests, embedding) against any `CliIO`.
 */
export { runCli, commands } from './main.js';
export { CliError, type CliIO } from './io.js';
export type { Command } from './command.js';
