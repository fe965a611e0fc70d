/**
 * @shoal/tooling — where the shared configuration lives, for tests of the tooling itself.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root (this file is packages/tooling/dist/src/index.js once built). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const eslintConfigPath = path.join(repoRoot, 'packages/tooling/eslint.config.js');
