#!/usr/bin/env node
// The `shoal` command: runs the compiled CLI (packages/cli/dist). Plain JavaScript so that it
// can tell a user who has not built the workspace what to do.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const main = fileURLToPath(new URL('../dist/src/bin.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('shoal: not built yet: run "npm run build" (or "npm ci") in the repository first\n');
  process.exit(1);
}
await import(pathToFileURL(main).href);
