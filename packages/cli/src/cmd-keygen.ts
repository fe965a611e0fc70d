/** `shoal keygen`: prints a new cluster key (base64 of 32 random bytes). */
import { formatKey, generateKey } from '@shoal/wire';
import type { Command } from './command.js';

export const keygen: Command = {
  path: ['keygen'],
  summary: 'Print a new cluster key: base64 of 32 random bytes. Put it on the first line of a key file to make it the primary key.',
  flags: [],
  positionals: [],
  async run(_args, io) {
    io.out(`${formatKey(generateKey(io.world().random))}\n`);
    return 0;
  },
};
