/**
 * Where the agent's standalone process entry is, for parents that start agents as child
 * processes (`shoal node start --sim-agents K`, the benchmark).
 */
import { fileURLToPath } from 'node:url';

export const agentMainPath: string = fileURLToPath(new URL('./main.js', import.meta.url));
